import { defaultReconcileConfig } from '#core/config.js';
import { Metric } from '#ports/telemetry.js';
import type { ExternalAccountOutcome, ExternalRunReport } from './external.js';
import type { LocalAccount } from './pipeline.js';
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
    ` | orphans waiting ${String(p.waitingOrphans).padStart(3)} | false cancels ${p.falseCancels}` +
    ` | unprotected found ${p.unprotected}`
  );
}

const PROTECTION_GRACE_S = defaultReconcileConfig.protectionGraceMs / 1000;

const fmt = (value: number | undefined, digits = 1) => (value === undefined ? 'n/a' : value.toFixed(digits));

/** No false cancel, no orphan left, no protection false alarm, and no position left bare unfound. */
export function embeddedRunPassed(r: EmbeddedRunReport): boolean {
  return (
    r.falseCancels === 0 &&
    r.orphansNeverCleaned === 0 &&
    r.protection.falseAlarms === 0 &&
    r.protection.found === r.protection.livedPastGrace
  );
}

/** The end-of-run report. Any false cancel or orphan left is stated as a failure, never as a count among others. */
export function formatEmbeddedReport(r: EmbeddedRunReport, logFile?: string): string {
  const count = (metric: string) => r.counts[metric] ?? 0;
  const checks = count(Metric.ChecksRun);
  const dynamo = Object.values(r.dynamoRequests).reduce((a, b) => a + b, 0);
  const verdict = embeddedRunPassed(r)
    ? 'PASS: no protective order of an open position was cancelled, every orphan was cleaned, and every position left without a stop was found.'
    : `FAIL: ${r.falseCancels} false cancels, ${r.orphansNeverCleaned} orphans never cleaned, ${r.protection.falseAlarms} protection false alarms, ${r.protection.livedPastGrace - r.protection.found} unprotected positions missed.`;
  const lines = [
    '',
    `report after ${(r.wallMs / 1000).toFixed(0)} s (${r.options.accounts} accounts, ${r.options.cycles} cycles, ${(r.options.dropRate * 100).toFixed(1)} % drops, seed ${r.options.seed})`,
    `  false cancels (stop-loss/take-profit of an open position):   ${r.falseCancels}`,
    `  orphans left by closes: ${r.orphans}; cleaned by stopguard: ${r.orphansCleaned}; ended otherwise (exchange, reopened): ${r.orphansEndedOtherwise}; never cleaned: ${r.orphansNeverCleaned}`,
    `  cleanup delay: p50 ${fmt(quantile(r.cleanupDelaysSeconds, 0.5))} s, p99 ${fmt(quantile(r.cleanupDelaysSeconds, 0.99))} s, max ${fmt(quantile(r.cleanupDelaysSeconds, 1))} s`,
    `  unprotected positions: the market opened ${r.protection.openedWithoutStop} without a stop-loss, ${r.protection.livedPastGrace} of them open past the ${PROTECTION_GRACE_S} s grace and 2 more checks; the protection audit found ${r.protection.found} of those ${r.protection.livedPastGrace}, and alarmed ${r.protection.falseAlarms} protected positions`,
    ...r.protection.examples.map((m) => `    e.g. "${m}"`),
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

/**
 * The first line of a run against an exchange we do not control: whether anything can be cancelled.
 * `accounts` carry their resolved shadow setting (`withShadow`).
 */
export function formatExternalMode(
  exchangeUrl: string,
  accounts: readonly Pick<LocalAccount, 'shadow'>[],
  live: boolean,
): string {
  const liveCount = accounts.filter((a) => a.shadow !== true).length;
  if (!live) {
    return `stopguard against ${exchangeUrl} in SHADOW mode: nothing will be cancelled (add --live to cancel proven orphans)`;
  }
  if (liveCount === 0) {
    return `stopguard against ${exchangeUrl} in SHADOW mode: nothing will be cancelled (every entry of the accounts file says "shadow": true)`;
  }
  const shadowed = accounts.length - liveCount;
  return (
    `stopguard against ${exchangeUrl} in LIVE mode: proven orphans WILL be cancelled on ${liveCount} of ${countOf(accounts.length, 'account')}` +
    (shadowed === 0 ? '' : ` (${shadowed} in shadow by their entry)`)
  );
}

/**
 * Against a real exchange there is no ground truth: every decision is listed for a person to judge,
 * and each account says whether it ever got a complete position list, and if not, why not.
 */
export function formatExternalReport(r: ExternalRunReport, logFile?: string): string {
  const count = (metric: string) => r.counts[metric] ?? 0;
  const shadowCount = r.outcomes.filter((o) => o.shadow).length;
  const mode =
    shadowCount === r.outcomes.length
      ? 'SHADOW: nothing cancelled'
      : shadowCount === 0
        ? 'LIVE'
        : `LIVE, ${shadowCount} in shadow`;
  const width = Math.max(...r.outcomes.map((o) => o.id.length));
  const lines = [
    '',
    `report after ${(r.wallMs / 1000).toFixed(0)} s against ${r.exchangeUrl} (${countOf(r.accounts, 'account')}, ${mode})`,
    `  checks ${count(Metric.ChecksRun)}, complete lists ${count(Metric.CompleteSnapshots)}, unknown lists ${count(Metric.UnknownSnapshots)}, suspects ${count(Metric.SuspectsRaised)}, incomplete responses observed ${count(Metric.IncompleteResponsesObserved)}, cancels ${count(Metric.CancelsExecuted)}, skipped in shadow ${count(Metric.ShadowCancelsSkipped)}, kept ${count(Metric.KeptForLackOfEvidence)}`,
    '  accounts:',
    ...r.outcomes.map((o) => `    ${o.id.padEnd(width)}  ${describeOutcome(o)}`),
    `  decisions (${r.decisions.length}):`,
    ...r.decisions.map(
      (d) =>
        `    ${new Date(d.at).toISOString()} ${d.accountId} ${d.phase} ${d.decision}${d.alarm ? ' ALARM' : ''}: ${d.message}`,
    ),
  ];
  if (r.alarms.length > 0) lines.push(`  ${r.alarms.length} alarm lines (see above and the log)`);
  if (logFile !== undefined) lines.push(`  every decision, as JSON lines: ${logFile}`);
  const failed = r.outcomes.filter((o) => o.lastCompleteAt === undefined);
  lines.push(
    '',
    failed.length > 0
      ? `FAIL: ${failed.length} of ${countOf(r.outcomes.length, 'account')} never got a complete position list (${failed.map((o) => o.id).join(', ')}): nothing was reconciled for ${failed.length === 1 ? 'it' : 'them'}.`
      : `OK: every account got complete position lists; the decisions above are for a person to judge${shadowCount === r.outcomes.length ? ' (shadow: nothing was cancelled)' : ''}.`,
  );
  return lines.join('\n');
}

function describeOutcome(o: ExternalAccountOutcome): string {
  const lastFailure =
    o.lastFailure === undefined ? '' : `, the last: ${o.lastFailure.reason}: ${o.lastFailure.detail}`;
  const unknown = `${countOf(o.unknownLists, 'unknown list')}${lastFailure}`;
  const distrusted = o.distrustedLists === 0 ? '' : `; ${countOf(o.distrustedLists, 'distrusted list')}`;
  const mode = o.shadow ? ' [shadow]' : ' [live]';
  if (o.lastCompleteAt !== undefined) {
    return `OK${mode}: complete lists, the last at ${new Date(o.lastCompleteAt).toISOString().slice(11, 19)} UTC; ${unknown}${distrusted}`;
  }
  if (!o.checked && o.unknownLists === 0) {
    return `FAILED${mode}: never checked (no check of it finished; see the alarms and the log)`;
  }
  return `FAILED${mode}: no complete list; ${unknown}${distrusted}`;
}

const countOf = (n: number, noun: string) => `${n} ${noun}${n === 1 ? '' : 's'}`;
