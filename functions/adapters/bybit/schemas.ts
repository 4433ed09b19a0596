import * as z from 'zod';

/**
 * Zod schemas of the Bybit V5 responses the adapter reads. Lenient to fields we do not use (Bybit
 * adds fields often), strict on the ones we do: a response we cannot read with certainty must come
 * back `unknown`, never half-understood. Field meanings: bybit-exchange/docs `docs/v5/position/position.mdx`,
 * `docs/v5/order/execution.mdx`, `docs/v5/order/open-order.mdx`, `docs/v5/order/cancel-order.mdx`.
 */

/** A non-negative decimal quantity as Bybit writes it ("0.001", "300"). */
export const decimalString = z.string().regex(/^\d+(\.\d+)?$/, 'expected a decimal string');

/** Epoch milliseconds as a string ("1697673600012"), read as a number. */
export const msString = z
  .string()
  .regex(/^\d{1,16}$/, 'expected epoch milliseconds as a string')
  .transform(Number);

/**
 * Bybit's cross sequence. Documented as a long, but `"-1"` (a string) for a never-traded symbol:
 * accept both spellings and read a number.
 */
export const sequenceValue = z.union([
  z.number().int(),
  z
    .string()
    .regex(/^-?\d+$/, 'expected an integer sequence')
    .transform(Number),
]);

export const positionIdxValue = z.union([z.literal(0), z.literal(1), z.literal(2)]);

/**
 * The envelope of every V5 response. `time` is the exchange's clock, which all our times are on. A
 * refusal may come without `result` (the documented 10006 body is `{"retCode":10006,"retMsg":…}`):
 * its code must still be read, so `result` is required only of a success.
 */
export const envelopeSchema = z.object({
  retCode: z.number().int(),
  retMsg: z.string(),
  result: z.unknown().optional(),
  time: z.number().int().nonnegative().optional(),
});
export type BybitEnvelope = z.infer<typeof envelopeSchema>;

/**
 * One entry of `GET /v5/position/list`. `side` is "" (or "None" on older accounts) for an empty
 * position, which Bybit still lists when asked by symbol; an open one must name its side and time.
 */
export const positionEntrySchema = z
  .object({
    symbol: z.string().min(1),
    positionIdx: positionIdxValue,
    side: z.enum(['Buy', 'Sell', '', 'None']),
    size: decimalString,
    updatedTime: z.string(),
    seq: sequenceValue.optional(),
    // Position-level TP/SL and prices (Full mode): read only when they are decimals, else as unset.
    stopLoss: z.string().optional(),
    trailingStop: z.string().optional(),
    markPrice: z.string().optional(),
    avgPrice: z.string().optional(),
  })
  .superRefine((p, ctx) => {
    if (Number(p.size) === 0) return;
    if (p.side !== 'Buy' && p.side !== 'Sell') {
      ctx.addIssue({ code: 'custom', path: ['side'], message: 'open position without Buy/Sell side' });
    }
    if (!/^\d{1,16}$/.test(p.updatedTime)) {
      ctx.addIssue({ code: 'custom', path: ['updatedTime'], message: 'open position without updatedTime' });
    }
    // Hedge legs are one-sided by definition: a Sell on the Buy leg means we misread the response.
    if ((p.positionIdx === 1 && p.side === 'Sell') || (p.positionIdx === 2 && p.side === 'Buy')) {
      ctx.addIssue({ code: 'custom', path: ['side'], message: 'hedge leg with the opposite side' });
    }
  });
export type BybitPosition = z.output<typeof positionEntrySchema>;

/**
 * One entry of `GET /v5/execution/list`. `closedSize` reads as undefined when blank or missing: the
 * docs' example has carried `""` since 2023-04 and the field did not exist before, while live answers
 * write "0" on opening fills. Blank is unknown, never 0 (attribution.ts derives it or asks closed-PnL).
 * `seq` is absent only for classic-account spot. Funding records carry no fill quantity we use, so
 * only they may have an empty `execQty`.
 */
