import type { Context, ScheduledEvent } from 'aws-lambda';

/** What Lambda hands a handler locally: an invocation context and EventBridge's scheduled event. */

let invocations = 0;

/** A fresh invocation context for `functionName`, as Lambda would pass it. */
export function lambdaContext(functionName: string): Context {
  invocations++;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${functionName}`,
    memoryLimitInMB: '512',
    awsRequestId: `local-${invocations}`,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => 30_000,
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}

/** EventBridge's event for a `rate(1 minute)` rule firing at `at` (its `time` in whole seconds). */
export function scheduledEvent(at: number): ScheduledEvent {
  return {
    version: '0',
    id: `local-${at}`,
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: '000000000000',
    // EventBridge writes whole seconds.
    time: new Date(Math.floor(at / 1_000) * 1_000).toISOString().replace('.000Z', 'Z'),
    region: 'us-east-1',
    resources: ['arn:aws:events:us-east-1:000000000000:rule/stopguard-local'],
    detail: {},
  };
}
