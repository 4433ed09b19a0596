/**
 * The admin API: the hands of a test or an operator on the simulated exchange (accounts, market
 * moves, positions, faults) and its view of the ground truth; also served as `POST /admin/<method>`.
 */

import * as z from 'zod';
import type { SimExchange } from './exchange.js';
import {
  type FaultConfig,
  type FaultInjector,
  type FaultPatch,
  PRIVATE_ENDPOINTS,
  PUBLIC_ENDPOINTS,
} from './faults.js';
import type { FalseCancel, JudgedCancel, OrphanRecord } from './ground-truth.js';
import type { InstrumentSpec } from './instruments.js';
import type { RequestCounts } from './server.js';
import type {
  PositionIdx,
  ProtectiveOrderInput,
  SettleFundingInput,
  Side,
  SimAccountSpec,
  SimExecution,
  SimOrder,
  SimPosition,
} from './types.js';

/** What really happened, to judge a reconciler by. */
export interface GroundTruth {
  /** Cancels that hit a protective order of a position with size > 0 at that moment. */
  readonly falseCancels: FalseCancel[];
  /** Every protective order that outlived its position, ended or not. */
  readonly orphans: OrphanRecord[];
  /** The orphans still resting now, waiting to be cleaned. */
  readonly waitingOrphans: OrphanRecord[];
  /** Every successful cancel through the API, judged. */
  readonly cancels: JudgedCancel[];
  /**
   * Requests per account and endpoint, whatever their outcome; public market requests (unsigned) are
   * counted under `(public)`.
   */
  readonly requestCounts: RequestCounts;
}

/** Controls and observes the simulated exchange, bypassing HTTP, authentication and faults. */
export interface SimulatorAdmin {
  addAccount(spec: SimAccountSpec): void;
  /** Moves the market; conditional orders the new price crosses fire. */
  setPrice(symbol: string, price: string): void;
  /** Fixes a symbol's tick (and price range; by default one tick to 19999998 ticks) instead of deriving it. */
  setInstrument(spec: InstrumentSpec): void;
  /** Market order; adds to an existing position (one-way, opposite side: reduces, may flip). */
  openPosition(p: {
    accountId: string;
    symbol: string;
    side: Side;
    qty: string;
    price?: string;
    positionIdx?: PositionIdx;
  }): void;
  /** Rests a reduce-only protective order on an open position; returns its orderId. */
  placeProtectiveOrder(o: ProtectiveOrderInput): string;
  closePosition(p: {
    accountId: string;
    symbol: string;
    positionIdx?: PositionIdx;
    how?: 'manual' | 'liquidation' | 'adl';
    qty?: string;
  }): void;
  /**
   * Settles funding now on every open position (of `accountId`, or of every account) at `rate`
   * (signed, default "0.0001"): each position's `seq` takes the symbol's next cross sequence and
   * its `updatedTime` now, with no trade; a `Funding` row is written per position and returned.
   */
  settleFunding(f?: SettleFundingInput): SimExecution[];
  /** Merges into the current faults, field by field; takes effect on the next request. */
  setFaults(f: Partial<FaultConfig>): void;
  /** The current fault configuration. */
  faults(): FaultConfig;
  /** The account's open positions (size > 0), the truth regardless of faults. */
  positions(accountId: string): SimPosition[];
  /** The account's resting orders, the truth regardless of faults. */
  openOrders(accountId: string): SimOrder[];
  groundTruth(): GroundTruth;
}

/** The admin API over an exchange, its fault injector, and the HTTP layer's request counts. */
export function createAdmin(
  exchange: SimExchange,
  faults: FaultInjector,
  requestCounts: () => RequestCounts,
): SimulatorAdmin {
  return {
    addAccount: (spec) => exchange.addAccount(spec),
    setPrice: (symbol, price) => exchange.setPrice(symbol, price),
    setInstrument: (spec) => exchange.instruments.set(spec),
    openPosition: (p) => {
      exchange.openPosition(p);
    },
    placeProtectiveOrder: (o) => exchange.placeProtectiveOrder(o),
    closePosition: (p) => {
      exchange.closePosition(p);
    },
    settleFunding: (f) => exchange.settleFunding(f),
    setFaults: (f) => faults.set(f),
    faults: () => faults.config,
    positions: (accountId) => exchange.openPositions(accountId),
    openOrders: (accountId) => exchange.openOrders(accountId),
    groundTruth: () => {
      const orphans = exchange.orphans();
      return {
        falseCancels: exchange.falseCancels(),
        orphans,
        waitingOrphans: orphans.filter((o) => o.endedAt === undefined),
        cancels: exchange.cancels(),
        requestCounts: requestCounts(),
      };
    },
  };
}

