import type { ReconcileSettings } from '#contracts/settings.js';
import type { AccountDirectory, AccountRecord } from '#ports/accounts.js';
import type { AuditLog } from '#ports/audit.js';
import type { CancelCap } from '#ports/cap.js';
import type { Clock } from '#ports/clock.js';
import type { ExchangeSession } from '#ports/exchange.js';
import type { FleetGuard } from '#ports/fleet.js';
import type { IdSource } from '#ports/ids.js';
import type { WorkQueue } from '#ports/queue.js';
import type { Random } from '#ports/random.js';
import type { ReconciliationStore } from '#ports/store.js';
import type { Telemetry } from '#ports/telemetry.js';

/**
 * Every piece of I/O the orchestration touches. The AWS handlers, the local runner and the
 * deterministic simulation each build one of these; the orchestration code is the same for all.
 */
export interface ReconcilerDeps {
  readonly clock: Clock;
  readonly ids: IdSource;
  /** Retry jitter; seeded in the simulation. */
  readonly random: Random;
  readonly accounts: AccountDirectory;
  readonly store: ReconciliationStore;
  readonly cap: CancelCap;
  /** Replace mode's own budget of stops placed, per account and in total per window (same counters' table). */
  readonly placementCap: CancelCap;
  /** The pause and the request budget every account's exchange access shares. */
  readonly fleet: FleetGuard;
  readonly queue: WorkQueue;
  readonly audit: AuditLog;
  readonly telemetry: Telemetry;
  /** Opens an exchange session for an account (credentials resolved and cached by the implementation). */
  exchangeFor(account: AccountRecord): Promise<ExchangeSession>;
  /**
   * The exchange refused the account's keys: the next session reads them afresh (a rotated key is
   * used at once rather than when its cached copy expires). Absent where keys are not cached.
   */
  forgetKeys?(account: AccountRecord): void;
  /** Global settings; an account's own overrides are applied on top. */
  readonly settings: ReconcileSettings;
}
