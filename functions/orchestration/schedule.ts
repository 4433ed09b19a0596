import type { CheckMessage } from '#contracts/messages.js';
import { applyOverrides } from '#contracts/settings.js';
import type { AccountRecord } from '#ports/accounts.js';
import type { ReconcilerDeps } from './dependencies.js';

export interface ScheduleOutcome {
  readonly accountsScheduled: number;
  readonly accountsAlreadyScheduled: number;
  readonly checksSent: number;
  /** Slots not sent because the fleet is paused through them (the exchange banned its address). */
  readonly checksPaused: number;
}

const MINUTE_MS = 60_000;

/** Accounts whose minute claims are in flight at once: a large fleet is not claimed one write at a time. */
const CLAIM_CONCURRENCY = 16;

/**
 * The once-a-minute fan-out: for each enabled account, one `check` per cadence slot, each delayed to
 * its slot. Slots are grouped by calendar minute, and each minute is claimed per account with a
 * conditional write before its checks are sent.
 *
 * A run claims the minute of its event's scheduled time (`scheduledAt`, EventBridge's `time`), the
 * minute after it, and the minute it actually runs in (when it runs late). Normally the previous run
 * already claimed the first, so only the next minute is sent; after a first deploy, a missed run or a
 * late one, the rest of the current minute is covered too. Anchoring to calendar minutes makes it
 * indifferent to when in the minute the rule fires (a `rate` rule keeps the second it was created at)
 * and to jitter between events: every slot belongs to exactly one minute and is sent once. A repeated
 * delivery of the same event (EventBridge delivers at least once) or Lambda's retry of a failed run
 * loses the claims, or takes them back after a release, and cannot double the load. Without an event
 * time (a manual run) `now` stands in.
 */
export async function runSchedule(deps: ReconcilerDeps, scheduledAt?: number): Promise<ScheduleOutcome> {
  const startedAt = deps.clock.now();
  const minute = Math.floor((scheduledAt ?? startedAt) / MINUTE_MS);
  const windows = [...new Set([minute, minute + 1, Math.floor(startedAt / MINUTE_MS)])];
  /** Checks with the time of their slot; delays are computed when the batch goes out. */
  const due: { message: CheckMessage; at: number }[] = [];
  let accountsScheduled = 0;
  let accountsAlreadyScheduled = 0;
  const claimed: { accountId: string; windowId: string }[] = [];
  // Read once: a check that would only be put off by the worker is not worth a message.
  const pausedUntil = await deps.fleet.pausedUntil(startedAt);
  let checksPaused = 0;

  const schedule = async (account: AccountRecord): Promise<void> => {
    const taken = await Promise.allSettled(
      windows.map(async (window) =>
        (await deps.accounts.claimScheduleWindow(account.accountId, String(window))) ? window : undefined,
      ),
    );
    const mine = taken.flatMap((t) => (t.status === 'fulfilled' && t.value !== undefined ? [t.value] : []));
    for (const window of mine) claimed.push({ accountId: account.accountId, windowId: String(window) });
    // A claim that failed outright fails the run, after the ones taken are recorded for the release.
    const failed = taken.find((t) => t.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
    if (mine.length === 0) {
      accountsAlreadyScheduled++;
      return;
    }
    accountsScheduled++;
    const { cadenceMs } = applyOverrides(deps.settings, account.settings, `account ${account.accountId}`);
    // Read after the claims: delays count from when this account's checks are computed.
    const now = deps.clock.now();
    for (const window of mine) {
      const from = window * MINUTE_MS;
      for (const at of slotsIn(
        from,
        from + MINUTE_MS,
        spreadOffset(account.accountId, cadenceMs),
        cadenceMs,
      )) {
        // Slots already past (the rest of a minute joined late, a retried invocation) are skipped
        // instead of firing all at once.
        if (at < now - cadenceMs) continue;
        if (pausedUntil !== undefined && at < pausedUntil) {
          checksPaused++;
          continue;
        }
        due.push({
          message: {
            type: 'check',
            accountId: account.accountId,
            slot: Math.floor(at / cadenceMs),
          },
          at,
        });
      }
    }
  };

  /** Waits for every claim in flight, so a failure leaves none unrecorded, then rethrows the first. */
  const settle = async (pending: readonly Promise<void>[]): Promise<void> => {
    const failed = (await Promise.allSettled(pending)).find((r) => r.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
  };
  let inFlight: Promise<void>[] = [];
  let checksSent = 0;
  try {
    for await (const account of deps.accounts.listEnabled()) {
      inFlight.push(schedule(account));
      if (inFlight.length >= CLAIM_CONCURRENCY) {
        await settle(inFlight);
        inFlight = [];
      }
    }
    await settle(inFlight);
    // One send per batch of checks (the adapter splits into SQS batches of ten), each delayed from
    // now: the claims of a large fleet take a while, and an early account's slots must not drift.
    const sendAt = deps.clock.now();
    checksSent = due.length;
    if (due.length > 0) {
      await deps.queue.sendChecks(
        due.map((d) => ({ message: d.message, delayMs: Math.max(0, d.at - sendAt) })),
      );
    }
  } catch (error) {
    // Claims still in flight (the listing failed mid-way) are recorded before anything is given back.
    await Promise.allSettled(inFlight);
    // Give the minutes back so the retried invocation (same event, same minutes) schedules what is not
    // past by then: a lost minute is a minute nobody looks. A check that did go out may then go twice,
    // which costs one fetch and changes nothing. A failed release must not hide the failure that caused it.
    const released = await Promise.allSettled(
      claimed.map((c) => deps.accounts.releaseScheduleWindow(c.accountId, c.windowId)),
    );
    const stuck = released.filter((r) => r.status === 'rejected').length;
    if (stuck > 0) {
      deps.telemetry.log(
        'error',
        `could not give back ${stuck} of ${claimed.length} minute claims after a failed run: those checks are lost`,
        { minute, stuck },
      );
    }
    throw error;
  }
  deps.telemetry.log(
    checksPaused > 0 ? 'warn' : 'info',
    checksPaused > 0
      ? `scheduled ${checksSent} checks for ${accountsScheduled} accounts; held back ${checksPaused} that fall in the fleet's pause until ${new Date(pausedUntil ?? 0).toISOString()}`
      : `scheduled ${checksSent} checks for ${accountsScheduled} accounts`,
    { minute, accountsScheduled, accountsAlreadyScheduled, checksPaused },
  );
  return { accountsScheduled, accountsAlreadyScheduled, checksSent, checksPaused };
}

/** The account's cadence grid (`offset + k × cadenceMs`) inside [from, to). */
function slotsIn(from: number, to: number, offset: number, cadenceMs: number): number[] {
  const slots: number[] = [];
  for (let at = offset + Math.ceil((from - offset) / cadenceMs) * cadenceMs; at < to; at += cadenceMs) {
    slots.push(at);
  }
  return slots;
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
