import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MemoryAccounts } from '#adapters/memory/memory-accounts.js';
import { MemoryFleetGuard } from '#adapters/memory/memory-fleet.js';
import { MemoryQueue } from '#adapters/memory/memory-queue.js';
import { MemoryScheduleClaims, MemoryShardQueue } from '#adapters/memory/memory-schedule.js';
import { MemoryTelemetry } from '#adapters/memory/memory-telemetry.js';
import { defaultSettings } from '#contracts/settings.js';
import {
  type FanOutOutcome,
  runScheduleFanOut,
  type SchedulerDeps,
  spreadOffset,
} from '#orchestration/schedule.js';
import { runScheduleShard, type ShardRunOutcome } from '#orchestration/schedule-shard.js';
import type { AccountRecord } from '#ports/accounts.js';
import type { WorkQueue } from '#ports/queue.js';
import { SHARD_COUNTS, type ShardCount } from '#ports/schedule.js';
import { Metric } from '#ports/telemetry.js';

const MINUTE = 60_000;
const account = (accountId: string, enabled = true): AccountRecord => ({
  accountId,
  enabled,
  credentialsRef: `stopguard/${accountId}`,
  exchange: { category: 'linear', settleCoins: ['USDT'] },
});

/** One scheduler deployment: its claims, both queues and telemetry persist across runs. */
class Fleet {
  readonly claims = new MemoryScheduleClaims();
  readonly shardQueue = new MemoryShardQueue();
  readonly telemetry = new MemoryTelemetry();
  readonly fleet = new MemoryFleetGuard();
  now = 0;

  constructor(
    readonly accounts: MemoryAccounts,
    public queue: WorkQueue,
    readonly shards: ShardCount = 1,
  ) {}

  get deps(): SchedulerDeps {
    return {
      clock: { now: () => this.now },
      accounts: this.accounts,
      queue: this.queue,
      fleet: this.fleet,
      telemetry: this.telemetry,
      settings: defaultSettings,
      claims: this.claims,
      shardQueue: this.shardQueue,
      shards: this.shards,
    };
  }

  /** An EventBridge event for `scheduledAt`, handled at `now`. */
  fanOut(now: number, scheduledAt: number): Promise<FanOutOutcome> {
    this.now = now;
    return runScheduleFanOut(this.deps, scheduledAt);
  }

  /** Runs every shard-minute the fan-outs sent, as the scheduler queue's consumer would. */
  async runShards(now = this.now): Promise<ShardRunOutcome[]> {
    this.now = now;
    const outcomes: ShardRunOutcome[] = [];
    for (const shard of this.shardQueue.take()) outcomes.push(await runScheduleShard(this.deps, shard));
    return outcomes;
  }

  /** A whole tick: the fan-out, then its shards. Returns the checks sent. */
  async tick(now: number, scheduledAt = now): Promise<number> {
    await this.fanOut(now, scheduledAt);
    return (await this.runShards()).reduce((sum, o) => sum + o.checksSent, 0);
  }
}

/** A queue that only records which checks were sent, and in how many sends. */
function recordingQueue(): {
  queue: WorkQueue;
  sent: { accountId: string; slot: number }[];
  sends: number[];
} {
  const sent: { accountId: string; slot: number }[] = [];
  const sends: number[] = [];
  return {
    sent,
    sends,
    queue: {
      sendChecks: async (checks) => {
        sends.push(checks.length);
        for (const c of checks) sent.push({ accountId: c.message.accountId, slot: c.message.slot });
      },
      sendConfirm: async () => {},
    },
  };
}

const minuteStart = 29_000_000 * MINUTE;
const thisMinute = minuteStart / MINUTE;

