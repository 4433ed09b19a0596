import { positionIdOf } from '#core/keys.js';
import type { SnapshotFailure } from '#core/types.js';
import type { ExchangeSession } from '#ports/exchange.js';
import { Metric } from '#ports/telemetry.js';
import type { ReconcilerDeps } from './dependencies.js';

/**
 * The rules every account's exchange access shares (ports/fleet.ts), as a check or a confirmation
 * pass applies them: wait out a pause, stay inside the fleet's request budget, and when the exchange
 * bans the fleet's address, pause everyone and say so once.
 */

/** How long to put off `requests` to the exchange (0: go now). */
export async function fleetWait(
  deps: Pick<ReconcilerDeps, 'fleet'>,
  requests: number,
  now: number,
): Promise<number> {
  const paused = await deps.fleet.pausedUntil(now);
  if (paused !== undefined) return paused - now;
  return (await deps.fleet.admit(requests, now)) - now;
}

/**
 * A session that notes the latest ban any of its answers carried, and sends nothing while the fleet is
 * paused (a ban seen by another account mid-way), or at all before `heldUntil` (its requests did not
 * fit the budget): such a call comes back unknown, `held-back` until then, which the core retries
 * like a rate limit.
 */
export function fleetSession(
  deps: Pick<ReconcilerDeps, 'fleet' | 'clock' | 'ids'>,
  session: ExchangeSession,
  options: { readonly heldUntil?: number },
): { readonly session: ExchangeSession; readonly bannedUntil: () => number | undefined } {
  let until: number | undefined;
  const note = (failure: Pick<SnapshotFailure, 'reason' | 'retryAt'> | undefined) => {
    if (failure?.reason === 'ip-banned' && failure.retryAt !== undefined)
      until = Math.max(until ?? 0, failure.retryAt);
  };
  /** The failure of a call held back, or undefined when it may go. */
  const holdBack = async (): Promise<SnapshotFailure | undefined> => {
    const now = deps.clock.now();
    const until =
      options.heldUntil !== undefined && options.heldUntil > now
        ? options.heldUntil
        : await deps.fleet.pausedUntil(now);
    if (until === undefined) return undefined;
    return {
      reason: 'held-back',
      detail: `held back, not sent: the fleet's request budget is spent or it is paused until ${new Date(until).toISOString()}`,
      retryAt: until,
    };
  };
  return {
    bannedUntil: () => until,
    session: {
      fetchOpenPositions: async () => {
        const now = deps.clock.now();
        const held = await holdBack();
        if (held !== undefined) {
          const snapshotId = deps.ids.next('held');
          return { status: 'unknown', snapshotId, fetchedAt: now, pages: 0, positions: [], failure: held };
        }
        const answer = await session.fetchOpenPositions();
        if (answer.status === 'unknown') note(answer.failure);
        return answer;
      },
      recheckSymbol: async (symbol) => {
        const held = await holdBack();
        if (held !== undefined)
          return { status: 'unknown', checkedAt: deps.clock.now(), open: [], failure: held };
        const answer = await session.recheckSymbol(symbol);
        if (answer.status === 'unknown') note(answer.failure);
        return answer;
      },
      fetchPositionChanges: async (positions) => {
        const held = await holdBack();
        if (held !== undefined) {
          return new Map(
            positions.map((p) => [
              positionIdOf(p),
              { status: 'unknown', searchedFrom: p.stateUpdatedAt, failure: held } as const,
            ]),
          );
        }
        const answers = await session.fetchPositionChanges(positions);
        for (const answer of answers.values()) if (answer.status === 'unknown') note(answer.failure);
        return answers;
      },
      fetchProtectiveOrders: async () => {
        const held = await holdBack();
        if (held !== undefined) return { status: 'unknown', failure: held };
        const answer = await session.fetchProtectiveOrders();
        if (answer.status === 'unknown') note(answer.failure);
        return answer;
      },
      cancelOrder: async (symbol, orderId) => {
        const held = await holdBack();
        if (held !== undefined) {
          return {
            status: 'failed',
            orderId,
            detail: held.detail,
            reason: held.reason,
            retryable: true,
            ...(held.retryAt === undefined ? {} : { retryAt: held.retryAt }),
          };
        }
        const answer = await session.cancelOrder(symbol, orderId);
        if (answer.status === 'failed' && answer.reason !== undefined) {
          note(
            answer.retryAt === undefined
              ? { reason: answer.reason }
              : { reason: answer.reason, retryAt: answer.retryAt },
          );
        }
        return answer;
      },
    },
  };
}

/** After using the exchange: a ban it answered with pauses the whole fleet, with one alarm per ban. */
export async function reportBan(
  deps: Pick<ReconcilerDeps, 'fleet' | 'telemetry'>,
  bannedUntil: number | undefined,
  accountId: string,
): Promise<void> {
  if (bannedUntil === undefined) return;
  if (!(await deps.fleet.pause(bannedUntil))) return;
  deps.telemetry.count(Metric.IpBans);
  deps.telemetry.log(
    'error',
    `the exchange banned the fleet's address until ${new Date(bannedUntil).toISOString()} (seen by ${accountId}): every account's checks and confirmations pause until then`,
    { accountId, bannedUntil },
  );
}
