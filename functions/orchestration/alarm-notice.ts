import type { DecisionLogSearch, LoggedDecision, OperatorNotifier } from '#ports/alarm-notes.js';
import { Metric, type MetricName } from '#ports/telemetry.js';

/**
 * The e-mail behind an alarm that names names. A CloudWatch alarm can only say "UnprotectedPositions
 * > 0"; the worker's log line of each decision names the account and symbol. When one of these alarms
 * fires, the decisions of its kinds logged in the alarm's window are looked up and sent to the alarm
 * topic, each with the command that explains it.
 */

/** The alarms that name positions: the decisions behind each, and what to call them. */
export const NAMING_ALARMS: Readonly<
  Partial<Record<MetricName, { kinds: readonly string[]; what: string }>>
> = {
  [Metric.UnprotectedPositions]: {
    kinds: ['unprotected', 'underprotected'],
    what: 'live positions without a full stop-loss',
  },
  [Metric.SuspectsStuck]: { kinds: ['suspect-stuck'], what: 'suspects stuck undecided' },
  [Metric.KeptForLackOfEvidence]: {
    kinds: ['keep-orders'],
    what: 'positions missing from the lists whose orders were kept for lack of a close',
  },
  [Metric.CapRefusals]: {
    kinds: ['defer-cap-spent'],
    what: 'proven orphans kept because the cancel cap was spent',
  },
};

/** How far back an alarm's decisions are looked for: its 5-minute period, and the minutes before. */
const LOOKBACK_MS = 30 * 60_000;
const MAX_ROWS = 50;

export interface AlarmNoticeDeps {
  readonly logs: DecisionLogSearch;
  readonly notifier: OperatorNotifier;
}

/** Looks up and sends the names behind `metric`'s alarm; false when the alarm names none (not one of ours). */
export async function sendAlarmNotice(
  deps: AlarmNoticeDeps,
  alarm: { readonly name: string; readonly metric: string; readonly at: number },
): Promise<boolean> {
  const naming = NAMING_ALARMS[alarm.metric as MetricName];
  if (naming === undefined) return false;
  const rows = await deps.logs.decisions(naming.kinds, alarm.at - LOOKBACK_MS, alarm.at, MAX_ROWS);
  const { subject, body } = describeNotice(alarm.name, naming.what, rows, alarm.at);
  await deps.notifier.publish(subject, body);
  return true;
}

/** The e-mail: a subject that counts, and one block per position, newest first, with its explain command. */
export function describeNotice(
  alarmName: string,
  what: string,
  rows: readonly LoggedDecision[],
  at: number,
): { subject: string; body: string } {
  const positions = new Map<string, LoggedDecision>();
  for (const row of rows) {
    const key = `${row.accountId} ${row.symbol}#${row.positionIdx ?? 0}`;
    if (!positions.has(key)) positions.set(key, row);
  }
  const accounts = new Set(rows.map((r) => r.accountId));
  const subject = `stopguard ALARM: ${positions.size} ${what} on ${accounts.size} ${accounts.size === 1 ? 'account' : 'accounts'}`;
  const lines = [
    `${alarmName} went into ALARM at ${new Date(at).toISOString()}.`,
    '',
    rows.length === 0
      ? 'No decision of its kind was found in the worker log of the last 30 minutes: look at the dashboard.'
      : `${what}, newest first (from the worker log of the last 30 minutes):`,
  ];
  for (const [key, row] of positions) {
    const [accountId, position] = key.split(' ');
    const leg = row.positionIdx === undefined || row.positionIdx === 0 ? '' : ` --leg ${row.positionIdx}`;
    lines.push(
      '',
      `- ${accountId} ${position}, ${new Date(row.at).toISOString()}: ${row.message}`,
      `  npx stopguard explain ${row.accountId} ${row.symbol}${leg}`,
    );
  }
  if (rows.length >= MAX_ROWS)
    lines.push('', `(the first ${MAX_ROWS} only: npx stopguard status lists them all)`);
  return { subject: subject.slice(0, 100), body: lines.join('\n') };
}