describe('the scheduler fan-out and its shard runs', () => {
  it('sends one check per cadence slot of this minute and the next per enabled account, each delayed to its slot', async () => {
    const accounts = new MemoryAccounts([account('a'), account('b'), account('off', false)]);
    const queue = new MemoryQueue({ now: () => minuteStart });
    const fleet = new Fleet(accounts, queue);
    // A first run: nothing claimed this minute yet, so it covers it as well as the next.
    expect(await fleet.fanOut(minuteStart, minuteStart)).toEqual({
      shardsSent: 2,
      shardsLost: 0,
      accountsIndexed: 0,
    });
    const runs = await fleet.runShards();
    expect(runs.map((r) => r.accountsScheduled)).toEqual([2, 2]);
    expect(runs.reduce((sum, r) => sum + r.checksSent, 0)).toBe(24);
    const due = queue.takeDue(minuteStart + 2 * MINUTE);
    expect(due.filter((m) => m.message.accountId === 'a').map((m) => m.deliverAt - minuteStart)).toEqual(
      Array.from({ length: 12 }, (_, i) => spreadOffset('a', 10_000) + i * 10_000),
    );
  });

  it('in any shard count, every enabled account is in exactly one shard and gets every slot once', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.stringMatching(/^[A-Za-z0-9_.-]{1,12}$/), { minLength: 1, maxLength: 40 }),
        fc.constantFrom(...SHARD_COUNTS),
        async (ids, shards) => {
          const { queue, sent } = recordingQueue();
          const fleet = new Fleet(new MemoryAccounts(ids.map((id) => account(id))), queue, shards);
          await fleet.tick(minuteStart);
          // This minute and the next: 12 slots each, none twice.
          for (const id of ids) {
            const slots = sent.filter((s) => s.accountId === id).map((s) => s.slot);
            expect(slots.length).toBe(12);
            expect(new Set(slots).size).toBe(12);
          }
          expect(sent.length).toBe(ids.length * 12);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('writes three times per shard-minute and reads three minutes per run, whatever the fleet size', async () => {
    const ids = Array.from({ length: 400 }, (_, i) => account(`acct-${i}`));
    const { queue } = recordingQueue();
    const fleet = new Fleet(new MemoryAccounts(ids), queue, 8);
    await fleet.tick(minuteStart);
    const first = { ...fleet.claims.ops };
    await fleet.tick(minuteStart + MINUTE);
    // Steady state: only the next minute is new; claim, start and finish of each of its 8 shards.
    expect(fleet.claims.ops.writes - first.writes).toBe(3 * 8);
    expect(fleet.claims.ops.reads - first.reads).toBe(3);
  });

  it('sends a shard’s checks as it lists them, never holding the whole shard', async () => {
    const { queue, sends, sent } = recordingQueue();
    const fleet = new Fleet(
      new MemoryAccounts(Array.from({ length: 300 }, (_, i) => account(`a${i}`))),
      queue,
    );
    await fleet.tick(minuteStart - MINUTE + 1_000);
    sent.splice(0);
    sends.splice(0);
    await fleet.tick(minuteStart + 1_000);
    // Only the next minute (6 slots each): 1,800 checks, in sends of about 500.
    expect(sent.length).toBe(1_800);
    expect(sends.length).toBeGreaterThanOrEqual(4);
    expect(Math.max(...sends)).toBeLessThan(500 + 6);
  });

  it('holds back the slots that fall in a fleet-wide pause, and says so', async () => {
    const queue = new MemoryQueue({ now: () => minuteStart });
    const fleet = new Fleet(new MemoryAccounts([account('a')]), queue);
    await fleet.fleet.pause(minuteStart + 75_000);
    await fleet.fanOut(minuteStart, minuteStart);
    const runs = await fleet.runShards();
    // 'a' has slots at :02.2 + 10 s steps: all six of this minute and :62.2, :72.2 fall in the pause.
    expect(runs.map((r) => [r.checksSent, r.checksPaused])).toEqual([
      [0, 6],
      [4, 2],
    ]);
    const due = queue.takeDue(minuteStart + 2 * MINUTE).map((m) => m.deliverAt - minuteStart);
    expect(due[0]).toBe(82_220);
    const warnings = fleet.telemetry.lines.filter((l) => l.level === 'warn').map((l) => l.message);
    expect(warnings).toEqual([
      expect.stringMatching(/held back 6 /),
      expect.stringMatching(/held back 2 .* pause until/),
    ]);
  });

  it('sends nothing twice for a repeated event or a repeated shard message', async () => {
    const queue = new MemoryQueue({ now: () => minuteStart });
    const fleet = new Fleet(new MemoryAccounts([account('a')]), queue, 2);
    await fleet.tick(minuteStart);
    // The duplicate event carries the same event time, however late it arrives.
    expect(await fleet.fanOut(minuteStart + 2_000, minuteStart)).toMatchObject({ shardsSent: 0 });
    // A shard message delivered twice: the second finds the shard-minute already run.
    const repeated = await runScheduleShard(fleet.deps, { minute: thisMinute + 1, shard: 0, shards: 2 });
    expect(repeated).toEqual({ ran: false, accountsScheduled: 0, checksSent: 0, checksPaused: 0 });
    expect(queue.size).toBe(12);
  });

  it('covers every slot exactly once whenever in the minute the rule fires, jitter included', async () => {
    const { queue, sent } = recordingQueue();
    const fleet = new Fleet(new MemoryAccounts([account('a'), account('b')]), queue, 4);
    // A rate rule created at :40, with a couple of seconds of jitter between events.
    const fires = [40_000, MINUTE + 42_000, 2 * MINUTE + 39_000, 3 * MINUTE + 41_000].map(
      (t) => minuteStart + t,
    );
    for (const at of fires) await fleet.tick(at + 300, at);
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
    const late = minuteStart + 45_000;
    const queue = new MemoryQueue({ now: () => late });
    const fleet = new Fleet(new MemoryAccounts([account('a')]), queue);
    const sent = await fleet.tick(late, minuteStart);
    const slots = queue.takeDue(minuteStart + MINUTE - 1).map((m) => m.deliverAt - late);
    // 'a' has slots at :02.2, :12.2, … :42.2, :52.2. At :45 the :42.2 slot is under one cadence late and
    // goes at once; earlier ones are skipped; :52.2 waits for its time; then the whole next minute.
    expect(spreadOffset('a', 10_000)).toBe(2_220);
    expect(slots).toEqual([0, 7_220]);
    expect(sent).toBe(slots.length + 6);
  });

  it('a run delivered more than a minute late still covers the rest of the minute it runs in', async () => {
    const event = minuteStart + 40_000;
    const late = minuteStart + 2 * MINUTE + 10_000;
    const queue = new MemoryQueue({ now: () => late });
    const fleet = new Fleet(new MemoryAccounts([account('a')]), queue);
    await fleet.tick(late, event);
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
    const { queue, sent } = recordingQueue();
    const fleet = new Fleet(new MemoryAccounts([account(`acct-${id}`)]), queue);
    for (let k = 0; k < 3; k++) await fleet.tick(minuteStart + k * MINUTE + 59_900);
    const slots = sent.map((c) => c.slot);
    expect(new Set(slots).size).toBe(slots.length);
    for (let k = 1; k <= 3; k++) expect(slots).toContain((minuteStart + k * MINUTE) / 10_000);
  });
});

describe('a scheduler run that fails or dies', () => {
  it('a shard run whose send fails gives its minute back, and the redelivery sends it', async () => {
    const accounts = new MemoryAccounts([account('a'), account('b')]);
    const { queue, sent } = recordingQueue();
    const fleet = new Fleet(accounts, {
      sendChecks: async () => {
        throw new Error('SQS refused 3 of 12 check messages');
      },
      sendConfirm: async () => {},
    });
    await fleet.fanOut(minuteStart - 1_000, minuteStart - MINUTE);
    const shard = fleet.shardQueue.take().find((s) => s.minute === thisMinute);
    if (shard === undefined) throw new Error('no shard sent');
    await expect(runScheduleShard(fleet.deps, shard)).rejects.toThrow('SQS refused');
    fleet.queue = queue;
    expect(await runScheduleShard(fleet.deps, shard)).toMatchObject({ ran: true, checksSent: 12 });
    expect(sent.length).toBe(12);
  });

  it('a fan-out that died after claiming is completed by the retried event: claimed shards are sent again', async () => {
    const { queue, sent } = recordingQueue();
    const fleet = new Fleet(new MemoryAccounts([account('a')]), queue, 2);
    await fleet.fanOut(minuteStart, minuteStart);
    fleet.shardQueue.take(); // the messages never went out
    expect(await fleet.fanOut(minuteStart + 5_000, minuteStart)).toMatchObject({ shardsSent: 4 });
    await fleet.runShards();
    expect(sent.length).toBeGreaterThan(6);
    expect(new Set(sent.map((s) => s.slot)).size).toBe(sent.length);
  });

  it('a shard run that died is reported lost, once, by a later fan-out', async () => {
    const { queue } = recordingQueue();
    const fleet = new Fleet(new MemoryAccounts([account('a'), account('b')]), queue, 2);
    await fleet.fanOut(minuteStart + 1_000, minuteStart);
    const [first, ...rest] = fleet.shardQueue.take();
    if (first === undefined) throw new Error('no shard sent');
    // One shard run starts and dies (a timeout: no code of its own runs after); the others finish.
    await fleet.claims.start(first, minuteStart + 1_500);
    for (const shard of rest) await runScheduleShard(fleet.deps, shard);
    // The next minute's event finds the shard of the minute before it unfinished.
    const noticed = await fleet.fanOut(minuteStart + MINUTE + 1_000, minuteStart + MINUTE);
    expect(noticed.shardsLost).toBe(1);
    // A duplicate of that event does not report it again.
    expect((await fleet.fanOut(minuteStart + MINUTE + 2_000, minuteStart + MINUTE)).shardsLost).toBe(0);
    expect(fleet.telemetry.countOf(Metric.ScheduleShardsLost)).toBe(1);
    const line = fleet.telemetry.lines.find((l) => l.level === 'error');
    expect(line?.message).toMatch(/schedule shard 0\/2 of minute .* started but never finished/);
  });

  it('a shard still running past the function timeout is reported by the next minute’s fan-out', async () => {
    const { queue } = recordingQueue();
    const fleet = new Fleet(new MemoryAccounts([account('a')]), queue);
    await fleet.tick(minuteStart);
    await fleet.fanOut(minuteStart + MINUTE + 1_000, minuteStart + MINUTE);
    const next = fleet.shardQueue.take().find((s) => s.minute === thisMinute + 2);
    if (next === undefined) throw new Error('no shard sent');
    await fleet.claims.start(next, minuteStart + MINUTE + 2_000);
    // At its own minute's event it has been running for 59 s: longer than any run may live.
    const outcome = await fleet.fanOut(minuteStart + 2 * MINUTE + 1_000, minuteStart + 2 * MINUTE);
    expect(outcome.shardsLost).toBe(1);
    // One that started 20 s before is only slow, not lost.
    const fresh = new Fleet(new MemoryAccounts([account('a')]), queue);
    await fresh.fanOut(minuteStart + MINUTE + 1_000, minuteStart + MINUTE);
    const [current, slow] = fresh.shardQueue.take();
    if (current === undefined || slow === undefined) throw new Error('no shard sent');
    await runScheduleShard(fresh.deps, current);
    await fresh.claims.start(slow, minuteStart + 2 * MINUTE - 19_000);
    expect((await fresh.fanOut(minuteStart + 2 * MINUTE + 1_000, minuteStart + 2 * MINUTE)).shardsLost).toBe(
      0,
    );
  });

  it('does not take a late but live run of the minute before for lost', async () => {
    const { queue } = recordingQueue();
    const fleet = new Fleet(new MemoryAccounts([account('a')]), queue);
    await fleet.fanOut(minuteStart + 1_000, minuteStart);
    const [current] = fleet.shardQueue.take();
    if (current === undefined) throw new Error('no shard sent');
    // Its message was redelivered late: it started 20 s before the next minute's event.
    await fleet.claims.start(current, minuteStart + 41_000);
    expect((await fleet.fanOut(minuteStart + MINUTE + 1_000, minuteStart + MINUTE)).shardsLost).toBe(0);
    expect(fleet.telemetry.countOf(Metric.ScheduleShardsLost)).toBe(0);
  });

  it('keeps a run whose checks all went out even when recording its end fails', async () => {
    const { queue, sent } = recordingQueue();
    const fleet = new Fleet(new MemoryAccounts([account('a')]), queue);
    fleet.claims.finish = async () => {
      throw new Error('ProvisionedThroughputExceededException');
    };
    await fleet.fanOut(minuteStart - 1_000, minuteStart - MINUTE);
    const runs = await fleet.runShards();
    expect(runs.every((r) => r.ran)).toBe(true);
    expect(sent.length).toBeGreaterThan(0);
    expect(fleet.telemetry.lines.some((l) => /sent its checks but could not record it/.test(l.message))).toBe(
      true,
    );
  });

  it('gives a big shard’s last accounts the slots its first ones got', async () => {
    const { queue, sent } = recordingQueue();
    const accounts = new MemoryAccounts(['a', 'b', 'c'].map((id) => account(id)));
    const fleet = new Fleet(accounts, queue);
    // Listing is slow: 20 s per account, so the last is listed 40 s into the run.
    const list = accounts.listShard.bind(accounts);
    accounts.listShard = async function* (shard, shards) {
      for await (const record of list(shard, shards)) {
        yield record;
        fleet.now += 20_000;
      }
    };
    await fleet.tick(minuteStart + 1_000, minuteStart);
    for (const id of ['a', 'b', 'c']) expect(sent.filter((c) => c.accountId === id)).toHaveLength(12);
  });
});

describe('the sweep that gives account records their schedule bucket', () => {
  it('runs after the shard-minutes are sent, and its failure fails nothing', async () => {
    const { queue } = recordingQueue();
    const accounts = new MemoryAccounts([account('a')]);
    const fleet = new Fleet(accounts, queue, 4);
    accounts.indexForSchedule = async () => {
      expect(fleet.shardQueue.sent.length).toBeGreaterThan(0);
      throw new Error('AccessDeniedException');
    };
    fleet.now = minuteStart;
    const outcome = await runScheduleFanOut(fleet.deps, minuteStart, { indexAccounts: true });
    expect(outcome).toMatchObject({ shardsSent: 8, accountsIndexed: 0 });
    expect(fleet.telemetry.lines.some((l) => l.level === 'error' && /schedule bucket/.test(l.message))).toBe(
      true,
    );
  });
});
