import { describe, expect, it } from 'vitest';
import { MemoryAccounts } from '#adapters/memory/memory-accounts.js';
import { MemoryAudit } from '#adapters/memory/memory-audit.js';
import { MemoryCap } from '#adapters/memory/memory-cap.js';
import { MemoryFleetGuard } from '#adapters/memory/memory-fleet.js';
import { MemoryQueue } from '#adapters/memory/memory-queue.js';
import { MemoryStore } from '#adapters/memory/memory-store.js';
import { MemoryTelemetry } from '#adapters/memory/memory-telemetry.js';
import { defaultSettings } from '#contracts/settings.js';
import type { ReconcilerDeps } from '#orchestration/dependencies.js';
import { runSchedule, spreadOffset } from '#orchestration/schedule.js';
import type { AccountRecord } from '#ports/accounts.js';
import type { WorkQueue } from '#ports/queue.js';

const MINUTE = 60_000;
const account = (accountId: string, enabled = true): AccountRecord => ({
  accountId,
  enabled,
  credentialsRef: `stopguard/${accountId}`,
  exchange: { category: 'linear', settleCoins: ['USDT'] },
});

function depsAt(
  now: number,
  accounts: MemoryAccounts,
  queue: WorkQueue,
  fleet = new MemoryFleetGuard(),
  telemetry = new MemoryTelemetry(),
): ReconcilerDeps {
  return {
    clock: { now: () => now },
    ids: { next: (p) => `${p}-1` },
    accounts,
    store: new MemoryStore(),
    cap: new MemoryCap({ perAccount: 10, global: 50, windowMs: MINUTE }),
    placementCap: new MemoryCap({ perAccount: 5, global: 20, windowMs: MINUTE }),
    queue,
    audit: new MemoryAudit(),
    telemetry,
    settings: defaultSettings,
    random: { next: () => 0.5 },
    fleet,
    exchangeFor: async () => {
      throw new Error('the scheduler has no exchange');
    },
  };
}

/** A queue that only records which checks were sent. */
function recordingQueue(): { queue: WorkQueue; sent: { accountId: string; slot: number }[] } {
  const sent: { accountId: string; slot: number }[] = [];
  return {
    sent,
    queue: {
      sendChecks: async (checks) => {
        for (const c of checks) sent.push({ accountId: c.message.accountId, slot: c.message.slot });
      },
      sendConfirm: async () => {},
    },
  };
}

/** A queue whose every send fails, as SQS refusing a batch. */
function refusingQueue(message: string): WorkQueue {
  return {
    sendChecks: async () => {
      throw new Error(message);
    },
    sendConfirm: async () => {},
  };
}

