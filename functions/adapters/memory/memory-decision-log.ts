import type { DecisionLogSearch, LoggedDecision } from '#ports/alarm-notes.js';

/**
 * The worker's logged decisions from recorded JSON log lines (a local run's .jsonl, Powertools' output
 * on AWS): the local stand-in for Logs Insights, applying the same filter its query states.
 */
export class MemoryDecisionLog implements DecisionLogSearch {
  private readonly lines: readonly Record<string, unknown>[];

  constructor(jsonLines: string) {
    this.lines = jsonLines
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  }

  async decisions(
    kinds: readonly string[],
    from: number,
    to: number,
    limit: number,
  ): Promise<LoggedDecision[]> {
    return this.lines
      .flatMap((l) => {
        const at = Date.parse(String(l.timestamp ?? l.time ?? ''));
        if (typeof l.decision !== 'string' || !kinds.includes(l.decision) || !(at >= from && at <= to))
          return [];
        if (typeof l.accountId !== 'string' || typeof l.symbol !== 'string') return [];
        return [
          {
            at,
            accountId: l.accountId,
            symbol: l.symbol,
            ...(typeof l.positionIdx === 'number' ? { positionIdx: l.positionIdx } : {}),
            decision: l.decision,
            message: String(l.message ?? ''),
          },
        ];
      })
      .sort((a, b) => b.at - a.at)
      .slice(0, limit);
  }
}
