import * as z from 'zod';
import { formatIssues } from '#contracts/issues.js';
import { SHARD_COUNTS, type ShardCount } from '#contracts/messages.js';
import { type ReconcileSettings, settingsFromEnv } from '#contracts/settings.js';

/**
 * The Lambda functions' environment, validated once at cold start. The CDK stack sets exactly these;
 * reconciliation settings come from `STOPGUARD_<SETTING>` variables (see settings.ts: `envName`).
 */
export const EnvVar = {
  tableName: 'STOPGUARD_TABLE_NAME',
  /** The alarm notifier's: the worker's log group it queries, and the topic it sends to. */
  workerLogGroup: 'STOPGUARD_WORKER_LOG_GROUP',
  alarmTopicArn: 'STOPGUARD_ALARM_TOPIC_ARN',
  queueUrl: 'STOPGUARD_QUEUE_URL',
  deadLetterQueueUrl: 'STOPGUARD_DLQ_URL',
  /** Accounts' credentialsRef must name a secret under this prefix (IAM allows nothing else either). */
  secretPrefix: 'STOPGUARD_SECRET_PREFIX',
  bybitBaseUrl: 'BYBIT_BASE_URL',
  /**
   * Origins the worker may send signed requests to besides Bybit's own HTTPS hosts, comma-separated
   * (`http://127.0.0.1:4010`): a local simulator or test stand-in, allowed only by saying so.
   */
  extraExchangeOrigins: 'STOPGUARD_EXTRA_EXCHANGE_ORIGINS',
  auditRetentionDays: 'STOPGUARD_AUDIT_RETENTION_DAYS',
  /** The scheduler's own queue of shard-minutes and its dead-letter queue (the scheduler only). */
  scheduleQueueUrl: 'STOPGUARD_SCHEDULE_QUEUE_URL',
  scheduleDeadLetterQueueUrl: 'STOPGUARD_SCHEDULE_DLQ_URL',
  /** How many shards the fleet is scheduled in: 1 up to 64, a power of two (see ports/schedule.ts). */
  scheduleShards: 'STOPGUARD_SCHEDULE_SHARDS',
  /** The register ingress's own dead-letter queue (the register function only). */
  registerDeadLetterQueueUrl: 'STOPGUARD_REGISTER_DLQ_URL',
} as const;

const environmentSchema = z.object({
  [EnvVar.tableName]: z.string().min(3),
  // Required by the functions that use them (see the wiring); the register function has neither.
  [EnvVar.queueUrl]: z.url().optional(),
  [EnvVar.deadLetterQueueUrl]: z.url().optional(),
  // Ends in "/": a prefix "stopguard" would also cover the secrets of a stack named "stopguard-other".
  [EnvVar.secretPrefix]: z.string().min(2).endsWith('/').default('stopguard/'),
  [EnvVar.bybitBaseUrl]: z.url().default('https://api.bybit.com'),
  [EnvVar.extraExchangeOrigins]: z
    .string()
    .default('')
    .transform((v) =>
      v
        .split(',')
        .map((o) => o.trim())
        .filter((o) => o !== ''),
    )
    .pipe(z.array(z.url({ protocol: /^https?$/ }))),
  [EnvVar.auditRetentionDays]: z.coerce.number().int().min(1).max(3650).default(90),
  [EnvVar.registerDeadLetterQueueUrl]: z.url().optional(),
  [EnvVar.scheduleQueueUrl]: z.url().optional(),
  [EnvVar.scheduleDeadLetterQueueUrl]: z.url().optional(),
  [EnvVar.scheduleShards]: z.coerce
    .number()
    .pipe(z.union(SHARD_COUNTS.map((n) => z.literal(n))))
    .default(1),
});

export interface FunctionEnvironment {
  readonly tableName: string;
  readonly queueUrl?: string;
  readonly deadLetterQueueUrl?: string;
  readonly secretPrefix: string;
  readonly bybitBaseUrl: string;
  readonly extraExchangeOrigins: readonly string[];
  readonly auditRetentionDays: number;
  readonly registerDeadLetterQueueUrl?: string;
  readonly scheduleQueueUrl?: string;
  readonly scheduleDeadLetterQueueUrl?: string;
  readonly scheduleShards: ShardCount;
  readonly settings: ReconcileSettings;
}

export class InvalidEnvironmentError extends Error {
  override readonly name = 'InvalidEnvironmentError';
}

/** Reads and validates the environment; throws `InvalidEnvironmentError` naming every problem. */
export function readEnvironment(env: Readonly<Record<string, string | undefined>>): FunctionEnvironment {
  const parsed = environmentSchema.safeParse(env);
  if (!parsed.success) {
    const why = formatIssues(parsed.error.issues);
    throw new InvalidEnvironmentError(`invalid function environment: ${why}`);
  }
  const e = parsed.data;
  const optional = {
    queueUrl: e[EnvVar.queueUrl],
    deadLetterQueueUrl: e[EnvVar.deadLetterQueueUrl],
    registerDeadLetterQueueUrl: e[EnvVar.registerDeadLetterQueueUrl],
    scheduleQueueUrl: e[EnvVar.scheduleQueueUrl],
    scheduleDeadLetterQueueUrl: e[EnvVar.scheduleDeadLetterQueueUrl],
  };
  return {
    tableName: e[EnvVar.tableName],
    ...Object.fromEntries(Object.entries(optional).filter(([, v]) => v !== undefined)),
    secretPrefix: e[EnvVar.secretPrefix],
    bybitBaseUrl: e[EnvVar.bybitBaseUrl],
    extraExchangeOrigins: e[EnvVar.extraExchangeOrigins],
    auditRetentionDays: e[EnvVar.auditRetentionDays],
    scheduleShards: e[EnvVar.scheduleShards],
    settings: settingsFromEnv(env),
  };
}

/** A variable this function cannot run without, or an `InvalidEnvironmentError` naming it. */
export function required(value: string | undefined, variable: string, whose: string): string {
  if (value === undefined)
    throw new InvalidEnvironmentError(`invalid function environment: ${whose} needs ${variable}`);
  return value;
}
