import { describe, expect, it } from 'vitest';
import { DOCUMENTED_LIMITS_PER_SECOND, EndpointPacer } from '#adapters/bybit/pacing.js';

/** A pacer on a clock that only its own waits move. */
function pacer(maxWaitMs?: number) {
  let now = 1_000_000;
  const waits: number[] = [];
  const paced = new EndpointPacer(
    () => now,
    async (ms) => {
      waits.push(ms);
      now += ms;
    },
    maxWaitMs,
  );
  return { paced, waits, now: () => now, advance: (ms: number) => (now += ms) };
}

describe('EndpointPacer', () => {
  it("keeps to Bybit's documented limit per endpoint: the eleventh cancel in a second waits for the first to age out", async () => {
    const { paced, waits } = pacer();
    expect(DOCUMENTED_LIMITS_PER_SECOND['/v5/order/cancel']).toBe(10);
    for (let i = 0; i < 10; i++) expect(await paced.take('/v5/order/cancel')).toBeUndefined();
    expect(waits).toEqual([]);
    expect(await paced.take('/v5/order/cancel')).toBeUndefined();
    expect(waits).toEqual([1_000]);
    // Another endpoint has its own budget.
    expect(await paced.take('/v5/position/list')).toBeUndefined();
    expect(waits).toEqual([1_000]);
  });

  it('books slots before waiting: requests that wait together go out a second apart, not all at once', async () => {
    const now = 1_000_000;
    const waits: number[] = [];
    const paced = new EndpointPacer(
      () => now,
      async (ms) => {
        waits.push(ms);
      },
    );
    const taken = await Promise.all(Array.from({ length: 120 }, () => paced.take('/v5/position/list')));
    expect(taken.filter((t) => t === undefined)).toHaveLength(100);
    expect(waits).toEqual(Array.from({ length: 50 }, () => 1_000));
    // The third second is further off than a wait may be: not sent, with when to come back.
    expect(taken.filter((t) => t === now + 2_000)).toHaveLength(20);
  });

  it('never makes a caller wait that may not (a cancel, which must follow its last look at once)', async () => {
    const { paced, waits, now } = pacer();
    for (let i = 0; i < 10; i++) await paced.take('/v5/order/cancel', 0);
    expect(await paced.take('/v5/order/cancel', 0)).toBe(now() + 1_000);
    expect(waits).toEqual([]);
  });

  it('believes an answer that says nothing is left until its reset, then forgets it', async () => {
    const { paced, waits, now } = pacer();
    paced.observe('/v5/execution/list', { limit: 50, remaining: 0, resetAt: now() + 400 });
    expect(await paced.take('/v5/execution/list')).toBeUndefined();
    expect(waits).toEqual([400]);
    expect(await paced.take('/v5/execution/list')).toBeUndefined();
    expect(waits).toEqual([400]);
  });

  it('uses the limit the answers state instead of the documented one', async () => {
    const { paced, waits } = pacer();
    paced.observe('/v5/position/list', { limit: 2, remaining: 1 });
    await paced.take('/v5/position/list');
    await paced.take('/v5/position/list');
    expect(waits).toEqual([]);
    await paced.take('/v5/position/list');
    expect(waits).toEqual([1_000]);
  });

  it('does not wait longer than its bound: it says when the budget frees up and takes nothing', async () => {
    const { paced, waits, now, advance } = pacer(1_500);
    paced.observe('/v5/order/realtime', { remaining: 0, resetAt: now() + 5_000 });
    expect(await paced.take('/v5/order/realtime')).toBe(now() + 5_000);
    expect(waits).toEqual([]);
    advance(5_000);
    expect(await paced.take('/v5/order/realtime')).toBeUndefined();
  });
});
