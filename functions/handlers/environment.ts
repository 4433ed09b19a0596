import * as z from 'zod';
import { type ReconcileSettings, settingsFromEnv } from '../orchestration/settings.js';

/**
 * The Lambda functions' environment, validated once at cold start. The CDK stack sets exactly these;
 * reconciliation settings come from `STOPGUARD_<SETTING>` variables (see settings.ts: `envName`).
 */
export const EnvVar = {
  tableName: 'STOPGUARD_TABLE_NAME',
  queueUrl: 'STOPGUARD_QUEUE_URL',
  deadLetterQueueUrl: 'STOPGUARD_DLQ_URL',
  /** Accounts' credentialsRef must name a secret under this prefix (IAM allows nothing else either). */
  secretPrefix: 'STOPGUARD_SECRET_PREFIX',
  bybitBaseUrl: 'BYBIT_BASE_URL',
  auditRetentionDays: 'STOPGUARD_AUDIT_RETENTION_DAYS',
} as const;

const environmentSchema = z.object({
  [EnvVar.tableName]: z.string().min(3),
  [EnvVar.queueUrl]: z.url(),
  [EnvVar.deadLetterQueueUrl]: z.url(),
  [EnvVar.secretPrefix]: z.string().min(1).default('stopguard/'),
  [EnvVar.bybitBaseUrl]: z.url().default('https://api.bybit.com'),
  [EnvVar.auditRetentionDays]: z.coerce.number().int().min(1).max(3650).default(90),
});

export interface FunctionEnvironment {
  readonly tableName: string;
  readonly queueUrl: string;
  readonly deadLetterQueueUrl: string;
  readonly secretPrefix: string;
  readonly bybitBaseUrl: string;
  readonly auditRetentionDays: number;
  readonly settings: ReconcileSettings;
}

export class InvalidEnvironmentError extends Error {
  override readonly name = 'InvalidEnvironmentError';
}

/** Reads and validates the environment; throws `InvalidEnvironmentError` naming every problem. */
export function readEnvironment(env: Readonly<Record<string, string | undefined>>): FunctionEnvironment {
  const parsed = environmentSchema.safeParse(env);
  if (!parsed.success) {
    const why = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new InvalidEnvironmentError(`invalid function environment: ${why}`);
  }
  const e = parsed.data;
  return {
    tableName: e[EnvVar.tableName],
    queueUrl: e[EnvVar.queueUrl],
    deadLetterQueueUrl: e[EnvVar.deadLetterQueueUrl],
    secretPrefix: e[EnvVar.secretPrefix],
    bybitBaseUrl: e[EnvVar.bybitBaseUrl],
    auditRetentionDays: e[EnvVar.auditRetentionDays],
    settings: settingsFromEnv(env),
  };
}
