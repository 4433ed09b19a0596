/** The synthesized stack, bundling included: resources, alarms, dashboard and outputs. */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PARTITION_KEY, SORT_KEY, TTL_ATTRIBUTE } from '#adapters/dynamodb/table.js';
import { defaultSettings, envName, type ReconcileSettings } from '#contracts/settings.js';
import { EnvVar, readEnvironment } from '#handlers/environment.js';
import { STUCK_QUERY_NAME, UNPROTECTED_QUERY_NAME } from '#infra/stopguard-queries.js';
import { Metric } from '#ports/telemetry.js';
import { logicalId, removeAssemblies, type Synthesized, synthesize } from './synth.js';

// The real thing, esbuild bundling included: synthesized once for the whole file.
let synth: Synthesized;
let template: Template;
let ids: {
  table: string;
  queue: string;
  dlq: string;
  registerQueue: string;
  registerDlq: string;
  worker: string;
  scheduler: string;
  register: string;
  topic: string;
};

beforeAll(() => {
  synth = synthesize({ bundle: true });
  template = synth.template;
  const { stopguard } = synth.stack;
  ids = {
    table: logicalId(synth.stack, stopguard.table),
    queue: logicalId(synth.stack, stopguard.queue),
    dlq: logicalId(synth.stack, stopguard.deadLetterQueue),
    registerQueue: logicalId(synth.stack, stopguard.registerQueue),
    registerDlq: logicalId(synth.stack, stopguard.registerDeadLetterQueue),
    worker: logicalId(synth.stack, stopguard.worker.function),
    scheduler: logicalId(synth.stack, stopguard.scheduler.function),
    register: logicalId(synth.stack, stopguard.register.function),
    topic: logicalId(synth.stack, stopguard.alarmTopic),
  };
});
afterAll(removeAssemblies);

function functionProps(
  id: string,
): Record<string, unknown> & { Environment: { Variables: Record<string, unknown> } } {
  const fn = template.findResources('AWS::Lambda::Function')[id];
  if (fn === undefined) throw new Error(`no function ${id}`);
  return fn.Properties;
}

describe('synthesis', () => {
  it('needs no context lookups (works offline, without credentials)', () => {
    expect(synth.assembly.manifest.missing ?? []).toEqual([]);
  });

  it('is environment-agnostic', () => {
    expect(synth.assembly.getStackArtifact(synth.stack.artifactId).environment).toMatchObject({
      account: 'unknown-account',
      region: 'unknown-region',
    });
  });

  it('bundles each handler as an ES module with a source map', () => {
    for (const id of [ids.worker, ids.scheduler, ids.register]) {
      const asset = (functionProps(id).Code as { S3Key: string }).S3Key.replace(/\.zip$/, '');
      const dir = join(synth.assembly.directory, `asset.${asset}`);
      expect(existsSync(dir), dir).toBe(true);
      expect(readdirSync(dir).sort()).toEqual(['index.mjs', 'index.mjs.map']);
    }
  });
});

describe('table', () => {
  it('is on-demand with the adapter key schema, TTL and point-in-time recovery', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [
        { AttributeName: PARTITION_KEY, KeyType: 'HASH' },
        { AttributeName: SORT_KEY, KeyType: 'RANGE' },
      ],
      TimeToLiveSpecification: { AttributeName: TTL_ATTRIBUTE, Enabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      DeletionProtectionEnabled: true,
    });
  });

  it('is retained when the stack goes away', () => {
    template.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
  });
});

