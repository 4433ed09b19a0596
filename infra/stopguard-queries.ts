/**
 * Saved Logs Insights queries on the worker's log group that name the accounts and positions behind
 * an alarm. A CloudWatch metric carries no account or symbol (a dimension per position would bill per
 * position); the worker's log line of each decision does, and these queries read it.
 */
import type { LogGroup } from 'aws-cdk-lib/aws-logs';
import { QueryDefinition, QueryString } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';

/** The saved query that names the positions behind the UnprotectedPositions alarm. */
export const UNPROTECTED_QUERY_NAME = 'stopguard/unprotected-positions';
/** The saved query that names the suspects behind the SuspectsStuck alarm. */
export const STUCK_QUERY_NAME = 'stopguard/stuck-suspects';

export function addSavedQueries(scope: Construct, workerLogs: LogGroup): void {
  new QueryDefinition(scope, 'UnprotectedPositionsQuery', {
    queryDefinitionName: UNPROTECTED_QUERY_NAME,
    logGroups: [workerLogs],
    queryString: new QueryString({
      fields: ['@timestamp', 'accountId', 'symbol', 'positionIdx', 'decision', 'reason', 'message'],
      filterStatements: [
        'decision in ["unprotected", "underprotected", "protection-restored", "place-stop"]',
      ],
      sort: '@timestamp desc',
      limit: 200,
    }),
  });
  new QueryDefinition(scope, 'StuckSuspectsQuery', {
    queryDefinitionName: STUCK_QUERY_NAME,
    logGroups: [workerLogs],
    queryString: new QueryString({
      fields: ['@timestamp', 'accountId', 'symbol', 'positionIdx', 'attempts', 'reason', 'message'],
      filterStatements: ['decision = "suspect-stuck"'],
      sort: '@timestamp desc',
      limit: 200,
    }),
  });
}