const decimal = z.string().regex(/^\d+(\.\d+)?$/);
const positionIdx = z.union([z.literal(0), z.literal(1), z.literal(2)]);
const targeted = {
  probability: z.number().min(0).max(1).exactOptional(),
  endpoints: z.array(z.enum([...PRIVATE_ENDPOINTS, ...PUBLIC_ENDPOINTS])).exactOptional(),
};

const adminInputs = {
  addAccount: z.object({
    id: z.string().min(1),
    apiKey: z.string().min(1),
    apiSecret: z.string().min(1),
    positionMode: z.enum(['one-way', 'hedge']).exactOptional(),
  }),
  setPrice: z.object({ symbol: z.string().min(1), price: decimal }),
  setInstrument: z.strictObject({
    symbol: z.string().min(1),
    tickSize: decimal,
    minPrice: decimal.exactOptional(),
    maxPrice: decimal.exactOptional(),
  }),
  openPosition: z.object({
    accountId: z.string(),
    symbol: z.string().min(1),
    side: z.enum(['Buy', 'Sell']),
    qty: decimal,
    price: decimal.exactOptional(),
    positionIdx: positionIdx.exactOptional(),
  }),
  placeProtectiveOrder: z.object({
    accountId: z.string(),
    symbol: z.string().min(1),
    positionIdx: positionIdx.exactOptional(),
    kind: z.enum(['stop-loss', 'take-profit', 'trailing-stop', 'reduce-only-limit']),
    triggerPrice: decimal,
    qty: decimal.exactOptional(),
  }),
  closePosition: z.object({
    accountId: z.string(),
    symbol: z.string().min(1),
    positionIdx: positionIdx.exactOptional(),
    how: z.enum(['manual', 'liquidation', 'adl']).exactOptional(),
    qty: decimal.exactOptional(),
  }),
  setFaults: z.strictObject({
    dropPositions: z
      .strictObject({
        probability: targeted.probability,
        maxDropped: z.number().int().min(1).exactOptional(),
      })
      .exactOptional(),
    correlatedDrop: z
      .strictObject({
        probability: targeted.probability,
        durationMs: z.number().min(0).exactOptional(),
        includeSymbolQueries: z.boolean().exactOptional(),
      })
      .exactOptional(),
    truncatedPagination: z.strictObject(targeted).exactOptional(),
    stale: z.strictObject(targeted).exactOptional(),
    serverError: z.strictObject(targeted).exactOptional(),
    timeout: z
      .strictObject({
        ...targeted,
        delayMs: z.number().min(0).exactOptional(),
        applyMutations: z.boolean().exactOptional(),
      })
      .exactOptional(),
    rateLimit: z.strictObject(targeted).exactOptional(),
    historyLagMs: z.number().min(0).exactOptional(),
    blankClosedSize: z.strictObject({ probability: targeted.probability }).exactOptional(),
  }),
  settleFunding: z.strictObject({
    accountId: z.string().exactOptional(),
    rate: z
      .string()
      .regex(/^-?\d+(\.\d+)?$/)
      .exactOptional(),
  }),
  account: z.object({ accountId: z.string() }),
};

/** `POST /admin/<method>`: the admin API over JSON, inputs validated. */
export function dispatchAdmin(admin: SimulatorAdmin, method: string, body: unknown): unknown {
  switch (method) {
    case 'addAccount':
      return admin.addAccount(adminInputs.addAccount.parse(body));
    case 'setPrice': {
      const { symbol, price } = adminInputs.setPrice.parse(body);
      return admin.setPrice(symbol, price);
    }
    case 'setInstrument':
      return admin.setInstrument(adminInputs.setInstrument.parse(body));
    case 'openPosition':
      return admin.openPosition(adminInputs.openPosition.parse(body));
    case 'placeProtectiveOrder':
      return { orderId: admin.placeProtectiveOrder(adminInputs.placeProtectiveOrder.parse(body)) };
    case 'closePosition':
      return admin.closePosition(adminInputs.closePosition.parse(body));
    case 'settleFunding':
      return admin.settleFunding(adminInputs.settleFunding.parse(body));
    case 'setFaults':
      // A patch may leave a probability out to change only, say, endpoints; merging keeps the old one.
      return admin.setFaults(adminInputs.setFaults.parse(body) as FaultPatch);
    case 'faults':
      return admin.faults();
    case 'positions':
      return admin.positions(adminInputs.account.parse(body).accountId);
    case 'openOrders':
      return admin.openOrders(adminInputs.account.parse(body).accountId);
    case 'groundTruth':
    case 'ground-truth':
      return admin.groundTruth();
    default:
      throw new Error(`unknown admin method ${method}`);
  }
}
