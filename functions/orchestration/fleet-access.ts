import { positionIdOf } from '#core/keys.js';
import type { SnapshotFailure } from '#core/types.js';
import { type ExchangeSession, failedCancel } from '#ports/exchange.js';
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
 * A session that notes the latest ban any of its answers carried and sends nothing more until it ends,
 * nothing while the fleet is paused (a ban another worker saw, as far as the guard's last read knows),
 * and nothing at all before `heldUntil` (its requests did not fit the budget): such a call comes back
 * unknown, `held-back` until then, which the core retries like a rate limit.
 */
export function fleetSession(
  deps: Pick<ReconcilerDeps, 'fleet' | 'clock' | 'ids'>,
  session: ExchangeSession,
  options: { readonly heldUntil?: number },
): { readonly session: ExchangeSession; readonly bannedUntil: () => number | undefined } {
  /** The latest ban this session's own answers carried: nothing more is sent before it ends. */
  let banned: number | undefined;
  const note = (failure: Pick<SnapshotFailure, 'reason' | 'retryAt'> | undefined) => {
    if (failure?.reason === 'ip-banned' && failure.retryAt !== undefined)
      banned = Math.max(banned ?? 0, failure.retryAt);
  };
  /**
   * The failure of a call held back, or undefined when it may go. A cancel asks only what this
   * session already knows (its budget, a ban one of its own answers carried): it follows its
   * position's last look, and a table read between the two would widen that window.
   */
  const holdBack = async (call: 'look' | 'cancel' = 'look'): Promise<SnapshotFailure | undefined> => {
    const now = deps.clock.now();
    const known = Math.max(options.heldUntil ?? 0, banned ?? 0);
    const holdUntil = known > now ? known : call === 'cancel' ? undefined : await deps.fleet.pausedUntil(now);
    if (holdUntil === undefined) return undefined;
    return {
      reason: 'held-back',
      detail: `held back, not sent: the fleet's request budget is spent or it is paused until ${new Date(holdUntil).toISOString()}`,
      retryAt: holdUntil,
    };
  };
  return {
    bannedUntil: () => banned,
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
      fetchProtectiveOrders: async (symbols) => {
        const held = await holdBack();
        if (held !== undefined) return { status: 'unknown', failure: held };
        const answer = await session.fetchProtectiveOrders(symbols);
        if (answer.status === 'unknown') note(answer.failure);
        return answer;
      },
      cancelOrder: async (symbol, orderId) => {
        const held = await holdBack('cancel');
        if (held !== undefined) return failedCancel(orderId, held, true);
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
      placeStop: async (request) => {
        const held = await holdBack('cancel');
        if (held !== undefined) return { status: 'failed', detail: held.detail, reason: held.reason };
        const answer = await session.placeStop(request);
        if (answer.status === 'failed' && answer.reason !== undefined) note({ reason: answer.reason });
        return answer;
      },
    },
  };
}

/**
 * After using the exchange: a ban one of its answers carried. When the workers share their address
 * (`sharedEgress`) the whole fleet pauses, with one alarm per ban. Otherwise only this account waits
 * (its session sent nothing more, its suspects retry after the ban): a 403 from one account's host may
 * be a region block, and must not stop every other account.
 */
export async function reportBan(
  deps: Pick<ReconcilerDeps, 'fleet' | 'telemetry' | 'settings'>,
  bannedUntil: number | undefined,
  accountId: string,
): Promise<void> {
  if (bannedUntil === undefined) return;
  const until = new Date(bannedUntil).toISOString();
  if (!deps.settings.sharedEgress) {
    deps.telemetry.count(Metric.IpBans);
    deps.telemetry.log(
      'error',
      `the exchange refused ${accountId}'s requests with HTTP 403 until ${until} (an address ban or a region block): this account waits; others go on`,
      { accountId, bannedUntil },
    );
    return;
  }
  if (!(await deps.fleet.pause(bannedUntil))) return;
  deps.telemetry.count(Metric.IpBans);
  deps.telemetry.log(
    'error',
    `the exchange banned the fleet's address until ${until} (seen by ${accountId}): every account's checks and confirmations pause until then`,
    { accountId, bannedUntil },
  );
}
