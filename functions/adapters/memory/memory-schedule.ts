import type {
  ScheduleClaims,
  ShardMinute,
  ShardMinuteState,
  ShardQueue,
  ShardStatus,
} from '#ports/schedule.js';

const keyOf = (s: ShardMinute) => `${s.minute}#${s.shard}/${s.shards}`;

/** Shard-minutes in memory, with the conditional transitions of the table's. */
export class MemoryScheduleClaims implements ScheduleClaims {
  private readonly states = new Map<string, ShardMinuteState>();
  /** Writes as DynamoDB would bill them: refused conditional writes included. */
  readonly ops = { reads: 0, writes: 0 };

  async shardsOf(minute: number): Promise<ShardMinuteState[]> {
    this.ops.reads++;
    return [...this.states.values()].filter((s) => s.minute === minute);
  }

  async claim(shard: ShardMinute): Promise<boolean> {
    this.ops.writes++;
    if (this.states.has(keyOf(shard))) return false;
    this.states.set(keyOf(shard), { ...shard, status: 'claimed' });
    return true;
  }

  async start(shard: ShardMinute, at: number): Promise<boolean> {
    return this.move(shard, ['claimed'], 'running', at);
  }

  async finish(shard: ShardMinute): Promise<void> {
    await this.move(shard, ['running'], 'done');
  }

  async giveBack(shard: ShardMinute): Promise<void> {
    await this.move(shard, ['running'], 'claimed');
  }

  markLost(shard: ShardMinute): Promise<boolean> {
    return this.move(shard, ['claimed', 'running'], 'lost');
  }

  private async move(
    shard: ShardMinute,
    from: readonly ShardStatus[],
    to: ShardStatus,
    startedAt?: number,
  ): Promise<boolean> {
    this.ops.writes++;
    const state = this.states.get(keyOf(shard));
    if (state === undefined || !from.includes(state.status)) return false;
    this.states.set(keyOf(shard), {
      ...state,
      status: to,
      ...(startedAt === undefined ? {} : { startedAt }),
    });
    return true;
  }
}

/** Shard-minutes sent, kept for whoever plays the queue's consumer. */
export class MemoryShardQueue implements ShardQueue {
  readonly sent: ShardMinute[] = [];

  async sendShards(shards: readonly ShardMinute[]): Promise<void> {
    this.sent.push(...shards);
  }

  /** Hands over and forgets what was sent so far. */
  take(): ShardMinute[] {
    return this.sent.splice(0);
  }
}
