import type { CheckMessage } from '#contracts/messages.js';
import { applyOverrides } from '#contracts/settings.js';
import type { AccountRecord } from '#ports/accounts.js';
import type { ShardMinute } from '#ports/schedule.js';
import { MINUTE_MS, type SchedulerDeps, spreadOffset } from './schedule.js';

export interface ShardRunOutcome {
  /** False when the shard-minute was already started (a duplicate message): nothing was sent. */
  readonly ran: boolean;
  readonly accountsScheduled: number;
  readonly checksSent: number;
  /** Slots not sent because the fleet is paused through them (the exchange banned its address). */
  readonly checksPaused: number;
}

/**
 * Checks sent per SendMessageBatch run: a shard's accounts are listed page by page and their checks
 * sent as they accumulate, so memory holds at most this many whatever the shard's size.
 */
const SEND_EVERY = 500;

/**
 * One shard of one minute: for each of the shard's enabled accounts, one `check` per cadence slot in
 * the minute, each delayed to its slot. The shard-minute is started with a conditional write, so a
 * duplicate or resent message runs nothing. A run that fails gives the shard-minute back before it
 * rethrows, and the message's redelivery sends what is not past by then (a check sent twice costs one
 * fetch and changes nothing); one that dies is reported lost by a later fan-out.
 */
export async function runScheduleShard(deps: SchedulerDeps, shard: ShardMinute): Promise<ShardRunOutcome> {
  const startedAt = deps.clock.now();
  if (!(await deps.claims.start(shard, startedAt))) {
    deps.telemetry.log('info', `shard ${shard.shard}/${shard.shards} of minute ${shard.minute} already run`, {
      ...shard,
    });
    return { ran: false, accountsScheduled: 0, checksSent: 0, checksPaused: 0 };
  }
  // Read once: a check that would only be put off by the worker is not worth a message.
  const pausedUntil = await deps.fleet.pausedUntil(startedAt);
  let accountsScheduled = 0;
  let checksSent = 0;
  let checksPaused = 0;
  /** Checks with the time of their slot; delays are computed when they go out. */
  let due: { message: CheckMessage; at: number }[] = [];
  const flush = async () => {
    const sendAt = deps.clock.now();
    const sending = due;
    due = [];
    await deps.queue.sendChecks(
      sending.map((d) => ({ message: d.message, delayMs: Math.max(0, d.at - sendAt) })),
    );
    checksSent += sending.length;
  };
  try {
    for await (const account of deps.accounts.listShard(shard.shard, shard.shards)) {
      accountsScheduled++;
      for (const { at, slot } of slotsOf(deps, account, shard.minute, startedAt)) {
        if (pausedUntil !== undefined && at < pausedUntil) checksPaused++;
        else due.push({ message: { type: 'check', accountId: account.accountId, slot }, at });
      }
      if (due.length >= SEND_EVERY) await flush();
    }
    if (due.length > 0) await flush();
  } catch (error) {
    // Given back so that the redelivered message runs it again; if that fails too, a later fan-out
    // reports the shard lost.
    await deps.claims.giveBack(shard).catch(() => undefined);
    throw error;
  }
  // Every check went out: a failure to record it must not fail the run (the redelivery would run
  // nothing). A later fan-out will take the shard for lost, which says too much but loses nothing.
  await deps.claims
    .finish(shard, { accounts: accountsScheduled, checks: checksSent })
    .catch((error) =>
      deps.telemetry.log(
        'warn',
        `shard ${shard.shard}/${shard.shards} of minute ${shard.minute} sent its checks but could not record it: ${String(error)}`,
        { ...shard },
      ),
    );
  deps.telemetry.log(
    checksPaused > 0 ? 'warn' : 'info',
    checksPaused > 0
      ? `scheduled ${checksSent} checks for ${accountsScheduled} accounts (shard ${shard.shard}/${shard.shards}); held back ${checksPaused} that fall in the fleet's pause until ${new Date(pausedUntil ?? 0).toISOString()}`
      : `scheduled ${checksSent} checks for ${accountsScheduled} accounts (shard ${shard.shard}/${shard.shards})`,
    { ...shard, accountsScheduled, checksSent, checksPaused },
  );
  return { ran: true, accountsScheduled, checksSent, checksPaused };
}

/**
 * The account's slots in the minute that are still worth a check: its cadence grid
 * (`offset + k × cadenceMs`) inside the minute, without those more than a cadence past when the run
 * started (the rest of a minute joined late, a redelivered shard), which would all fire at once.
 */
function slotsOf(
  deps: SchedulerDeps,
  account: AccountRecord,
  minute: number,
  runStartedAt: number,
): { at: number; slot: number }[] {
  const { cadenceMs } = applyOverrides(deps.settings, account.settings, `account ${account.accountId}`);
  const from = minute * MINUTE_MS;
  const offset = spreadOffset(account.accountId, cadenceMs);
  // From the run's start, not the account's turn in it: a big shard's last accounts keep the slots
  // its first ones kept.
  const earliest = runStartedAt - cadenceMs;
  const slots: { at: number; slot: number }[] = [];
  const first = offset + Math.ceil((from - offset) / cadenceMs) * cadenceMs;
  for (let at = first; at < from + MINUTE_MS; at += cadenceMs) {
    // The slot number names the check: a repeated send of it is the same check.
    if (at >= earliest) slots.push({ at, slot: Math.floor(at / cadenceMs) });
  }
  return slots;
}
