import type { RegisterMessage, UnregisterMessage } from '#contracts/messages.js';
import { trackedFrom } from '#core/snapshot.js';
import { versionOf } from '#core/state-order.js';
import type { ObservedPosition, PositionSnapshot } from '#core/types.js';
import type { MarketRules } from '#ports/market-rules.js';
import type { ReconcilerDeps } from './dependencies.js';

/**
 * How far ahead of our clock a registered fill time may be: exchange and bot clocks drift a little,
 * but a state "from the future" would outrank every real one and hide the position's later changes.
 */
export const REGISTER_CLOCK_SKEW_MS = 30_000;

export type RegisterDeps = Pick<ReconcilerDeps, 'accounts' | 'store' | 'telemetry' | 'clock' | 'ids'> & {
  readonly market: MarketRules;
};

export type RegisterOutcome =
  /** `suspectEnded`: a suspect raised on an older state of the position was voided. */
  | { readonly status: 'tracked' | 'already-known'; readonly suspectEnded: boolean }
  /** Nothing was written; `reason` says why, for the dead-letter queue and the log. */
  | { readonly status: 'rejected'; readonly reason: string };

/**
 * A position the bot tells us it opened. It joins the ledger unless we already know a state at least
 * as new; from then on it is reconciled like any observed position. A registered state newer than the
 * one a suspect was raised on voids that suspect: the position traded or reopened since, whatever the
 * fill history shows yet. The bot is not trusted blindly: the account must exist and be enabled, the
 * symbol must belong to its market, and the fill time may not lie in the future.
 */
export async function runRegister(deps: RegisterDeps, message: RegisterMessage): Promise<RegisterOutcome> {
  const { accountId } = message;
  const rejected = await rejection(deps, message);
  if (rejected !== undefined) {
    deps.telemetry.log('warn', `rejected a registration for ${accountId}: ${rejected}`, {
      accountId,
      symbol: message.position.symbol,
      reason: rejected,
    });
    return { status: 'rejected', reason: rejected };
  }
  const { noStopIntended, stopPrice, ...position } = message.position;
  const observed: ObservedPosition = position;
  // A registration is the bot's word, not a fetch: it is recorded as seen at the fill's own time.
  const registration: PositionSnapshot = {
    status: 'complete',
    snapshotId: deps.ids.next('registration'),
    fetchedAt: observed.updatedAt,
    pages: 0,
    positions: [observed],
  };
  const key = { accountId, symbol: observed.symbol, positionIdx: observed.positionIdx };
  // Conditional writes, no read: the ledger keeps whichever state is newer, and only a suspect raised on
  // an older state ends.
  // What the bot says of the stop is stored apart from the ledger (which every check rewrites), and
  // only when it says something: a registration without it leaves an earlier word standing.
  const saysStop = noStopIntended !== undefined || stopPrice !== undefined;
  const [tracked, suspectEnded] = await Promise.all([
    deps.store.registerTracked(trackedFrom(accountId, observed, registration, undefined)),
    deps.store.endSuspectOlderThan(key, versionOf(observed)),
    saysStop
      ? deps.store.recordIntent({
          ...key,
          noStopIntended: noStopIntended ?? false,
          ...(stopPrice === undefined ? {} : { stopPrice }),
          updatedAt: observed.updatedAt,
        })
      : undefined,
  ]);
  const fields = { accountId, symbol: observed.symbol, positionIdx: observed.positionIdx, suspectEnded };
  if (suspectEnded) {
    deps.telemetry.log(
      'warn',
      `the bot registered a newer state of ${observed.symbol}#${observed.positionIdx} (size ${observed.size}) while it was a suspect: suspect ended, no order touched`,
      fields,
    );
  }
  if (!tracked) return { status: 'already-known', suspectEnded };
  deps.telemetry.log(
    'info',
    `tracking ${observed.symbol}#${observed.positionIdx} as registered by the bot`,
    fields,
  );
  return { status: 'tracked', suspectEnded };
}

/**
 * The bot withdraws what it said of a position's stop: the audit judges it like any other from the next
 * check on. Ordered by `updatedAt` like registrations; validated alike. Nothing else changes.
 */
export async function runUnregister(
  deps: RegisterDeps,
  message: UnregisterMessage,
): Promise<
  { readonly status: 'withdrawn' | 'older' } | { readonly status: 'rejected'; readonly reason: string }
> {
  const rejected = await rejection(deps, message);
  const { accountId, position } = message;
  const fields = { accountId, symbol: position.symbol, positionIdx: position.positionIdx };
  if (rejected !== undefined) {
    deps.telemetry.log('warn', `rejected an unregistration for ${accountId}: ${rejected}`, fields);
    return { status: 'rejected', reason: rejected };
  }
  const stored = await deps.store.recordIntent({
    ...fields,
    noStopIntended: false,
    updatedAt: position.updatedAt,
  });
  if (!stored) return { status: 'older' };
  deps.telemetry.log(
    'info',
    `the bot withdrew what it said of ${position.symbol}#${position.positionIdx}'s stop: the protection audit judges it like any other`,
    fields,
  );
  return { status: 'withdrawn' };
}

async function rejection(
  deps: RegisterDeps,
  message: RegisterMessage | UnregisterMessage,
): Promise<string | undefined> {
  const account = await deps.accounts.get(message.accountId);
  if (account === undefined) return `account ${message.accountId} is unknown`;
  if (!account.enabled) return `account ${message.accountId} is disabled`;
  const symbolProblem = deps.market.symbolProblem(message.position.symbol, account.exchange);
  if (symbolProblem !== undefined) return symbolProblem;
  const ahead = message.position.updatedAt - deps.clock.now();
  if (ahead > REGISTER_CLOCK_SKEW_MS) {
    return `updatedAt ${new Date(message.position.updatedAt).toISOString()} is ${Math.round(ahead / 1000)} s in the future (at most ${REGISTER_CLOCK_SKEW_MS / 1000} s of clock skew is allowed)`;
  }
  return undefined;
}
