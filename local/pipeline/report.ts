import { Metric } from '../../functions/ports/telemetry.js';
import type { ExternalRunReport } from './external.js';
import type { EmbeddedRunReport, Progress } from './run.js';

/** The value at quantile `q` of an ascending list (nearest rank); undefined when empty. */
export function quantile(sorted: readonly number[], q: number): number | undefined {
  if (sorted.length === 0) return undefined;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank];
}

export function formatProgress(p: Progress): string {
  const seconds = String(Math.round(p.elapsedMs / 1000)).padStart(4);
  return (
    `${seconds} s ${p.phase.padEnd(8)} checks ${String(p.checks).padStart(6)} | suspects ${String(p.suspects).padStart(4)}` +
    ` | cleared ${String(p.cleared).padStart(4)} | cancels ${String(p.cancels).padStart(4)} | blocked ${String(p.blocked).padStart(3)}` +
    ` | orphans waiting ${String(p.waitingOrphans).padStart(3)} | false cancels ${p.falseCancels}`
  );
}

const fmt = (value: number | undefined, digits = 1) => (value === undefined ? 'n/a' : value.toFixed(digits));

/** The end-of-run report. Any false cancel or orphan left is stated as a failure, never as a count among others. */
export function formatEmbeddedReport(r: EmbeddedRunReport, logFile?: string): string {
  const count = (metric: string) => r.counts[metric] ?? 0;
  const checks = count(Metric.ChecksRun);
  const dynamo = Object.values(r.dynamoRequests).reduce((a, b) => a + b, 0);
  const verdict =
    r.falseCancels === 0 && r.orphansNeverCleaned === 0
      ? 'PASS: no protective order of an open position was cancelled, and every orphan was cleaned.'
      : `FAIL: ${r.falseCancels} false cancels, ${r.orphansNeverCleaned} orphans never cleaned.`;
  const lines = [
    '',
    `report after ${(r.wallMs / 1000).toFixed(0)} s (${r.options.accounts} accounts, ${r.options.cycles} cycles, ${(r.options.dropRate * 100).toFixed(1)} % drops, seed ${r.options.seed})`,
    `  false cancels (stop-loss/take-profit of an open position):   ${r.falseCancels}`,
    `  orphans left by closes: ${r.orphans}; cleaned by stopguard: ${r.orphansCleaned}; ended otherwise (exchange, reopened): ${r.orphansEndedOtherwise}; never cleaned: ${r.orphansNeverCleaned}`,
    `  cleanup delay: p50 ${fmt(quantile(r.cleanupDelaysSeconds, 0.5))} s, p99 ${fmt(quantile(r.cleanupDelaysSeconds, 0.99))} s, max ${fmt(quantile(r.cleanupDelaysSeconds, 1))} s`,
    `  incomplete responses observed (suspects that were open after all): ${count(Metric.IncompleteResponsesObserved)} of ${count(Metric.SuspectsRaised)} suspects`,
    `  checks ${checks}, confirmations ${count(Metric.ConfirmsRun)}, cancels ${count(Metric.CancelsExecuted)}, kept for lack of evidence ${count(Metric.KeptForLackOfEvidence)}, cap refusals ${count(Metric.CapRefusals)}, distrusted lists ${count(Metric.DistrustedSnapshots)}, exchange errors ${count(Metric.ExchangeErrors)}`,
    `  market: ${r.market.opened} positions opened, ${r.market.closedByHand} closed by hand, ${r.market.liquidated} liquidated, the rest by their SL/TP`,
    `  cost per check: ${fmt(r.exchangeRequests / Math.max(1, checks), 2)} exchange requests, ${fmt(dynamo / Math.max(1, checks), 2)} DynamoDB requests`,
    `  latency: check p50 ${fmt(quantile(r.checkLatencyMs, 0.5), 0)} ms / p99 ${fmt(quantile(r.checkLatencyMs, 0.99), 0)} ms; confirm p50 ${fmt(quantile(r.confirmLatencyMs, 0.5), 0)} ms / p99 ${fmt(quantile(r.confirmLatencyMs, 0.99), 0)} ms`,
    `  dead-letter queue: ${r.deadLettered} messages`,
  ];
  if (logFile !== undefined) lines.push(`  every decision, as JSON lines: ${logFile}`);
  lines.push('', verdict);
  return lines.join('\n');
}

/** Against a real exchange there is no ground truth: every decision is listed for a person to judge. */
export function formatExternalReport(r: ExternalRunReport): string {
  const count = (metric: string) => r.counts[metric] ?? 0;
  const lines = [
    '',
    `report after ${(r.wallMs / 1000).toFixed(0)} s against ${r.exchangeUrl} (${r.accounts} accounts)`,
    `  checks ${count(Metric.ChecksRun)}, complete lists ${count(Metric.CompleteSnapshots)}, unknown lists ${count(Metric.UnknownSnapshots)}, suspects ${count(Metric.SuspectsRaised)}, incomplete responses observed ${count(Metric.IncompleteResponsesObserved)}, cancels ${count(Metric.CancelsExecuted)}, kept ${count(Metric.KeptForLackOfEvidence)}`,
    `  decisions (${r.decisions.length}):`,
    ...r.decisions.map(
      (d) =>
        `    ${new Date(d.at).toISOString()} ${d.accountId} ${d.phase} ${d.decision}${d.alarm ? ' ALARM' : ''}: ${d.message}`,
    ),
  ];
  if (r.alarms.length > 0) lines.push(`  ${r.alarms.length} alarm lines (see above and the log)`);
  return lines.join('\n');
}
