import type { Decision } from '#core/decision.js';
import { describeOutcome } from '#core/narrate.js';
import type { CancelRecord } from '#ports/audit.js';
import type { ReconcilerDeps } from './dependencies.js';

/** A decision and, when it was a cancel, what each request came back with. */
export interface Decided {
  readonly decision: Decision;
  readonly cancels?: readonly CancelRecord[];
}

/**
 * Writes decisions to the audit log and the structured log. Alarming decisions are logged at error
 * level with their full sentence, so "kept SL on BTCUSDT: … but no close event" is what an operator
 * sees, never a line that reads like routine success.
 */
export async function recordDecisions(
  deps: ReconcilerDeps,
  phase: 'check' | 'confirm',
  decided: readonly Decided[],
  shadow: boolean,
): Promise<void> {
  if (decided.length === 0) return;
  const at = deps.clock.now();
  // What was done, once per decision: the log line and the audit entry say the same.
  const said = decided.map(({ decision, cancels }) => ({
    decision,
    cancels,
    done: describeOutcome(decision, cancels),
  }));
  for (const { decision, cancels, done } of said) {
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
    said.map(({ decision, cancels, done }) => ({
      accountId: decision.key.accountId,
      at,
      phase,
      // The audited sentence is what was done, as the log line says it.
      decision: { ...decision, message: done.message },
      shadow,
      ...(cancels === undefined ? {} : { cancels }),
    })),
  );
}
