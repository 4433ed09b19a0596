import type { SuspectRecord } from '#core/types.js';
import type { AccountStatus, OperatorConsole, StoryLine } from './operator.js';

/** What `npx stopguard` prints: plain lines an operator reads, with times in UTC as the exchange's. */

const at = (ms: number) => new Date(ms).toISOString().replace('T', ' ').slice(0, 19);

export function ago(ms: number, now: number): string {
  const s = Math.max(0, Math.round((now - ms) / 1000));
  if (s < 120) return `${s} s ago`;
  if (s < 7200) return `${Math.round(s / 60)} min ago`;
  return `${Math.round(s / 3600)} h ago`;
}

function inTime(ms: number, now: number): string {
  return ms <= now ? 'due now' : `in ${Math.round((ms - now) / 1000)} s`;
}

export function formatStatus(rows: readonly AccountStatus[], now: number): string {
  if (rows.length === 0) return 'no accounts';
  return rows
    .flatMap((r) => {
      const mode =
        r.account.settings?.shadow === true
          ? 'shadow'
          : r.account.settings?.shadow === false
            ? 'live'
            : 'stack default';
      const last = r.state.lastCompleteSnapshotAt;
      const decisions = Object.entries(r.lastHour)
        .map(([kind, n]) => `${kind} ${n}`)
        .join(', ');
      const head = [
        `${r.account.accountId} (${r.account.enabled ? 'enabled' : 'DISABLED'}, ${mode}, protection ${r.account.protection?.mode ?? 'alarm'})`,
        `  last complete list: ${last === undefined ? 'never' : `${at(last)} (${ago(last, now)}; recorded at most every 5 min when nothing changes)`}`,
        `  positions tracked: ${r.tracked.length}; open suspects: ${r.suspects.length}${r.suspects.some((s) => s.stuckSince !== undefined) ? ` (${r.suspects.filter((s) => s.stuckSince !== undefined).length} STUCK)` : ''}; unprotected: ${r.unprotected.length}`,
        `  decisions in the last hour: ${decisions === '' ? 'none audited' : decisions}; cancels under this window's cap: ${r.capUsed}`,
      ];
      const suspects = r.suspects.map(
        (s) =>
          `    suspect ${s.symbol}#${s.positionIdx}: missing since ${at(s.firstMissingAt)}, ${s.attempts} attempts, next look ${inTime(s.nextAttemptAt, now)}${s.stuckSince === undefined ? '' : `, STUCK since ${at(s.stuckSince)}`}`,
      );
      const bare = r.unprotected.map(
        (w) =>
          `    UNPROTECTED ${w.symbol}#${w.positionIdx} ${w.side} ${w.size}: stops cover ${Number(w.coveredShare) * 100} % since ${at(w.since)}`,
      );
      return [...head, ...suspects, ...bare];
    })
    .join('\n');
}

export function formatStory(
  accountId: string,
  symbol: string,
  story: readonly StoryLine[],
  current: Awaited<ReturnType<OperatorConsole['position']>>,
  now: number,
): string {
  const lines = [`${symbol} on ${accountId}`];
  if (story.length === 0)
    lines.push('  nothing audited in this period (routine "still open" looks are not audited)');
  for (const s of story) {
    lines.push(
      `  ${at(s.at)}  ${s.phase.padEnd(8)} ${s.alarm ? 'ALARM ' : ''}${s.decision} (${s.reason}): ${s.message}`,
    );
  }
  const { tracked, suspect, watch } = current;
  lines.push('  now:');
  lines.push(
    tracked === undefined
      ? '    not tracked'
      : `    tracked: ${tracked.side} ${tracked.size}, last seen open ${at(tracked.lastSeenOpenAt)} (${ago(tracked.lastSeenOpenAt, now)}) in ${tracked.lastSeenSnapshotId}`,
  );
  if (suspect !== undefined) lines.push(`    ${describeSuspect(suspect, now)}`);
  if (watch !== undefined) {
    lines.push(
      `    stop coverage ${Number(watch.coveredShare) * 100} % since ${at(watch.since)}${watch.alarmedAt === undefined ? ' (within the grace)' : ', alarmed'}${watch.stopPlacedAt === undefined ? '' : `, stop placed ${at(watch.stopPlacedAt)}`}`,
    );
  }
  return lines.join('\n');
}

export function formatSuspects(suspects: readonly SuspectRecord[], now: number): string {
  if (suspects.length === 0) return 'no open suspects';
  return suspects
    .map((s) => `${s.accountId} ${s.symbol}#${s.positionIdx}: ${describeSuspect(s, now)}`)
    .join('\n');
}

function describeSuspect(s: SuspectRecord, now: number): string {
  return `suspect since ${at(s.firstMissingAt)}: absent in ${s.missingLooks} lists, ${s.attempts} attempts, next look ${inTime(s.nextAttemptAt, now)}${s.claimedUntil !== undefined && s.claimedUntil >= now ? ', a confirmation is running' : ''}${s.stuckSince === undefined ? '' : `, STUCK since ${at(s.stuckSince)}`}`;
}