export const executionEntrySchema = z
  .object({
    symbol: z.string().min(1),
    execId: z.string().min(1),
    orderId: z.string(),
    side: z.enum(['Buy', 'Sell']),
    execQty: z.string(),
    closedSize: z
      .union([decimalString, z.literal('')])
      .optional()
      .transform((v) => (v === '' ? undefined : v)),
    execType: z.string().min(1),
    execTime: msString,
    seq: sequenceValue.optional(),
    stopOrderType: z.string().optional().default(''),
    createType: z.string().optional().default(''),
  })
  .superRefine((e, ctx) => {
    if (e.execType !== 'Funding' && !decimalString.safeParse(e.execQty).success) {
      ctx.addIssue({ code: 'custom', path: ['execQty'], message: 'fill without a decimal execQty' });
    }
  });
export type BybitExecution = z.output<typeof executionEntrySchema>;

/** A trigger price: "" or "0" when the order has none. */
const priceString = z.union([decimalString, z.literal('')]);

/** One entry of `GET /v5/order/realtime`. */
export const orderEntrySchema = z.object({
  orderId: z.string().min(1),
  symbol: z.string().min(1),
  positionIdx: positionIdxValue,
  side: z.enum(['Buy', 'Sell']),
  orderStatus: z.string().min(1),
  reduceOnly: z.boolean(),
  closeOnTrigger: z.boolean(),
  stopOrderType: z.string().optional().default(''),
  triggerPrice: priceString.optional().default(''),
  /** "0" on position-level (Full) TP/SL orders, which close whatever the size is. */
  qty: z.union([decimalString, z.literal('')]).optional(),
  /** 1: triggers when the price rises to it; 2: when it falls; 0 for orders without a trigger. */
  triggerDirection: z.union([z.number().int(), z.string().regex(/^\d$/).transform(Number)]).optional(),
  createdTime: msString,
});
export type BybitOrder = z.output<typeof orderEntrySchema>;

/**
 * One entry of `GET /v5/position/closed-pnl`: a closing order (Bybit) or closing fill (some
 * recordings), the side of that order (a Sell closes a long) and what it closed. Only these fields are
 * read; `createdTime` was 19 digits in older answers, so no time is relied on.
 */
export const closedPnlEntrySchema = z.object({
  symbol: z.string().min(1),
  orderId: z.string().min(1),
  side: z.enum(['Buy', 'Sell']),
  closedSize: decimalString,
});
export type BybitClosedPnl = z.output<typeof closedPnlEntrySchema>;

/** A price bound: "" (or a missing field, as spot writes it) is no bound. */
const boundString = z
  .union([decimalString, z.literal('')])
  .optional()
  .transform((v) => (v === '' ? undefined : v));

/**
 * One entry of the public `GET /v5/market/instruments-info` (docs/v5/market/instrument.mdx): only its
 * `priceFilter` is read. A trigger is a multiple of `tickSize` ("0.10" for BTCUSDT) within
 * [`minPrice`, `maxPrice`] ("0.10", "1999999.80").
 */
export const instrumentEntrySchema = z.object({
  symbol: z.string().min(1),
  priceFilter: z.object({
    tickSize: decimalString.refine((v) => Number(v) > 0, 'expected a positive tick size'),
    minPrice: boundString,
    maxPrice: boundString,
  }),
});
export type BybitInstrument = z.output<typeof instrumentEntrySchema>;

/** The result of `POST /v5/order/create`. */
export const createResultSchema = z.object({ orderId: z.string().min(1) });

/** The result of `POST /v5/order/cancel`. */
export const cancelResultSchema = z.object({ orderId: z.string() });

/** The list wrapper of every paged endpoint we use. */
export const listResultSchema = z.object({
  list: z.array(z.unknown()),
  nextPageCursor: z.string().optional().default(''),
});
