import { trackedFrom } from '../core/snapshot.js';
import type { ObservedPosition, PositionSnapshot } from '../core/types.js';
import type { ReconcilerDeps } from './dependencies.js';
import type { RegisterMessage } from './messages.js';

/**
 * A position the bot tells us it opened. It joins the ledger unless we already know a state at least
 * as new; from then on it is reconciled like any observed position.
 */
export async function runRegister(
  deps: ReconcilerDeps,
  message: RegisterMessage,
): Promise<'tracked' | 'already-known'> {
  const { accountId } = message;
  const { sequence, ...rest } = message.position;
  const observed: ObservedPosition = sequence === undefined ? rest : { ...rest, sequence };
  // A registration is the bot's word, not a fetch: it is recorded as seen at the fill's own time.
  const registration: PositionSnapshot = {
    status: 'complete',
    snapshotId: deps.ids.next('registration'),
    fetchedAt: observed.updatedAt,
    pages: 0,
    positions: [observed],
  };
  // One conditional write, no read: the store keeps whichever state is newer.
  if (!(await deps.store.registerTracked(trackedFrom(accountId, observed, registration, undefined))))
    return 'already-known';
  deps.telemetry.log('info', `tracking ${observed.symbol}#${observed.positionIdx} as registered by the bot`, {
    accountId,
    symbol: observed.symbol,
    positionIdx: observed.positionIdx,
  });
  return 'tracked';
}
