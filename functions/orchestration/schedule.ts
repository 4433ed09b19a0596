import type { AccountRecord } from '../ports/accounts.js';
import type { ReconcilerDeps } from './dependencies.js';
import type { CheckMessage } from './messages.js';
import { applyOverrides } from './settings.js';

export interface ScheduleOutcome {
  readonly accountsScheduled: number;
  readonly accountsAlreadyScheduled: number;
  readonly checksSent: number;
}

const WINDOW_MS = 60_000;

/**
 * The once-a-minute fan-out: for each enabled account, one `check` per cadence slot of the next 60 s,
 * each delayed to its slot.
 *
 * The window starts at the event's scheduled time (`scheduledAt`, EventBridge's `time`), not at the top
 * of a calendar minute: a `rate(1 minute)` rule fires at the second it was created, every minute, so
 * a rule created at :40 would otherwise leave :00–:30 of every minute unchecked. Consecutive events are
 * 60 s apart, so their windows tile time and every slot falls in exactly one. The time also names the
 * window: a repeated delivery of the same event (EventBridge delivers at least once) or Lambda's retry
 * of a failed run loses the per-account claim, or takes it back after a release, and cannot double the
 * load. Without an event time (a manual run) the window starts now.
 */
export async function runSchedule(deps: ReconcilerDeps, scheduledAt?: number): Promise<ScheduleOutcome> {
  const now = deps.clock.now();
  // Whole seconds, as EventBridge writes `time`: the same event always names the same window.
  const windowStart = Math.floor((scheduledAt ?? now) / 1_000) * 1_000;
  const windowId = String(windowStart);
  const batch: { message: CheckMessage; delayMs: number }[] = [];
  let accountsScheduled = 0;
  let accountsAlreadyScheduled = 0;
  const claimed: string[] = [];

  for await (const account of deps.accounts.listEnabled()) {
    if (!(await deps.accounts.claimScheduleWindow(account.accountId, windowId))) {
      accountsAlreadyScheduled++;
      continue;
    }
    accountsScheduled++;
    claimed.push(account.accountId);
    const { cadenceMs } = applyOverrides(deps.settings, account.settings, `account ${account.accountId}`);
    for (const at of slotsIn(
      windowStart,
      windowStart + WINDOW_MS,
      spreadOffset(account.accountId, cadenceMs),
      cadenceMs,
    )) {
      // A run that starts late (a cold start, a retried invocation) skips the slots already past
      // instead of firing them all at once.
      if (at < now - cadenceMs) continue;
      batch.push({
        message: {
          type: 'check',
          accountId: account.accountId,
          slot: Math.floor(at / cadenceMs),
          account: toMessageAccount(account),
        },
        delayMs: Math.max(0, at - now),
      });
    }
  }
  // One send per batch of checks (the adapter splits into SQS batches of ten).
  try {
    if (batch.length > 0) await deps.queue.sendChecks(batch);
  } catch (error) {
    // Give the window back so the retried invocation (same event, same window) schedules it: a lost
    // minute is a minute nobody looks. A check that did go out may then go twice, which costs one fetch
    // and changes nothing. A failed release must not hide the send failure that caused it.
    const released = await Promise.allSettled(
      claimed.map((id) => deps.accounts.releaseScheduleWindow(id, windowId)),
    );
    const stuck = released.filter((r) => r.status === 'rejected').length;
    if (stuck > 0) {
      deps.telemetry.log(
        'error',
        `could not give window ${windowId} back for ${stuck} of ${claimed.length} accounts: their checks of this minute are lost`,
        { windowId, stuck },
      );
    }
    throw error;
  }
  deps.telemetry.log('info', `scheduled ${batch.length} checks for ${accountsScheduled} accounts`, {
    windowId,
    accountsScheduled,
    accountsAlreadyScheduled,
  });
  return { accountsScheduled, accountsAlreadyScheduled, checksSent: batch.length };
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

/** The account as a check message carries it (a plain copy: what the schema accepts). */
function toMessageAccount(account: AccountRecord): CheckMessage['account'] {
  return JSON.parse(JSON.stringify(account)) as CheckMessage['account'];
}
