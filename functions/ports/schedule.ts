/**
 * The scheduler's shards. Enabled accounts fall into `SCHEDULE_BUCKETS` fixed buckets by a hash of
 * their id; a fleet is scheduled as `shards` shards (a power of two dividing the buckets), shard j
 * holding the buckets b with b mod shards = j. Each shard's minute is claimed once, run once, and its
 * end recorded, so one invocation never has to hold or send the whole fleet.
 */

import { SCHEDULE_BUCKETS, type ShardCount } from '#contracts/messages.js';

export { SCHEDULE_BUCKETS, SHARD_COUNTS, type ShardCount } from '#contracts/messages.js';

/** The bucket an account's record is stored under for the scheduler's listing. */
export function scheduleBucketOf(accountId: string): number {
  // FNV-1a over a salted id: independent of `spreadOffset`'s hash, so a shard's accounts still spread
  // over the whole cadence period.
  let hash = 2166136261;
  const salted = `bucket:${accountId}`;
  for (let i = 0; i < salted.length; i++) hash = Math.imul(hash ^ salted.charCodeAt(i), 16777619);
  return (hash >>> 0) % SCHEDULE_BUCKETS;
}

/** The buckets shard `shard` of `shards` lists. */
export function bucketsOfShard(shard: number, shards: number): number[] {
  const buckets: number[] = [];
  for (let b = shard; b < SCHEDULE_BUCKETS; b += shards) buckets.push(b);
  return buckets;
}

/** One shard of one calendar minute (`minute` = epoch ms / 60,000). */
export interface ShardMinute {
  readonly minute: number;
  readonly shard: number;
  readonly shards: ShardCount;
}

/**
 * - claimed: the fan-out took it and sent (or is sending) its message;
 * - running: a shard run is sending its checks (since `startedAt`);
 * - done: every check of the shard's minute went out;
 * - lost: a later fan-out found it unfinished after its minute and reported it, once.
 */
export type ShardStatus = 'claimed' | 'running' | 'done' | 'lost';

export interface ShardMinuteState extends ShardMinute {
  readonly status: ShardStatus;
  readonly startedAt?: number;
}

/** The shard-minute records, in the table on AWS. Every transition is a conditional write. */
export interface ScheduleClaims {
  /** Every shard recorded for a minute, whatever its shard count (one read). */
  shardsOf(minute: number): Promise<ShardMinuteState[]>;
  /** Absent → claimed: true once, false when any run claimed it first. */
  claim(shard: ShardMinute): Promise<boolean>;
  /** claimed → running: true once; false for a duplicate message or a shard already run. */
  start(shard: ShardMinute, at: number): Promise<boolean>;
  /** running → done, with what the run sent. */
  finish(shard: ShardMinute, outcome: { readonly accounts: number; readonly checks: number }): Promise<void>;
  /** running → claimed after a failed run, so that the message's redelivery runs it again. */
  giveBack(shard: ShardMinute): Promise<void>;
  /** claimed or running → lost: true once, so a lost shard is reported by exactly one run. */
  markLost(shard: ShardMinute): Promise<boolean>;
}

/** Carries shard-minutes from the fan-out to the shard runs (its own queue on AWS). */
export interface ShardQueue {
  sendShards(shards: readonly ShardMinute[]): Promise<void>;
}
