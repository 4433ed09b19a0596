/** How the simulated Bybit misbehaves: the fault configuration and its seeded per-request decisions. */

import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import type { RandomGenerator } from 'pure-rand/types/RandomGenerator';

/** The private REST paths the simulator serves; faults can be aimed at a subset of them. */
export const PRIVATE_ENDPOINTS = [
  '/v5/position/list',
  '/v5/execution/list',
  '/v5/position/closed-pnl',
  '/v5/order/history',
  '/v5/order/realtime',
  '/v5/order/cancel',
  '/v5/order/create',
] as const;
export type PrivateEndpoint = (typeof PRIVATE_ENDPOINTS)[number];

/** The public (unsigned) market paths whose requests are counted and can be aimed at by a fault. */
export const PUBLIC_ENDPOINTS = ['/v5/market/instruments-info'] as const;
export type PublicEndpoint = (typeof PUBLIC_ENDPOINTS)[number];
export type SimEndpoint = PrivateEndpoint | PublicEndpoint;

export interface TargetedFault {
  /** Per request, in [0, 1]. */
  probability: number;
  /**
   * Only these endpoints misbehave; when omitted, every private endpoint the fault applies to. A public
   * endpoint misbehaves only when named, so turning a fault up everywhere leaves market data alone.
   */
  endpoints?: readonly SimEndpoint[];
}

/**
 * How the simulated Bybit misbehaves. Every field is optional in a patch (`setFaults`), and a patch
 * merges into the current value field by field.
 */
export interface FaultConfig {
  /** The incident: a bulk position list (no `symbol`) silently omits 1..maxDropped open positions. */
  dropPositions: { probability: number; maxDropped?: number };
  /**
   * With this probability a position dropped by `dropPositions` stays dropped from bulk lists for
   * `durationMs`, so a confirming re-fetch lies too. `includeSymbolQueries` makes a `symbol` query
   * omit it as well (a lying targeted re-check).
   */
  correlatedDrop: { probability: number; durationMs?: number; includeSymbolQueries?: boolean };
  /** A request carrying a cursor gets an empty last page (`list: []`, cursor `""`) although more exists. */
  truncatedPagination: TargetedFault;
  /** A GET is answered with the previous answer to the same query (old data, current `time`). */
  stale: TargetedFault;
  /** HTTP 502 or 503 with a non-JSON body. */
  serverError: TargetedFault;
  /**
   * The response is held `delayMs` (wall time) and the connection then closed without an answer.
   * `applyMutations` (default true): a cancel or create still takes effect, only its answer is lost.
   */
  timeout: TargetedFault & { delayMs?: number; applyMutations?: boolean };
  /** retCode 10006 "Too many visits!" with the rate-limit headers. */
  rateLimit: TargetedFault;
  /** Executions, closed PnL and order history appear this long after they happen. */
  historyLagMs: number;
  /**
   * Per execution, in [0, 1]: `/v5/execution/list` answers this fill with `closedSize: ""`, as the
   * docs' example has since 2023-04 (opening and closing fills alike; funding rows keep "0"). Decided
   * by a stable hash of the seed and the execId, not by the per-request generators: the same
   * execution always answers the same, and the other faults' draws do not change.
   */
  blankClosedSize: { probability: number };
}

export type FaultPatch = Partial<FaultConfig>;

export const defaultFaults: FaultConfig = {
  dropPositions: { probability: 0.02, maxDropped: 1 },
  correlatedDrop: { probability: 0, durationMs: 0, includeSymbolQueries: false },
  truncatedPagination: { probability: 0 },
  stale: { probability: 0 },
  serverError: { probability: 0 },
  timeout: { probability: 0, delayMs: 10_000, applyMutations: true },
  rateLimit: { probability: 0 },
  historyLagMs: 0,
  blankClosedSize: { probability: 0 },
};

/** No faults at all, not even the default 2 % drops. */
export const noFaults: FaultConfig = { ...defaultFaults, dropPositions: { probability: 0, maxDropped: 1 } };

export function mergeFaults(base: FaultConfig, patch: FaultPatch): FaultConfig {
  const merged: FaultConfig = {
    dropPositions: { ...base.dropPositions, ...patch.dropPositions },
    correlatedDrop: { ...base.correlatedDrop, ...patch.correlatedDrop },
    truncatedPagination: { ...base.truncatedPagination, ...patch.truncatedPagination },
    stale: { ...base.stale, ...patch.stale },
    serverError: { ...base.serverError, ...patch.serverError },
    timeout: { ...base.timeout, ...patch.timeout },
    rateLimit: { ...base.rateLimit, ...patch.rateLimit },
    historyLagMs: patch.historyLagMs ?? base.historyLagMs,
    blankClosedSize: { ...base.blankClosedSize, ...patch.blankClosedSize },
  };
  validate(merged);
  return merged;
}

function validate(config: FaultConfig): void {
  const probabilities: [string, number][] = [
    ['dropPositions', config.dropPositions.probability],
    ['correlatedDrop', config.correlatedDrop.probability],
    ['truncatedPagination', config.truncatedPagination.probability],
    ['stale', config.stale.probability],
    ['serverError', config.serverError.probability],
    ['timeout', config.timeout.probability],
    ['rateLimit', config.rateLimit.probability],
    ['blankClosedSize', config.blankClosedSize.probability],
  ];
  for (const [name, p] of probabilities) {
    if (!(p >= 0 && p <= 1)) throw new Error(`faults.${name}.probability must be in [0, 1], got ${p}`);
  }
  const maxDropped = config.dropPositions.maxDropped ?? 1;
  if (!Number.isInteger(maxDropped) || maxDropped < 1)
    throw new Error('faults.dropPositions.maxDropped must be >= 1');
  for (const [name, ms] of [
    ['historyLagMs', config.historyLagMs],
    ['correlatedDrop.durationMs', config.correlatedDrop.durationMs ?? 0],
    ['timeout.delayMs', config.timeout.delayMs ?? 0],
  ] as const) {
    if (!(ms >= 0)) throw new Error(`faults.${name} must be >= 0, got ${ms}`);
  }
}

