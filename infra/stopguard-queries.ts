/**
 * Logs Insights queries on the worker's log group that name the accounts and positions behind an
 * alarm, saved in the console and shown on the dashboard. A CloudWatch metric carries no account or
 * symbol (a dimension per position would bill per position); the worker's log line of each decision
 * does, and these queries read it (Logs Insights bills $0.005 per GB scanned, per run or refresh).
 */
import { type Dashboard, LogQueryWidget } from 'aws-cdk-lib/aws-cloudwatch';
import type { LogGroup } from 'aws-cdk-lib/aws-logs';
import { QueryDefinition, QueryString } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';

/** The saved query that names the positions behind the UnprotectedPositions alarm. */
export const UNPROTECTED_QUERY_NAME = 'stopguard/unprotected-positions';
/** The saved query that names the suspects behind the SuspectsStuck alarm. */
export const STUCK_QUERY_NAME = 'stopguard/stuck-suspects';

const queries = [
  {
    id: 'UnprotectedPositionsQuery',
    name: UNPROTECTED_QUERY_NAME,
    title: 'Positions without a full stop, and their recoveries (names behind UnprotectedPositions)',
    query: new QueryString({
      fields: ['@timestamp', 'accountId', 'symbol', 'positionIdx', 'decision', 'reason', 'message'],
      filterStatements: [
        'decision in ["unprotected", "underprotected", "protection-restored", "place-stop"]',
      ],
      sort: '@timestamp desc',
      limit: 200,
    }),
  },
  {
    id: 'StuckSuspectsQuery',
    name: STUCK_QUERY_NAME,
    title: 'Stuck suspects (names behind SuspectsStuck)',
    query: new QueryString({
      fields: ['@timestamp', 'accountId', 'symbol', 'positionIdx', 'attempts', 'reason', 'message'],
      filterStatements: ['decision = "suspect-stuck"'],
      sort: '@timestamp desc',
      limit: 200,
    }),
  },
] as const;

/** Saves each query in the console and puts its results on the dashboard. */
export function addNamingQueries(scope: Construct, workerLogs: LogGroup, dashboard: Dashboard): void {
  for (const q of queries) {
    new QueryDefinition(scope, q.id, {
      queryDefinitionName: q.name,
      logGroups: [workerLogs],
      queryString: q.query,
    });
  }
  dashboard.addWidgets(
    ...queries.map(
      (q) =>
        new LogQueryWidget({
          title: q.title,
          logGroupNames: [workerLogs.logGroupName],
          queryString: q.query.toString(),
          width: 12,
          height: 6,
        }),
    ),
  );
}
