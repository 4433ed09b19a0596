import type { Decision } from '#core/decision.js';
import type { CancelRecord } from '#ports/audit.js';
import type { ReconcilerDeps } from './dependencies.js';

/**
 * Writes decisions to the audit log and the structured log. Alarming decisions are logged at error
 * level with their full sentence, so "kept SL on BTCUSDT: … but no close event" is what an operator
 * sees, never a line that reads like routine success.
 */
export async function recordDecisions(
  deps: ReconcilerDeps,
  phase: 'check' | 'confirm',
  decisions: readonly Decision[],
  shadow: boolean,
  cancels?: readonly CancelRecord[],
): Promise<void> {
  if (decisions.length === 0) return;
  const at = deps.clock.now();
  // What was done, once per decision: the log line and the audit entry say the same.
  const said = decisions.map((decision) => ({ decision, done: whatWasDone(decision.message, cancels) }));
  for (const { decision, done } of said) {
    deps.telemetry.log(
      // A stand-down is no failure, but a verified cancel that did not happen is worth a look.
      decision.alarm || done.failed ? 'error' : decision.kind === 'stand-down' ? 'warn' : 'info',
      done.message,
      {
        accountId: decision.key.accountId,
        symbol: decision.key.symbol,
        positionIdx: decision.key.positionIdx,
        phase,
        decision: decision.kind,
        reason: decision.reason,
        alarm: decision.alarm,
        shadow,
        snapshotIds: decision.snapshotIds,
        ...('changes' in decision ? { evidenceIds: decision.changes.map((c) => c.id) } : {}),
        ...(cancels === undefined ? {} : { cancels }),
      },
    );
  }
  await deps.audit.record(
    said.map(({ decision, done }) => ({
      accountId: decision.key.accountId,
      at,
      phase,
      // "cancelling …" only when it happened.
      decision: { ...decision, message: done.message },
      shadow,
      ...(cancels === undefined ? {} : { cancels }),
    })),
  );
}

/**
 * The decision's sentence says what was decided ("cancelling 2 orders …"); when the cancels did not all
 * happen, the logged line must not read as if they had.
 */
function whatWasDone(
  message: string,
  cancels: readonly CancelRecord[] | undefined,
): { message: string; failed: boolean } {
  const count = (status: CancelRecord['status']) => (cancels ?? []).filter((c) => c.status === status).length;
  const total = cancels?.length ?? 0;
  if (count('skipped-shadow') > 0) {
    return {
      message: `shadow mode, nothing cancelled; a live run would be ${message}`,
      failed: false,
    };
  }
  const failed = count('failed');
  if (failed > 0) {
    return {
      message: `${message}; ${failed} of ${total} cancels FAILED, to be retried after a fresh verification`,
      failed: true,
    };
  }
  return { message, failed: false };
}