/** The request-level faults drawn for one request; at most one of them is acted on, in this order. */
export interface RequestFaults {
  readonly serverError?: 502 | 503;
  readonly timeout: boolean;
  readonly rateLimited: boolean;
  readonly stale: boolean;
  readonly truncate: boolean;
}

/**
 * Seeded, reproducible fault decisions. Each (account, endpoint) pair draws from its own generator,
 * so one account's faults do not depend on how its requests interleave with other accounts' or
 * other endpoints'; and every request consumes the same number of draws whatever the probabilities,
 * so turning one fault up does not reshuffle the others.
 */
export class FaultInjector {
  private current: FaultConfig;
  private readonly generators = new Map<string, RandomGenerator>();
  /** accountId → position key → dropped from bulk lists until this simulator time. */
  private readonly stickyDrops = new Map<string, Map<string, number>>();

  constructor(
    private readonly seed: number,
    patch: FaultPatch = {},
  ) {
    this.current = mergeFaults(defaultFaults, patch);
  }

  get config(): FaultConfig {
    return structuredClone(this.current);
  }

  set(patch: FaultPatch): void {
    this.current = mergeFaults(this.current, patch);
  }

  /** `accountId`: the caller a public request is counted under (it carries no key). */
  draw(accountId: string, endpoint: SimEndpoint): RequestFaults {
    const rng = this.generator(accountId, endpoint);
    const isPublic = (PUBLIC_ENDPOINTS as readonly string[]).includes(endpoint);
    const hits = (fault: TargetedFault, u: number) =>
      u < fault.probability &&
      (fault.endpoints === undefined ? !isPublic : fault.endpoints.includes(endpoint));
    const uServer = uniformFloat64(rng);
    const uCode = uniformFloat64(rng);
    const uTimeout = uniformFloat64(rng);
    const uRate = uniformFloat64(rng);
    const uStale = uniformFloat64(rng);
    const uTruncate = uniformFloat64(rng);
    const c = this.current;
    return {
      ...(hits(c.serverError, uServer) ? { serverError: uCode < 0.5 ? 502 : 503 } : {}),
      timeout: hits(c.timeout, uTimeout),
      rateLimited: hits(c.rateLimit, uRate),
      stale: hits(c.stale, uStale),
      truncate: hits(c.truncatedPagination, uTruncate),
    };
  }

  /**
   * Which of `candidates` (the open positions a bulk list page would show, by key) to omit at `now`:
   * those still under a correlated drop, plus, with `dropPositions.probability`, 1..maxDropped others.
   */
  positionsToDrop(accountId: string, candidates: readonly string[], now: number): Set<string> {
    const rng = this.generator(accountId, 'drops');
    const sticky = this.stickyFor(accountId);
    const dropped = new Set(candidates.filter((key) => (sticky.get(key) ?? -1) > now));
    const { dropPositions, correlatedDrop } = this.current;
    if (uniformFloat64(rng) >= dropPositions.probability) return dropped;
    const pool = candidates.filter((key) => !dropped.has(key));
    const k = Math.min(pool.length, uniformInt(rng, 1, dropPositions.maxDropped ?? 1));
    for (let i = 0; i < k; i++) {
      const j = uniformInt(rng, i, pool.length - 1);
      const picked = pool[j] as string;
      pool[j] = pool[i] as string;
      pool[i] = picked;
      dropped.add(picked);
      const durationMs = correlatedDrop.durationMs ?? 0;
      if (uniformFloat64(rng) < correlatedDrop.probability && durationMs > 0)
        sticky.set(picked, now + durationMs);
    }
    return dropped;
  }

  /**
   * Whether `/v5/execution/list` answers this execution with a blank `closedSize`. A pure function of
   * the seed, the execId and the probability: no generator is advanced, every read answers the same.
   */
  blanksClosedSize(execId: string): boolean {
    const { probability } = this.current.blankClosedSize;
    if (probability <= 0) return false;
    return unitInterval(hash32(this.seed, `blankClosedSize\u0000${execId}`)) < probability;
  }

  /** Whether a `symbol` query should also hide this position (correlated drop aimed at re-checks). */
  hiddenFromSymbolQuery(accountId: string, key: string, now: number): boolean {
    return (
      this.current.correlatedDrop.includeSymbolQueries === true &&
      (this.stickyFor(accountId).get(key) ?? -1) > now
    );
  }

  private stickyFor(accountId: string): Map<string, number> {
    let sticky = this.stickyDrops.get(accountId);
    if (!sticky) {
      sticky = new Map();
      this.stickyDrops.set(accountId, sticky);
    }
    return sticky;
  }

  private generator(accountId: string, stream: string): RandomGenerator {
    const name = `${accountId}\u0000${stream}`;
    let rng = this.generators.get(name);
    if (!rng) {
      rng = xoroshiro128plus(hash32(this.seed, name));
      this.generators.set(name, rng);
    }
    return rng;
  }
}

/** A 32-bit hash spread over [0, 1) by murmur3's finaliser (FNV-1a's low bits alone are not uniform enough). */
function unitInterval(h: number): number {
  let x = h >>> 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b) >>> 0;
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35) >>> 0;
  x ^= x >>> 16;
  return (x >>> 0) / 2 ** 32;
}

/** FNV-1a over the seed and a name: a stable 32-bit seed per stream. */
function hash32(seed: number, name: string): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h | 0;
}
