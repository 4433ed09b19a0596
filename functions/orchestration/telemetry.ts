import type { Decision } from '../core/decision.js';
import type { CancelRecord } from '../ports/audit.js';
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
  for (const decision of decisions) {
    deps.telemetry.log(decision.alarm ? 'error' : 'info', decision.message, {
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
    });
  }
  await deps.audit.record(
    decisions.map((decision) => ({
      accountId: decision.key.accountId,
      at,
      phase,
      decision,
      shadow,
      ...(cancels === undefined ? {} : { cancels }),
    })),
  );
}
