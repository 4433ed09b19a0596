import type { AccountRecord } from '../ports/accounts.js';
import type { ReconcilerDeps } from './dependencies.js';
import type { CheckMessage } from './messages.js';
import { applyOverrides } from './settings.js';

export interface ScheduleOutcome {
  readonly accountsScheduled: number;
  readonly accountsAlreadyScheduled: number;
  readonly checksSent: number;
}

const MINUTE_MS = 60_000;

/**
 * The once-a-minute fan-out: for each enabled account, one `check` per cadence slot of the coming
 * minute, each delayed to its slot. A repeated run for the same minute (EventBridge delivers at least
 * once) loses the per-account claim and sends nothing, so it cannot double the load.
 */
export async function runSchedule(deps: ReconcilerDeps): Promise<ScheduleOutcome> {
  const now = deps.clock.now();
  const minute = Math.floor(now / MINUTE_MS);
  const batch: { message: CheckMessage; delayMs: number }[] = [];
  let accountsScheduled = 0;
  let accountsAlreadyScheduled = 0;
  const claimed: string[] = [];

  for await (const account of deps.accounts.listEnabled()) {
    if (!(await deps.accounts.claimScheduleWindow(account.accountId, String(minute)))) {
      accountsAlreadyScheduled++;
      continue;
    }
    accountsScheduled++;
    claimed.push(account.accountId);
    const { cadenceMs } = applyOverrides(deps.settings, account.settings, `account ${account.accountId}`);
    const offset = spreadOffset(account.accountId, cadenceMs);
    const minuteStart = minute * MINUTE_MS;
    for (let at = minuteStart + offset; at < minuteStart + MINUTE_MS; at += cadenceMs) {
      // A run that starts late in its minute (first deploy, a retried invocation) skips the slots
      // already past instead of firing them all at once.
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
    // Give the minute back so the retried invocation schedules it: a lost minute is a minute nobody
    // looks. A check that did go out may then go twice, which costs one fetch and changes nothing.
    await Promise.all(claimed.map((id) => deps.accounts.releaseScheduleWindow(id, String(minute))));
    throw error;
  }
  deps.telemetry.log('info', `scheduled ${batch.length} checks for ${accountsScheduled} accounts`, {
    minute,
    accountsScheduled,
    accountsAlreadyScheduled,
  });
  return { accountsScheduled, accountsAlreadyScheduled, checksSent: batch.length };
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
