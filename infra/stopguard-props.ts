/**
 * What a Stopguard is configured with (`StopguardProps`), and the synth-time checks and derivations of
 * that configuration: the reconciliation settings, the secret prefix, the exchange origins. A bad value
 * fails `cdk synth` rather than a cold start.
 */
import type { Duration } from 'aws-cdk-lib';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { trustedExchangeOrigin } from '#adapters/bybit/hosts.js';
import { SHARD_COUNTS, type ShardCount } from '#contracts/messages.js';
import {
  applyOverrides,
  defaultSettings,
  envName,
  type ReconcileSettings,
  type SettingsOverrides,
} from '#contracts/settings.js';
import type { FixedEgressProps } from './stopguard-egress.js';

export type LogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';

export interface StopguardProps {
  /** How often each account is checked; must divide a minute. Default 10 s. */
  readonly cadence?: Duration;
  /** Wait between the fetch that missed a position and the confirming fetch. Default 5 s. */
  readonly confirmDelay?: Duration;
  /** Most orders cancelled per account per cap window. Default 10. */
  readonly capPerAccount?: number;
  /** Most orders cancelled across all accounts per cap window. Default 50. */
  readonly capGlobal?: number;
  /** Default 1 minute. */
  readonly capWindow?: Duration;
  /** How long a confirmation claim is held before a redelivery may retake it. Default 60 s. */
  readonly claimLease?: Duration;
  /**
   * Exchange requests all workers together may make per 5 s; default 0 (no budget). Set it when the
   * workers send from one address (a NAT gateway): at most 5/6 of the exchange's per-address limit,
   * 500 for Bybit's 600.
   */
  readonly fleetRequestsPer5s?: number;
  /**
   * Record every decision but cancel nothing. Default TRUE: a first deployment shows what it would do
   * (ShadowCancelsSkipped, the audit trail) before it is allowed to touch an order.
   */
  readonly shadow?: boolean;
  /** Any other reconciliation setting (evidence grace, distrust fraction, …); the named props win. */
  readonly settings?: SettingsOverrides;
  /**
   * Run the worker in a VPC whose NAT gateways give it fixed addresses (the `EgressAddresses` output),
   * so that API keys can be bound to them. Default none. Costs a NAT gateway per address (docs/DEPLOY.md).
   */
  readonly fixedEgress?: FixedEgressProps;
  /** Subscribed to the alarm topic when given; otherwise subscribe to the topic yourself. */
  readonly alarmEmail?: string;
  /** Powertools log level. Default INFO. */
  readonly logLevel?: LogLevel;
  /** Default https://api.bybit.com (an account record may name its own, e.g. the testnet). */
  readonly bybitBaseUrl?: string;
  /**
   * Accounts' credentials are secrets under this name prefix; the worker can read no other. Must end
   * with '/' (a prefix `stopguard` would also cover `stopguard-other/…`). Default `stopguard/`.
   */
  readonly secretPrefix?: string;
  /**
   * Origins (`http://10.0.0.5:4010`) the worker may send an account's signed requests to besides Bybit's
   * own HTTPS hosts. For test stand-ins only (a Bybit simulator): a request carries the account's API
   * key and signature. Default none.
   */
  readonly extraExchangeOrigins?: readonly string[];
  /** Alarm when an account has had no complete snapshot for this long. Default 10 minutes. */
  readonly staleAfter?: Duration;
  /** Audit entries expire (DynamoDB TTL) after this many days. Default 90. */
  readonly auditRetentionDays?: number;
  /** Default one month. */
  readonly logRetention?: RetentionDays;
  /** Most worker invocations at once (SQS event source maximum concurrency, 2–1000). Default 10. */
  readonly workerMaxConcurrency?: number;
  /**
   * Shards the scheduler splits the fleet into each minute: 1, 2, 4 … 64. Each shard is one run of
   * the scheduler listing its accounts and sending their checks; about 2,000 accounts per shard keeps
   * a shard's minute within seconds (docs/BENCHMARKS.md, scheduler). Default 1.
   */
  readonly scheduleShards?: ShardCount;
  /** Alarm when more incomplete responses than this are observed in 5 minutes. Default 20. */
  readonly incompleteResponsesPer5Minutes?: number;
  /** Alarm when more distrusted snapshots than this are seen in 5 minutes. Default 2. */
  readonly distrustedSnapshotsPer5Minutes?: number;
}