describe('runSchedule', () => {
  const minuteStart = 29_000_000 * MINUTE;

  it('sends one check per cadence slot of this minute and the next per enabled account, each delayed to its slot', async () => {
    const accounts = new MemoryAccounts([account('a'), account('b'), account('off', false)]);
    const queue = new MemoryQueue({ now: () => minuteStart });
    const outcome = await runSchedule(depsAt(minuteStart, accounts, queue), minuteStart);
    // A first run: nothing claimed this minute yet, so it covers it as well as the next.
    expect(outcome).toEqual({
      accountsScheduled: 2,
      accountsAlreadyScheduled: 0,
      checksSent: 24,
      checksPaused: 0,
    });
    const due = queue.takeDue(minuteStart + 2 * MINUTE);
    expect(due.filter((m) => m.message.accountId === 'a').map((m) => m.deliverAt - minuteStart)).toEqual(
      Array.from({ length: 12 }, (_, i) => spreadOffset('a', 10_000) + i * 10_000),
    );
  });

  it('holds back the slots that fall in a fleet-wide pause, and says so', async () => {
    const accounts = new MemoryAccounts([account('a')]);
    const queue = new MemoryQueue({ now: () => minuteStart });
    const fleet = new MemoryFleetGuard();
    await fleet.pause(minuteStart + 75_000);
    const telemetry = new MemoryTelemetry();
    const outcome = await runSchedule(depsAt(minuteStart, accounts, queue, fleet, telemetry), minuteStart);
    // 'a' has slots at :02.2 + 10 s steps: all six of this minute and :62.2, :72.2 fall in the pause.
    expect(outcome).toMatchObject({ checksSent: 4, checksPaused: 8 });
    const due = queue.takeDue(minuteStart + 2 * MINUTE).map((m) => m.deliverAt - minuteStart);
    expect(due[0]).toBe(82_220);
    expect(telemetry.lines.find((l) => l.level === 'warn')?.message).toMatch(/held back 8 .* pause until/);
  });

  it('sends nothing for minutes already scheduled (EventBridge delivers at least once)', async () => {
    const accounts = new MemoryAccounts([account('a')]);
    const queue = new MemoryQueue({ now: () => minuteStart });
    await runSchedule(depsAt(minuteStart, accounts, queue), minuteStart);
    // The duplicate carries the same event time, however late it arrives.
    const again = await runSchedule(depsAt(minuteStart + 2_000, accounts, queue), minuteStart);
    expect(again).toEqual({
      accountsScheduled: 0,
      accountsAlreadyScheduled: 1,
      checksSent: 0,
      checksPaused: 0,
    });
    expect(queue.size).toBe(12);
  });

  it('covers every slot exactly once whenever in the minute the rule fires, jitter included', async () => {
    const accounts = new MemoryAccounts([account('a'), account('b')]);
    const { queue: recording, sent } = recordingQueue();
    // A rate rule created at :40, with a couple of seconds of jitter between events.
    const fires = [40_000, MINUTE + 42_000, 2 * MINUTE + 39_000, 3 * MINUTE + 41_000].map(
      (t) => minuteStart + t,
    );
    for (const at of fires) await runSchedule(depsAt(at + 300, accounts, recording), at);
    for (const id of ['a', 'b']) {
      const slots = sent.filter((s) => s.accountId === id).map((s) => s.slot);
      expect(new Set(slots).size).toBe(slots.length);
      const sorted = [...slots].sort((x, y) => x - y);
      const first = sorted[0] ?? 0;
      // No gap: consecutive slots from the first run's to the end of the last run's next minute.
      expect(sorted).toEqual(Array.from({ length: sorted.length }, (_, i) => first + i));
      expect(sorted.at(-1)).toBe(Math.floor((minuteStart + 5 * MINUTE - 1) / 10_000));
      // The first run joined its minute late: only slots from about then on.
      expect(first * 10_000).toBeGreaterThanOrEqual(minuteStart + 30_000);
    }
  });

  it('skips the slots already past when it runs late, instead of firing them at once', async () => {
    const accounts = new MemoryAccounts([account('a')]);
    const late = minuteStart + 45_000;
    const queue = new MemoryQueue({ now: () => late });
    const outcome = await runSchedule(depsAt(late, accounts, queue), minuteStart);
    const thisMinute = queue.takeDue(minuteStart + MINUTE - 1).map((m) => m.deliverAt - late);
    // 'a' has slots at :02.2, :12.2, … :42.2, :52.2. At :45 the :42.2 slot is under one cadence late and
    // goes at once; earlier ones are skipped; :52.2 waits for its time; then the whole next minute.
    expect(spreadOffset('a', 10_000)).toBe(2_220);
    expect(thisMinute).toEqual([0, 7_220]);
    expect(outcome.checksSent).toBe(thisMinute.length + 6);
  });

  it('a run delivered more than a minute late still covers the rest of the minute it runs in', async () => {
    const accounts = new MemoryAccounts([account('a')]);
    const event = minuteStart + 40_000;
    const late = minuteStart + 2 * MINUTE + 10_000;
    const queue = new MemoryQueue({ now: () => late });
    await runSchedule(depsAt(late, accounts, queue), event);
    const slots = queue.takeDue(late + 2 * MINUTE).map((m) => m.deliverAt);
    // The :02.2 slot of the minute it runs in (under one cadence late) at once, then :12.2 to :52.2.
    expect(slots).toEqual([
      late,
      ...Array.from({ length: 5 }, (_, i) => minuteStart + 2 * MINUTE + 12_220 + i * 10_000),
    ]);
  });

  it('an account whose slots fall on the minute boundary gets each exactly once', async () => {
    let id = 0;
    while (spreadOffset(`acct-${id}`, 10_000) !== 0) id++;
    const accounts = new MemoryAccounts([account(`acct-${id}`)]);
    const { queue: recording, sent: sentChecks } = recordingQueue();
    for (let k = 0; k < 3; k++) {
      const at = minuteStart + k * MINUTE + 59_900;
      await runSchedule(depsAt(at, accounts, recording), at);
    }
    const sent = sentChecks.map((c) => c.slot);
    expect(new Set(sent).size).toBe(sent.length);
    // Every :00 slot of the minutes covered is there once.
    for (let k = 1; k <= 3; k++) expect(sent).toContain((minuteStart + k * MINUTE) / 10_000);
  });

  it('gives the window back when the send fails, so the retried event schedules it', async () => {
    const accounts = new MemoryAccounts([account('a'), account('b')]);
    const failing = refusingQueue('SQS refused 3 of 12 check messages');
    await expect(runSchedule(depsAt(minuteStart, accounts, failing), minuteStart)).rejects.toThrow(
      'SQS refused',
    );
    const queue = new MemoryQueue({ now: () => minuteStart });
    const retried = await runSchedule(depsAt(minuteStart + 1_000, accounts, queue), minuteStart);
    expect(retried).toEqual({
      accountsScheduled: 2,
      accountsAlreadyScheduled: 0,
      checksSent: 24,
      checksPaused: 0,
    });
  });

  it('a claim that fails outright fails the run and gives back the claims already taken', async () => {
    const accounts = new MemoryAccounts([account('a'), account('b')]);
    const claim = accounts.claimScheduleWindow.bind(accounts);
    accounts.claimScheduleWindow = async (accountId, windowId) => {
      if (accountId === 'b' && windowId === String(Math.floor(minuteStart / MINUTE) + 1))
        throw new Error('ProvisionedThroughputExceededException');
      return claim(accountId, windowId);
    };
    const queue = new MemoryQueue({ now: () => minuteStart });
    await expect(runSchedule(depsAt(minuteStart, accounts, queue), minuteStart)).rejects.toThrow(
      'ProvisionedThroughputExceeded',
    );
    expect(queue.size).toBe(0);
    // Everything was given back: the retried event schedules both accounts in full.
    accounts.claimScheduleWindow = claim;
    const retried = await runSchedule(depsAt(minuteStart + 1_000, accounts, queue), minuteStart);
    expect(retried).toEqual({
      accountsScheduled: 2,
      accountsAlreadyScheduled: 0,
      checksSent: 24,
      checksPaused: 0,
    });
  });

  it('a listing that fails mid-way gives back the claims still in flight too', async () => {
    const accounts = new MemoryAccounts([account('a'), account('b')]);
    const claim = accounts.claimScheduleWindow.bind(accounts);
    // Slow claims: the first account's are still in flight when the next page of the listing fails.
    accounts.claimScheduleWindow = async (accountId, windowId) => {
      await new Promise((resolve) => setTimeout(resolve, 10));
      return claim(accountId, windowId);
    };
    const list = accounts.listEnabled.bind(accounts);
    accounts.listEnabled = async function* () {
      for await (const record of list()) {
        yield record;
        throw new Error('ProvisionedThroughputExceededException on the next page');
      }
    };
    const queue = new MemoryQueue({ now: () => minuteStart });
    await expect(runSchedule(depsAt(minuteStart, accounts, queue), minuteStart)).rejects.toThrow(
      'ProvisionedThroughputExceeded',
    );
    accounts.listEnabled = list;
    const retried = await runSchedule(depsAt(minuteStart + 1_000, accounts, queue), minuteStart);
    expect(retried).toEqual({
      accountsScheduled: 2,
      accountsAlreadyScheduled: 0,
      checksSent: 24,
      checksPaused: 0,
    });
  });

  it('a release that fails too is logged, and the send failure is what surfaces', async () => {
    const accounts = new MemoryAccounts([account('a')]);
    accounts.releaseScheduleWindow = async () => {
      throw new Error('AccessDeniedException');
    };
    const failing = refusingQueue('SQS refused 6 of 6 check messages');
    const deps = depsAt(minuteStart, accounts, failing);
    await expect(runSchedule(deps, minuteStart)).rejects.toThrow('SQS refused');
    const telemetry = deps.telemetry as MemoryTelemetry;
    expect(telemetry.lines.some((l) => l.level === 'error' && /could not give back/.test(l.message))).toBe(
      true,
    );
  });
});
