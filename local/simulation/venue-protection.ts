/**
 * The simulated venue's ground truth about stops: when each live position was without one, and whether
 * stopguard's protection alarms and placed stops matched that truth.
 */

import { positionId } from '#core/keys.js';
import type { PositionIdx } from '#core/types.js';

/** A stretch of time a live position had no stop (and was not meant to be without one). */
export interface UnprotectedEpisode {
  readonly accountId: string;
  readonly symbol: string;
  readonly positionIdx: PositionIdx;
  readonly start: number;
  end?: number;
  /** When stopguard first judged it unprotected. */
  foundAt?: number;
}

const keyOf = (accountId: string, symbol: string, positionIdx: PositionIdx) =>
  `${accountId}|${positionId(symbol, positionIdx)}`;

export class ProtectionTruth {
  private readonly open = new Map<string, UnprotectedEpisode>();
  /** Positions whose alarm stopguard raised and has not yet seen recover. */
  private readonly raised = new Set<string>();
  private readonly intentional = new Set<string>();
  readonly episodes: UnprotectedEpisode[] = [];
  /** Alarms about a position that had its stop, or was meant to have none. */
  falseAlarms = 0;
  /** Stops stopguard placed on a position already protected, or no longer open: must stay 0. */
  misplacedStops = 0;
  stopsPlaced = 0;

  /** The bot opened this position without a stop on purpose (and registered it so). */
  markIntentional(accountId: string, symbol: string, positionIdx: PositionIdx, intentional: boolean): void {
    if (intentional) this.intentional.add(keyOf(accountId, symbol, positionIdx));
    else this.intentional.delete(keyOf(accountId, symbol, positionIdx));
  }

  isIntentional(accountId: string, symbol: string, positionIdx: PositionIdx): boolean {
    return this.intentional.has(keyOf(accountId, symbol, positionIdx));
  }

  /**
   * One account's live positions and which carry a stop (`positionId`s), after the traders moved:
   * episodes start and end here. A position no longer listed ended its episode by closing.
   */
  observe(
    accountId: string,
    live: readonly { symbol: string; positionIdx: PositionIdx }[],
    stopped: ReadonlySet<string>,
    now: number,
  ): void {
    const seen = new Set<string>();
    for (const p of live) {
      const key = keyOf(accountId, p.symbol, p.positionIdx);
      seen.add(key);
      const bare = !stopped.has(positionId(p.symbol, p.positionIdx)) && !this.intentional.has(key);
      const episode = this.open.get(key);
      if (bare && episode === undefined) {
        const started: UnprotectedEpisode = {
          accountId,
          symbol: p.symbol,
          positionIdx: p.positionIdx,
          start: now,
          // Its alarm is still up from before (stopguard never saw the stop that came and went between
          // two of its looks): the operator is told of this episode from its first moment.
          ...(this.raised.has(key) ? { foundAt: now } : {}),
        };
        this.open.set(key, started);
        this.episodes.push(started);
      } else if (!bare && episode !== undefined) {
        this.endEpisode(key, episode, now);
      }
    }
    for (const [key, episode] of this.open) {
      if (episode.accountId === accountId && !seen.has(key)) this.endEpisode(key, episode, now);
    }
  }

  /** stopguard judged the position unprotected: found, or a false alarm when the truth disagrees. */
  alarmed(accountId: string, symbol: string, positionIdx: PositionIdx, now: number): void {
    const episode = this.open.get(keyOf(accountId, symbol, positionIdx));
    if (episode === undefined) this.falseAlarms++;
    else episode.foundAt ??= now;
  }

  /**
   * The positions of an account whose alarm is up after a check, read from stopguard's stored watches
   * (an alarmed watch is what the gauge counts and the saved query names), not inferred from decisions.
   */
  alarmsUp(accountId: string, positions: readonly { symbol: string; positionIdx: PositionIdx }[]): void {
    for (const key of [...this.raised]) if (key.startsWith(`${accountId}|`)) this.raised.delete(key);
    for (const p of positions) this.raised.add(keyOf(accountId, p.symbol, p.positionIdx));
  }

  /** stopguard placed a stop: `protectedAlready` when the position had one, `open` whether it was live. */
  placed(protectedAlready: boolean, open: boolean): void {
    this.stopsPlaced++;
    if (protectedAlready || !open) this.misplacedStops++;
  }

  finish(now: number): void {
    for (const [key, episode] of this.open) this.endEpisode(key, episode, now);
  }

  private endEpisode(key: string, episode: UnprotectedEpisode, now: number): void {
    episode.end = now;
    this.open.delete(key);
  }
}
