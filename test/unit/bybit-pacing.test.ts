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
