import Big from 'big.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type PriceFilter, priceOnTick } from '#adapters/bybit/instruments.js';

/** A filter without bounds unless given, as the schema reads a blank one. */
const rules = (f: Partial<PriceFilter> & Pick<PriceFilter, 'tickSize'>): PriceFilter => ({
  minPrice: undefined,
  maxPrice: undefined,
  ...f,
});

/** Replace mode's trigger on the instrument's tick: pure decimal arithmetic, no I/O. */

const ticks = fc.constantFrom('0.10', '0.5', '5', '0.0001', '0.01', '1', '0.000001', '0.25');
const prices = fc
  .tuple(fc.integer({ min: 0, max: 10_000_000 }), fc.integer({ min: 0, max: 99_999_999 }))
  .map(([whole, fraction]) => `${whole}.${String(fraction).padStart(8, '0')}`);

describe('priceOnTick', () => {
  it('puts any price on the tick, less than a tick away, never towards the market, never at 0', () => {
    fc.assert(
      fc.property(prices, ticks, fc.constantFrom('down' as const, 'up' as const), (price, tickSize, away) => {
        const placed = priceOnTick(price, rules({ tickSize }), away);
        if (!placed.ok) {
          // Refused only when the tick leaves no price at all.
          expect((away === 'down' && new Big(price).lt(tickSize)) || new Big(price).eq(0)).toBe(true);
          return;
        }
        const onTick = new Big(placed.price);
        expect(onTick.mod(tickSize).eq(0)).toBe(true);
        expect(onTick.gt(0)).toBe(true);
        expect(onTick.minus(price).abs().lt(tickSize)).toBe(true);
        if (away === 'down') expect(onTick.lte(price)).toBe(true);
        else expect(onTick.gte(price)).toBe(true);
      }),
    );
  });

  it('keeps a price already on the tick as it was written, and writes a moved one with the tick decimals', () => {
    expect(priceOnTick('57000', rules({ tickSize: '0.10' }), 'down')).toEqual({ ok: true, price: '57000' });
    expect(priceOnTick('3200.10', rules({ tickSize: '0.01' }), 'up')).toEqual({ ok: true, price: '3200.10' });
    expect(priceOnTick('57105.67283', rules({ tickSize: '0.10' }), 'down')).toEqual({
      ok: true,
      price: '57105.60',
    });
    expect(priceOnTick('3150.123456', rules({ tickSize: '0.01' }), 'up')).toEqual({
      ok: true,
      price: '3150.13',
    });
  });

  it('refuses a price the tick puts at 0, or outside the instrument range', () => {
    expect(priceOnTick('0.04', rules({ tickSize: '0.1' }), 'down')).toMatchObject({ ok: false });
    expect(priceOnTick('160.0001', rules({ tickSize: '0.010', maxPrice: '160' }), 'up')).toMatchObject({
      ok: false,
    });
    expect(priceOnTick('0.05', rules({ tickSize: '0.01', minPrice: '0.10' }), 'down')).toMatchObject({
      ok: false,
    });
  });
});
