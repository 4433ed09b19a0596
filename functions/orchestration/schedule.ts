import type {
  ScheduleClaims,
  ShardCount,
  ShardMinute,
  ShardMinuteState,
  ShardQueue,
} from '#ports/schedule.js';
import { Metric } from '#ports/telemetry.js';
import type { ReconcilerDeps } from './dependencies.js';

/** What the scheduler function touches: account records, the fleet's pause, its claims and both queues. */
export interface SchedulerDeps
  extends Pick<ReconcilerDeps, 'clock' | 'accounts' | 'queue' | 'fleet' | 'telemetry' | 'settings'> {
  readonly claims: ScheduleClaims;
  readonly shardQueue: ShardQueue;
  /** How many shards the fleet is scheduled in (a deployment setting; see `SHARD_COUNTS`). */
  readonly shards: ShardCount;
}

export interface FanOutOutcome {
  /** Shard-minutes sent to the shard runs (claimed now, or claimed earlier and not yet started). */
  readonly shardsSent: number;
  /** Shard-minutes found dead or never started, and reported lost, by this run. */
  readonly shardsLost: number;
  /** Account records this run gave a schedule bucket (records stored before the index). */
  readonly accountsIndexed: number;
}

export const MINUTE_MS = 60_000;

/**
 * The longest a shard run may take: the scheduler function's timeout. A shard still running after it
 * has died (timeout, out of memory) and is reported lost.
 */
export const SHARD_RUN_LIMIT_MS = 50_000;

/** How long a fan-out may spend giving records their bucket; the rest waits for the next sweep. */
const INDEX_BUDGET_MS = 20_000;

/**
 * The once-a-minute fan-out. It claims each shard of the minutes it covers with one conditional
 * write and sends the shard-minute to the scheduler's queue; the shard runs (`runScheduleShard`)
 * list their accounts and send the checks. Its own work is a few reads and `shards` writes, whatever
 * the fleet's size.
 *
 * It covers the minute of its event's scheduled time (`scheduledAt`, EventBridge's `time`), the
 * minute after it, and the minute it actually runs in (when it runs late). Normally the previous run
 * already claimed the first, so only the next minute is claimed; after a first deploy, a missed run
 * or a late one, the rest of the current minute is covered too. Anchoring to calendar minutes makes
 * it indifferent to when in the minute the rule fires and to jitter between events: every slot
 * belongs to exactly one minute and one shard. A shard found claimed but not started is sent again
 * (its message may be lost, or the run that claimed it died before sending): a shard run starts it
 * only once, so a repeated event or a resend cannot double the load.
 *
 * It also notices lost shards: one of the event's minute or the minute before that has been running
 * longer than a run can live (its run died), and one of the minute before that never started (its
 * message never came). Each is reported once, as `ScheduleShardsLost`, naming the minute and shard: at most that
 * shard's minute of checks is lost. No write is made that a minute's read already shows would fail.
 */
export async function runScheduleFanOut(
  deps: SchedulerDeps,
  scheduledAt?: number,
  options: { readonly indexAccounts?: boolean } = {},
): Promise<FanOutOutcome> {
  const startedAt = deps.clock.now();
  const minute = Math.floor((scheduledAt ?? startedAt) / MINUTE_MS);
  const windows = [...new Set([minute, minute + 1, Math.floor(startedAt / MINUTE_MS)])].sort((a, b) => a - b);
  // A run that has been going longer than any run may live has died; a younger one is only late.
  const died = (s: ShardMinuteState) =>
    s.status === 'running' && (s.startedAt ?? 0) < startedAt - SHARD_RUN_LIMIT_MS;
  // Of the minute before, one never started is lost too: its slots are all past.
  let shardsLost = await reportLost(
    deps,
    (await deps.claims.shardsOf(minute - 1)).filter((s) => s.status === 'claimed' || died(s)),
  );
  const toSend: ShardMinute[] = [];
  for (const window of windows) {
    const states = await deps.claims.shardsOf(window);
    if (window === minute) shardsLost += await reportLost(deps, states.filter(died));
    const recorded = new Map(states.filter((s) => s.shards === deps.shards).map((s) => [s.shard, s.status]));
    for (let shard = 0; shard < deps.shards; shard++) {
      const shardMinute = { minute: window, shard, shards: deps.shards };
      const status = recorded.get(shard);
      if (status === 'claimed') toSend.push(shardMinute);
      // Lost to a concurrent run (a duplicate event): that run sends it.
      else if (status === undefined && (await deps.claims.claim(shardMinute))) toSend.push(shardMinute);
    }
  }
  if (toSend.length > 0) await deps.shardQueue.sendShards(toSend);
  // A sharded fleet lists accounts by bucket: a record stored without one (before the index existed)
  // would be skipped, so the handler asks for a sweep on a container's first run and once an hour.
  // After the sends, and never failing the run: the minute must not wait on a fleet-sized sweep.
  const accountsIndexed = options.indexAccounts === true && deps.shards > 1 ? await indexAccounts(deps) : 0;
  deps.telemetry.log('info', `sent ${toSend.length} shard-minutes of ${deps.shards} shards`, {
    minute,
    shardsSent: toSend.length,
    shardsLost,
    accountsIndexed,
  });
  return { shardsSent: toSend.length, shardsLost, accountsIndexed };
}

/** Reports each shard found lost, once (the conditional write decides which run reports it). */
async function reportLost(deps: SchedulerDeps, states: readonly ShardMinuteState[]): Promise<number> {
  let lost = 0;
  for (const state of states) {
    if (!(await deps.claims.markLost(state))) continue;
    lost++;
    const what = state.status === 'running' ? 'started but never finished' : 'was never started';
    deps.telemetry.log(
      'error',
      `schedule shard ${state.shard}/${state.shards} of minute ${new Date(state.minute * MINUTE_MS).toISOString()} ${what}: its accounts may have gone unchecked for up to a minute`,
      { minute: state.minute, shard: state.shard, shards: state.shards, status: state.status },
    );
  }
  if (lost > 0) deps.telemetry.count(Metric.ScheduleShardsLost, lost);
  return lost;
}

async function indexAccounts(deps: SchedulerDeps): Promise<number> {
  let indexed: number;
  try {
    indexed = await deps.accounts.indexForSchedule(deps.clock.now() + INDEX_BUDGET_MS);
  } catch (error) {
    deps.telemetry.log('error', `could not give account records their schedule bucket: ${String(error)}`, {
      reason: 'schedule-index',
    });
    return 0;
  }
  if (indexed > 0) {
    deps.telemetry.log(
      'warn',
      `gave ${indexed} account records a schedule bucket: a sharded schedule had not been listing them`,
      { accountsIndexed: indexed },
    );
  }
  return indexed;
}

/**
 * A stable offset per account inside its cadence period, so accounts do not all hit the exchange in
 * the same second (their API limits are per account, but our worker concurrency is shared).
 */
export function spreadOffset(accountId: string, cadenceMs: number): number {
  let hash = 2166136261;
  for (let i = 0; i < accountId.length; i++) hash = Math.imul(hash ^ accountId.charCodeAt(i), 16777619);
  return (hash >>> 0) % cadenceMs;
}
