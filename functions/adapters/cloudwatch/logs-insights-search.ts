import {
  type CloudWatchLogsClient,
  GetQueryResultsCommand,
  StartQueryCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import type { DecisionLogSearch, LoggedDecision } from '#ports/alarm-notes.js';

/**
 * The worker's logged decisions through CloudWatch Logs Insights (billed per GB scanned: a 30-minute
 * window of one fleet's worker log, once per alarm). The query is built here and nowhere else.
 */
export class LogsInsightsSearch implements DecisionLogSearch {
  constructor(
    private readonly client: CloudWatchLogsClient,
    private readonly logGroupName: string,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
    private readonly maxPolls = 40,
  ) {}

  async decisions(
    kinds: readonly string[],
    from: number,
    to: number,
    limit: number,
  ): Promise<LoggedDecision[]> {
    const started = await this.client.send(
      new StartQueryCommand({
        logGroupName: this.logGroupName,
        startTime: Math.floor(from / 1000),
        endTime: Math.ceil(to / 1000),
        queryString: decisionsQuery(kinds, limit),
      }),
    );
    for (let poll = 0; poll < this.maxPolls; poll++) {
      const answer = await this.client.send(new GetQueryResultsCommand({ queryId: started.queryId }));
      if (answer.status === 'Complete') {
        return (answer.results ?? []).flatMap((row) => {
          const field = (name: string) => row.find((f) => f.field === name)?.value;
          const accountId = field('accountId');
          const symbol = field('symbol');
          if (accountId === undefined || symbol === undefined) return [];
          const idx = field('positionIdx');
          return [
            {
              at: Date.parse(`${field('@timestamp') ?? ''}Z`.replace(' ', 'T')),
              accountId,
              symbol,
              ...(idx === undefined ? {} : { positionIdx: Number(idx) }),
              decision: field('decision') ?? '',
              message: field('message') ?? '',
            },
          ];
        });
      }
      if (answer.status === 'Failed' || answer.status === 'Cancelled' || answer.status === 'Timeout') {
        throw new Error(`Logs Insights query ${started.queryId} ended ${answer.status}`);
      }
      await this.sleep(500);
    }
    throw new Error(`Logs Insights query ${started.queryId} did not complete in time`);
  }
}

/** The Logs Insights query for decisions of these kinds, newest first. */
export function decisionsQuery(kinds: readonly string[], limit: number): string {
  const list = kinds.map((k) => JSON.stringify(k)).join(', ');
  return [
    'fields @timestamp, accountId, symbol, positionIdx, decision, message',
    `| filter decision in [${list}]`,
    '| sort @timestamp desc',
    `| limit ${limit}`,
  ].join('\n');
}
