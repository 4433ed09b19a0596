/** `startBybitSimulator`, and the simulator's public exports. */

import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdmin, dispatchAdmin, type SimulatorAdmin } from './admin.js';
import { SimExchange } from './exchange.js';
import { type FaultConfig, FaultInjector } from './faults.js';
import { DEFAULT_FUNDING_RATE } from './funding.js';
import { RateLimiter } from './rate-limit.js';
import { SimulatorHttp } from './server.js';
import type { SimAccountSpec } from './types.js';

export type { GroundTruth, SimulatorAdmin } from './admin.js';
export { createVirtualClock, type VirtualClock } from './clock.js';
export { SimExchange } from './exchange.js';
export {
  defaultFaults,
  type FaultConfig,
  type FaultPatch,
  noFaults,
  PRIVATE_ENDPOINTS,
  type PrivateEndpoint,
  PUBLIC_ENDPOINTS,
  type PublicEndpoint,
  type SimEndpoint,
  type TargetedFault,
} from './faults.js';
export { DEFAULT_FUNDING_RATE, type FundingSchedule, MIN_FUNDING_EVERY_MS } from './funding.js';
export type { FalseCancel, JudgedCancel, OrphanEnd, OrphanRecord } from './ground-truth.js';
export type { InstrumentSpec, SimPriceFilter } from './instruments.js';
export { BYBIT_LIMITS_PER_SECOND } from './rate-limit.js';
export { PUBLIC_CALLER, type RequestCounts, UNKNOWN_ACCOUNT } from './server.js';
export type {
  PositionIdx,
  ProtectiveKind,
  SettleFundingInput,
  Side,
  SimAccountSpec,
  SimClosedPnl,
  SimExecution,
  SimOrder,
  SimPosition,
} from './types.js';

export interface SimulatorOptions {
  /** Seeds every fault decision; the same seed and the same requests give the same responses. Default 1. */
  seed?: number;
  /** The simulator's time: record times, history lag, rate-limit windows, the envelope's `time`. Default Date.now. */
  clock?: () => number;
  /** Merged over the defaults (2 % single-position drops, nothing else). */
  faults?: Partial<FaultConfig>;
  accounts?: SimAccountSpec[];
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0: any free port. */
  port?: number;
  /** Overrides Bybit's per-endpoint limits for every endpoint; 0 disables limiting. */
  rateLimitPerSecond?: number;
  /**
   * The clock `X-BAPI-TIMESTAMP` is checked against (recv window). Defaults to `clock`. The SDK stamps
   * requests with Date.now, so with a virtual `clock` either pass `authClock: Date.now` here or give the
   * client `syncTimeBeforePrivateRequests: true` (it then reads `/v5/market/time`).
   */
  authClock?: () => number;
  /**
   * Settles funding on every open position at each multiple of this interval since the epoch (8 h:
   * 00, 08, 16 UTC), before the next operation that reads or changes positions (see
   * `SimExchange`). At least 60000; off when omitted. `admin.settleFunding` works either way.
   */
  fundingEveryMs?: number;
  /** The scheduled fundings' rate, a signed decimal; default "0.0001". */
  fundingRate?: string;
}

export interface BybitSimulator {
  /** `http://127.0.0.1:<port>`: the `baseUrl` for `RestClientV5`. */
  url: string;
  admin: SimulatorAdmin;
  close(): Promise<void>;
}

/** Starts a Bybit V5 simulator on loopback (see README.md in this folder). */
export async function startBybitSimulator(options: SimulatorOptions = {}): Promise<BybitSimulator> {
  const clock = options.clock ?? Date.now;
  const exchange = new SimExchange(
    clock,
    options.fundingEveryMs === undefined
      ? undefined
      : { everyMs: options.fundingEveryMs, rate: options.fundingRate ?? DEFAULT_FUNDING_RATE },
  );
  for (const account of options.accounts ?? []) exchange.addAccount(account);
  const faults = new FaultInjector(options.seed ?? 1, options.faults ?? {});
  const limiter = new RateLimiter(options.rateLimitPerSecond);
  const counts = { get: () => http.requestCounts() };
  const admin = createAdmin(exchange, faults, () => counts.get());
  const http: SimulatorHttp = new SimulatorHttp({
    exchange,
    faults,
    limiter,
    clock,
    authClock: options.authClock ?? clock,
    admin: (method, body) => dispatchAdmin(admin, method, body),
  });
  const server = createServer((req, res) => {
    http.handle(req, res).catch((error: unknown) => {
      // A bug in the simulator, not a simulated fault: answer so the client does not hang.
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain' });
      res.end(`simulator error: ${error instanceof Error ? error.message : String(error)}`);
    });
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    admin,
    close: async () => {
      http.releaseHeld();
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) =>
        server.close((error) => (error ? reject(error) : resolve())),
      );
    },
  };
}