describe('queues', () => {
  it('redrives to the dead-letter queue after 3 receives; dead letters are kept 14 days', () => {
    const queues = template.findResources('AWS::SQS::Queue');
    expect(queues[ids.queue]?.Properties.RedrivePolicy).toEqual({
      deadLetterTargetArn: { 'Fn::GetAtt': [ids.dlq, 'Arn'] },
      maxReceiveCount: 3,
    });
    expect(queues[ids.dlq]?.Properties.MessageRetentionPeriod).toBe(14 * 24 * 3600);
  });

  it('give the bot its own register queue, redriven after 3 receives to its own dead-letter queue', () => {
    const queues = template.findResources('AWS::SQS::Queue');
    expect(queues[ids.registerQueue]?.Properties.RedrivePolicy).toEqual({
      deadLetterTargetArn: { 'Fn::GetAtt': [ids.registerDlq, 'Arn'] },
      maxReceiveCount: 3,
    });
    expect(queues[ids.registerDlq]?.Properties.MessageRetentionPeriod).toBe(14 * 24 * 3600);
    // Six times the register function's timeout, as Lambda recommends for an SQS source.
    const registerTimeout = functionProps(ids.register).Timeout as number;
    expect(queues[ids.registerQueue]?.Properties.VisibilityTimeout).toBe(6 * registerTimeout);
  });

  it('are all encrypted and refuse requests without TLS', () => {
    const queues = template.findResources('AWS::SQS::Queue');
    expect(Object.keys(queues)).toHaveLength(6);
    for (const queue of Object.values(queues)) expect(queue.Properties.SqsManagedSseEnabled).toBe(true);
    const policies = Object.values(template.findResources('AWS::SQS::QueuePolicy'));
    const denied = policies.flatMap((p) =>
      (p.Properties.PolicyDocument.Statement as { Effect: string; Condition?: unknown }[])
        .filter((st) => st.Effect === 'Deny')
        .map((st) => ({ queues: p.Properties.Queues, condition: st.Condition })),
    );
    expect(new Set(denied.flatMap((d) => d.queues.map((q: { Ref: string }) => q.Ref)))).toEqual(
      new Set(Object.keys(queues)),
    );
    for (const d of denied) expect(d.condition).toEqual({ Bool: { 'aws:SecureTransport': 'false' } });
  });

  it('hides a message for longer than the worker can run plus the claim lease', () => {
    const visibility = template.findResources('AWS::SQS::Queue')[ids.queue]?.Properties.VisibilityTimeout;
    const workerTimeout = functionProps(ids.worker).Timeout as number;
    expect(visibility).toBeGreaterThan(workerTimeout);
    expect(visibility).toBeGreaterThan(defaultSettings.claimLeaseMs / 1000);
    expect(visibility).toBeGreaterThanOrEqual(workerTimeout + defaultSettings.claimLeaseMs / 1000);
  });
});

describe('functions', () => {
  it('run Node 22 on arm64 with source maps and their own log group', () => {
    for (const id of [ids.worker, ids.scheduler, ids.register]) {
      const props = functionProps(id);
      expect(props).toMatchObject({
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        Handler: 'index.handler',
      });
      expect(props.Environment.Variables.NODE_OPTIONS).toBe('--enable-source-maps');
      expect(props.LoggingConfig).toEqual({ LogGroup: { Ref: expect.stringMatching(/Logs/) } });
    }
    // The three above and the alarm notifier.
    template.resourcePropertiesCountIs('AWS::Logs::LogGroup', { RetentionInDays: 30 }, 4);
  });

  it('carry the table, the queues and every setting in their environment; shadow by default', () => {
    for (const id of [ids.worker, ids.scheduler]) {
      const env = functionProps(id).Environment.Variables;
      expect(env[EnvVar.tableName]).toEqual({ Ref: ids.table });
      expect(env[EnvVar.queueUrl]).toEqual({ Ref: ids.queue });
      expect(env[EnvVar.deadLetterQueueUrl]).toEqual({ Ref: ids.dlq });
      expect(env[EnvVar.secretPrefix]).toBe('stopguard/');
      expect(env[EnvVar.bybitBaseUrl]).toBe('https://api.bybit.com');
      for (const key of Object.keys(defaultSettings) as (keyof ReconcileSettings)[]) {
        expect(env, envName(key)).toHaveProperty(envName(key));
      }
      expect(env[envName('shadow')]).toBe('true');
      expect(env).toMatchObject({
        POWERTOOLS_SERVICE_NAME: 'stopguard',
        POWERTOOLS_METRICS_NAMESPACE: 'Stopguard',
        POWERTOOLS_LOG_LEVEL: 'INFO',
      });
    }
  });

  it('give the register function the table, its own dead-letter queue and nothing else: no work queue, nothing to reconcile with', () => {
    const env = functionProps(ids.register).Environment.Variables;
    expect(env[EnvVar.tableName]).toEqual({ Ref: ids.table });
    expect(env[EnvVar.registerDeadLetterQueueUrl]).toEqual({ Ref: ids.registerDlq });
    for (const absent of [
      EnvVar.queueUrl,
      EnvVar.deadLetterQueueUrl,
      EnvVar.secretPrefix,
      EnvVar.bybitBaseUrl,
      EnvVar.extraExchangeOrigins,
      envName('shadow'),
    ]) {
      expect(env, absent).not.toHaveProperty(absent);
    }
    // Only the worker talks to an exchange, and by default only to Bybit's own hosts.
    for (const id of [ids.worker, ids.scheduler]) {
      expect(functionProps(id).Environment.Variables).not.toHaveProperty(EnvVar.extraExchangeOrigins);
    }
  });

  it.each([
    ['scheduler', () => ids.scheduler],
    ['worker', () => ids.worker],
    ['register', () => ids.register],
  ])('give the %s an environment its own cold start accepts', (_, id) => {
    // Deploy-time references replaced by values of the shape they take on AWS.
    const sample = (value: unknown): string => {
      if (typeof value === 'string') return value;
      const ref = (value as { Ref: string }).Ref;
      return ref === ids.table
        ? 'Stopguard-Table-1ABC'
        : `https://sqs.eu-west-1.amazonaws.com/123456789012/${ref}`;
    };
    const env = Object.fromEntries(
      Object.entries(functionProps(id()).Environment.Variables).map(([k, v]) => [k, sample(v)]),
    );
    expect(() => readEnvironment(env)).not.toThrow();
  });

  it('feed the worker from the queue with partial batch failures and bounded concurrency', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: ids.worker },
      EventSourceArn: { 'Fn::GetAtt': [ids.queue, 'Arn'] },
      BatchSize: 10,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: 10 },
    });
  });

  it('feed the register function from the register queue in small batches, two at most at once', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: ids.register },
      EventSourceArn: { 'Fn::GetAtt': [ids.registerQueue, 'Arn'] },
      BatchSize: 5,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: 2 },
    });
    template.resourceCountIs('AWS::Lambda::EventSourceMapping', 3);
  });

  it('run the scheduler every minute', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 minute)',
      State: 'ENABLED',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [ids.scheduler, 'Arn'] } })],
    });
  });
});