/** The shard count, if the schedule index can be split into it; anything else fails synth. */
export function validScheduleShards(shards: number | undefined): ShardCount {
  const valid = SHARD_COUNTS.find((n) => n === (shards ?? 1));
  if (valid === undefined) {
    throw new Error(`scheduleShards must be one of ${SHARD_COUNTS.join(', ')}, got ${shards}`);
  }
  return valid;
}

/** The settings the functions run with: defaults, then `settings`, then the named props. */
export function resolveSettings(props: StopguardProps): ReconcileSettings {
  const named = {
    cadenceMs: props.cadence?.toMilliseconds(),
    confirmDelayMs: props.confirmDelay?.toMilliseconds(),
    capPerAccount: props.capPerAccount,
    capGlobal: props.capGlobal,
    capWindowMs: props.capWindow?.toMilliseconds(),
    claimLeaseMs: props.claimLease?.toMilliseconds(),
    fleetRequestsPer5s: props.fleetRequestsPer5s,
    // Behind the stack's own NAT gateways every worker shares their addresses, and their bans.
    sharedEgress: props.fixedEgress === undefined ? undefined : true,
    shadow: props.shadow ?? true,
  };
  const defined = Object.fromEntries(Object.entries(named).filter(([, v]) => v !== undefined));
  // The functions' own validation, run at synth: a bad value fails `cdk synth`, not a cold start.
  return applyOverrides(defaultSettings, { ...props.settings, ...defined }, 'Stopguard props');
}

/** Every setting as the functions' environment variables, defaults included. */
export function settingsEnvironment(settings: ReconcileSettings): Record<string, string> {
  return Object.fromEntries(
    (Object.keys(settings) as (keyof ReconcileSettings)[]).map((key) => [
      envName(key),
      String(settings[key]),
    ]),
  );
}

/**
 * The secret prefix, if it is a literal prefix ending with '/'. The functions refuse the same at cold
 * start (environment.ts); IAM's `*` after it must not widen it.
 */
export function validSecretPrefix(secretPrefix: string): string {
  if (secretPrefix.length < 2 || !secretPrefix.endsWith('/') || /[*?]/.test(secretPrefix)) {
    throw new Error(
      `secretPrefix must be a literal prefix ending with '/' (e.g. "stopguard/"), got "${secretPrefix}"`,
    );
  }
  return secretPrefix;
}

/** Exact http(s) origins, as `URL` writes them; anything else fails synth rather than a cold start. */
export function validOrigins(origins: readonly string[]): string[] {
  return origins.map((origin) => {
    let url: URL;
    try {
      url = new URL(origin);
    } catch {
      throw new Error(`extraExchangeOrigins: "${origin}" is not a URL`);
    }
    if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.origin !== origin.replace(/\/$/, '')) {
      throw new Error(
        `extraExchangeOrigins: "${origin}" must be a bare http(s) origin like http://10.0.0.5:4010`,
      );
    }
    return url.origin;
  });
}

/** The base URL, if the worker would trust it: one of Bybit's HTTPS hosts or one of `extraOrigins`. */
export function validBaseUrl(bybitBaseUrl: string, extraOrigins: readonly string[]): string {
  try {
    trustedExchangeOrigin(bybitBaseUrl, extraOrigins);
  } catch (error) {
    throw new Error(`bybitBaseUrl: ${(error as Error).message}`);
  }
  return bybitBaseUrl;
}
