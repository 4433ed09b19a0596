/**
 * Metric names, one place. Each is a count per invocation unless noted; the alarms in infra/ are built
 * on these exact names.
 */
export const Metric = {
  ChecksRun: 'ChecksRun',
  CompleteSnapshots: 'CompleteSnapshots',
  UnknownSnapshots: 'UnknownSnapshots',
  SuspectsRaised: 'SuspectsRaised',
  /** A suspect turned out to be open: the exchange returned an incomplete response. */
  IncompleteResponsesObserved: 'IncompleteResponsesObserved',
  DistrustedSnapshots: 'DistrustedSnapshots',
  ConfirmsRun: 'ConfirmsRun',
  ConfirmsResent: 'ConfirmsResent',
  CancelsExecuted: 'CancelsExecuted',
  CancelsFailed: 'CancelsFailed',
  /** Verified orphans not cancelled because the suspect changed hands just before (a race, resolved by its winner). */
  CancelsAbandoned: 'CancelsAbandoned',
  /** Orders kept because nothing in history proves the close: the exchange disagrees with itself. */
  KeptForLackOfEvidence: 'KeptForLackOfEvidence',
  CapRefusals: 'CapRefusals',
  ExchangeErrors: 'ExchangeErrors',
  /** The exchange refused an account's keys (invalid, expired, IP, permission): only a person can fix it. */
  AuthErrors: 'AuthErrors',
  /** The exchange banned the fleet's address (HTTP 403): every account pauses until it lifts. Once per ban. */
  IpBans: 'IpBans',
  /** Checks and confirmation passes put off: the fleet was paused or its request budget spent. */
  FleetDeferrals: 'FleetDeferrals',
  /** Gauge, seconds: age of the account's last complete snapshot. */
  SnapshotAgeSeconds: 'SnapshotAgeSeconds',
  /**
   * Live positions judged short of a stop, counted in every complete check while they stay so (the
   * alarm reads the maximum: above 0 while any is unprotected). The log line names account and symbol.
   */
  UnprotectedPositions: 'UnprotectedPositions',
  /**
   * Suspects that became stuck (undecided after `stuckAfterAttempts` or `stuckAfterMs`): each counted
   * once; its log line (decision "suspect-stuck") names it.
   */
  SuspectsStuck: 'SuspectsStuck',
  /**
   * Scheduler shard-minutes found unfinished by a later run (their run died or never came): that
   * shard's accounts may have missed up to a minute of checks. Each counted once, its log line names it.
   */
  ScheduleShardsLost: 'ScheduleShardsLost',
  /** Order listings the protection audit needed (a position's own stop did not cover it): its cost. */
  ProtectionOrderListings: 'ProtectionOrderListings',
  /** Stops replace mode placed on unprotected positions. */
  StopsPlaced: 'StopsPlaced',
  ShadowCancelsSkipped: 'ShadowCancelsSkipped',
  /** Registrations refused (unknown or disabled account, foreign symbol, future fill time): dead-lettered. */
  RegistrationsRejected: 'RegistrationsRejected',
  /** Gauge, milliseconds: one message handled, by its type (check, confirm, register). */
  CheckDurationMs: 'CheckDurationMs',
  ConfirmDurationMs: 'ConfirmDurationMs',
  RegisterDurationMs: 'RegisterDurationMs',
} as const;

export type MetricName = (typeof Metric)[keyof typeof Metric];

/**
 * Logs and metrics. Powertools (structured JSON logs, EMF metrics) on AWS; a console or an in-memory
 * counter locally and in simulation.
 */
export interface Telemetry {
  count(metric: MetricName, value?: number, dimensions?: Readonly<Record<string, string>>): void;
  gauge(metric: MetricName, value: number): void;
  /** A structured log line; `alarm` lines are written at error level so they stand out. */
  log(
    level: 'debug' | 'info' | 'warn' | 'error',
    message: string,
    fields?: Readonly<Record<string, unknown>>,
  ): void;
}