describe('alarms', () => {
  const metricAlarm = (metricName: string) => {
    const found = Object.values(template.findResources('AWS::CloudWatch::Alarm')).filter(
      (a) => a.Properties.MetricName === metricName,
    );
    expect(found, metricName).toHaveLength(1);
    return found[0]?.Properties as Record<string, unknown>;
  };
  const cases: [string, string, number, string][] = [
    [Metric.KeptForLackOfEvidence, 'Sum', 0, 'GreaterThanThreshold'],
    [Metric.CapRefusals, 'Sum', 0, 'GreaterThanThreshold'],
    [Metric.AuthErrors, 'Sum', 0, 'GreaterThanThreshold'],
    [Metric.DistrustedSnapshots, 'Sum', 2, 'GreaterThanThreshold'],
    [Metric.IncompleteResponsesObserved, 'Sum', 20, 'GreaterThanThreshold'],
    [Metric.SnapshotAgeSeconds, 'Maximum', 600, 'GreaterThanThreshold'],
    [Metric.ChecksRun, 'Sum', 1, 'LessThanThreshold'],
  ];

  it.each(cases)(
    '%s: %s %s %s over 5 minutes, notifying the topic',
    (name, statistic, threshold, comparison) => {
      const alarm = metricAlarm(name);
      expect(alarm).toMatchObject({
        Namespace: 'Stopguard',
        Dimensions: [{ Name: 'service', Value: 'stopguard' }],
        Statistic: statistic,
        Period: 300,
        Threshold: threshold,
        ComparisonOperator: comparison,
        AlarmActions: [{ Ref: ids.topic }],
      });
      expect(alarm.AlarmDescription).toEqual(expect.any(String));
    },
  );

  it('treat no ChecksRun at all as the worst staleness', () => {
    expect(metricAlarm(Metric.ChecksRun).TreatMissingData).toBe('breaching');
    expect(metricAlarm(Metric.KeptForLackOfEvidence).TreatMissingData).toBe('notBreaching');
    // A lost shard-minute is a minute of checks nobody made: any one alarms.
    expect(metricAlarm(Metric.ScheduleShardsLost)).toMatchObject({ Threshold: 0, Statistic: 'Sum' });
  });

  it.each([
    ['work', () => ids.dlq],
    ['register', () => ids.registerDlq],
  ])('watch the %s dead-letter queue', (_, dlq) => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [dlq(), 'QueueName'] } }],
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      AlarmActions: [{ Ref: ids.topic }],
    });
  });

  it('say where a refused registration lands, what a refused key means and what an address ban pauses', () => {
    const description = (name: string): string => {
      const alarm = synth.stack.stopguard.alarms[name];
      if (alarm === undefined) throw new Error(`no alarm ${name}`);
      return template.findResources('AWS::CloudWatch::Alarm')[logicalId(synth.stack, alarm)]?.Properties
        .AlarmDescription;
    };
    expect(description('registerDeadLetters')).toMatch(/`reason` attribute/);
    expect(description('authErrors')).toMatch(
      /refused an account's keys .*: fix its secret; nothing is being reconciled for that account/,
    );
    expect(description('ipBans')).toMatch(/banned the fleet's address .* pause .* fleetRequestsPer5s/);
  });

  it.each(['Errors', 'Throttles'])('watch %s of both functions', (metricName) => {
    for (const fn of [ids.worker, ids.scheduler]) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/Lambda',
        MetricName: metricName,
        Dimensions: [{ Name: 'FunctionName', Value: { Ref: fn } }],
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
        AlarmActions: [{ Ref: ids.topic }],
      });
    }
  });

  it('all say what to do, all notify the one topic, and no e-mail is subscribed unless given', () => {
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm'));
    expect(alarms).toHaveLength(18);
    for (const alarm of alarms) {
      expect(alarm.Properties.AlarmDescription.length).toBeGreaterThan(60);
      expect(alarm.Properties.AlarmActions).toEqual([{ Ref: ids.topic }]);
    }
    template.resourceCountIs('AWS::SNS::Topic', 1);
    template.resourceCountIs('AWS::SNS::Subscription', 0);
  });
});

