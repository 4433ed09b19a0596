import { describe, expect, it } from 'vitest';
import { DynamoFleetGuard } from '#adapters/dynamodb/dynamo-fleet.js';
import { MemoryFleetGuard } from '#adapters/memory/memory-fleet.js';
import { type FleetBudget, type FleetGuard, fleetBudgetOf } from '#ports/fleet.js';
import { useDynamoDbLocal } from '#test/support/dynamodb.js';
import { T0 } from '#test/support/records.js';

const dynamo = useDynamoDbLocal();
/** The start of a one-second slice. */
const SLICE = Math.floor(T0 / 1_000) * 1_000;

/** Both implementations must admit the same way: the simulation's figures rest on MemoryFleetGuard. */
const implementations: [string, (budget: FleetBudget) => Promise<FleetGuard>][] = [
  ['MemoryFleetGuard', async (budget) => new MemoryFleetGuard(budget)],
  // No pause cache: each test reads what the other calls wrote.
  ['DynamoFleetGuard', async (budget) => new DynamoFleetGuard(await dynamo.freshTable(), budget, 0)],
];

describe.each(implementations)('%s', (_name, makeGuard) => {
  it('admits exactly the slice budget to racing callers and sends the rest to the next slice', async () => {
    const guard = await makeGuard(fleetBudgetOf(50)); // 10 per one-second slice
    const answers = await Promise.all(Array.from({ length: 30 }, () => guard.admit(1, SLICE + 200)));
    expect(answers.filter((a) => a === SLICE + 200)).toHaveLength(10);
    expect(answers.filter((a) => a === SLICE + 1_000)).toHaveLength(20);
    // The next slice starts afresh.
    expect(await guard.admit(10, SLICE + 1_000)).toBe(SLICE + 1_000);
  });

  it('takes a request larger than the slice budget only alone, in a slice nobody touched', async () => {
    const guard = await makeGuard(fleetBudgetOf(25)); // 5 per slice
    expect(await guard.admit(1, SLICE)).toBe(SLICE);
    expect(await guard.admit(8, SLICE + 10)).toBe(SLICE + 1_000);
    expect(await guard.admit(8, SLICE + 1_000)).toBe(SLICE + 1_000);
    expect(await guard.admit(1, SLICE + 1_001)).toBe(SLICE + 2_000);
  });

  it('admits everything without a budget', async () => {
    const guard = await makeGuard(fleetBudgetOf(0));
    for (let i = 0; i < 5; i++) expect(await guard.admit(1_000, SLICE)).toBe(SLICE);
  });

  it('pauses until the latest ban, is set by one of two reporters of it, and ends on time', async () => {
    const guard = await makeGuard(fleetBudgetOf(0));
    expect(await guard.pausedUntil(SLICE)).toBeUndefined();
    const reports = await Promise.all([guard.pause(SLICE + 600_000), guard.pause(SLICE + 600_000)]);
    expect(reports.filter(Boolean)).toHaveLength(1);
    // An earlier end never shortens it; a later one extends it.
    expect(await guard.pause(SLICE + 300_000)).toBe(false);
    expect(await guard.pausedUntil(SLICE + 1)).toBe(SLICE + 600_000);
    expect(await guard.pause(SLICE + 700_000)).toBe(true);
    expect(await guard.pausedUntil(SLICE + 600_000)).toBe(SLICE + 700_000);
    expect(await guard.pausedUntil(SLICE + 700_000)).toBeUndefined();
  });
});

describe('DynamoFleetGuard', () => {
  it('reads the pause at most once per cache period, and afresh after it reported one', async () => {
    const table = await dynamo.freshTable();
    const reader = new DynamoFleetGuard(table, fleetBudgetOf(0), 5_000);
    const banned = new DynamoFleetGuard(table, fleetBudgetOf(0), 5_000);
    expect(await reader.pausedUntil(SLICE)).toBeUndefined();
    await banned.pause(SLICE + 600_000);
    // Within the cache period the reader has not seen it yet: a few seconds, against a 10-minute ban.
    expect(await reader.pausedUntil(SLICE + 4_000)).toBeUndefined();
    expect(await reader.pausedUntil(SLICE + 5_000)).toBe(SLICE + 600_000);
    expect(reader.ops.reads).toBe(2);
    expect(await banned.pausedUntil(SLICE + 1)).toBe(SLICE + 600_000);
  });
});