describe('dashboard and outputs', () => {
  it('charts the decisions', () => {
    const dashboards = Object.values(template.findResources('AWS::CloudWatch::Dashboard'));
    expect(dashboards).toHaveLength(1);
    const body = JSON.stringify(dashboards[0]?.Properties.DashboardBody);
    for (const name of [
      Metric.SuspectsRaised,
      Metric.CancelsExecuted,
      Metric.KeptForLackOfEvidence,
      Metric.IncompleteResponsesObserved,
      Metric.CapRefusals,
      Metric.ChecksRun,
      Metric.ConfirmsRun,
      Metric.SnapshotAgeSeconds,
      Metric.AuthErrors,
      Metric.RegistrationsRejected,
      Metric.UnprotectedPositions,
      Metric.StopsPlaced,
    ]) {
      expect(body).toContain(`\\"${name}\\"`);
    }
  });

  it('alarms on any live position without a full stop, and saves the query that names each one', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: Metric.UnprotectedPositions,
      Statistic: 'Maximum',
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      AlarmDescription: Match.stringLikeRegexp(UNPROTECTED_QUERY_NAME),
    });
    const queries = Object.values(template.findResources('AWS::Logs::QueryDefinition'));
    const unprotected = queries.find((q) => q.Properties.Name === UNPROTECTED_QUERY_NAME);
    expect(unprotected?.Properties.QueryString).toMatch(
      /filter decision in \["unprotected", "underprotected"/,
    );
    expect(unprotected?.Properties.QueryString).toMatch(/accountId, symbol/);
  });

  it('alarms once per suspect that becomes stuck, with a saved query that names it', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: Metric.SuspectsStuck,
      Threshold: 0,
      AlarmDescription: Match.stringLikeRegexp(STUCK_QUERY_NAME),
    });
    const queries = Object.values(template.findResources('AWS::Logs::QueryDefinition'));
    const stuck = queries.find((q) => q.Properties.Name === STUCK_QUERY_NAME);
    expect(stuck?.Properties.QueryString).toMatch(/filter decision = "suspect-stuck"/);
  });

  it('shows both queries on the dashboard, so the names are one look away from the alarms', () => {
    const body = JSON.stringify(
      Object.values(template.findResources('AWS::CloudWatch::Dashboard'))[0]?.Properties.DashboardBody,
    );
    expect(body).toContain('names behind UnprotectedPositions');
    expect(body).toContain('names behind SuspectsStuck');
    expect(body).toContain('suspect-stuck');
    expect(body).toContain('underprotected');
  });

  it('names what an operator needs', () => {
    const outputs = template.findOutputs('*');
    expect(Object.keys(outputs).sort()).toEqual([
      'AlarmTopicArn',
      'DashboardName',
      'DeadLetterQueueUrl',
      'QueueUrl',
      'RegisterDeadLetterQueueUrl',
      'RegisterQueueArn',
      'RegisterQueueUrl',
      'TableName',
    ]);
    expect(outputs.TableName?.Value).toEqual({ Ref: ids.table });
    expect(outputs.RegisterQueueUrl?.Value).toEqual({ Ref: ids.registerQueue });
    expect(outputs.RegisterQueueArn?.Value).toEqual({ 'Fn::GetAtt': [ids.registerQueue, 'Arn'] });
    expect(outputs.QueueUrl?.Description).toMatch(/never grant the bot/);
  });
});
