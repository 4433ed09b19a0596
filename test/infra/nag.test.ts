/** cdk-nag stays clean, and every finding the construct accepts is one of a known list, with a reason. */
import { type App, Stack, Validations } from 'aws-cdk-lib';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { afterAll, describe, expect, it } from 'vitest';
import { addChecks } from '#infra/checks.js';
import { Stopguard } from '#infra/stopguard-construct.js';
import { StopguardStack } from '#infra/stopguard-stack.js';
import { removeAssemblies, testApp } from './synth.js';

// The packs read the construct tree, not the bundle.
afterAll(removeAssemblies);

/** Every unacknowledged finding of both packs, as `rule at path` lines (readable when a test fails). */
function findings(app: App): string[] {
  return [new AwsSolutionsChecks(app), new ServerlessChecks(app)].flatMap((pack) =>
    pack
      .validateScope(app)
      .violations.flatMap((v) =>
        v.violatingResources.map((r) => `${v.severity} ${v.ruleName} at ${r.constructPath}`),
      ),
  );
}

/** Every acknowledgment in the tree: the rule id and its reason. */
function acknowledgments(scope: IConstruct): { id: string; reason: string }[] {
  return scope.node.findAll().flatMap((c) =>
    c.node.metadata
      .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((m) =>
        Object.entries(m.data as Record<string, string>).map(([id, reason]) => ({
          id: id.replace(/^annotation::/i, ''),
          reason,
        })),
      ),
  );
}

const variants: [string, (app: App) => void][] = [
  ['the stack as `cdk synth` builds it', (app) => new StopguardStack(app, 'Stopguard')],
  [
    'the stack with an alarm e-mail, another secret prefix and a test stand-in',
    (app) =>
      new StopguardStack(app, 'Stopguard', {
        stopguard: {
          alarmEmail: 'ops@example.com',
          secretPrefix: 'bots/prod/',
          extraExchangeOrigins: ['http://10.0.0.5:4010'],
          shadow: false,
        },
      }),
  ],
  [
    'the stack with fixed egress (the worker in a VPC behind NAT gateways)',
    (app) => new StopguardStack(app, 'Stopguard', { stopguard: { fixedEgress: { natGateways: 2 } } }),
  ],
  [
    'the construct in a host stack with a concrete account and region',
    (app) =>
      new Stopguard(new Stack(app, 'Host', { env: { account: '111122223333', region: 'eu-west-1' } }), 'G'),
  ],
];

describe('cdk-nag (AWS Solutions and Serverless packs)', () => {
  it.each(variants)('finds no unacknowledged error or warning in %s', (_, build) => {
    const app = testApp({ bundle: false });
    build(app);
    addChecks(app);
    expect(findings(app)).toEqual([]);
    // The same packs as validation plugins: what `cdk synth` runs. A finding would fail synthesis.
    expect(() => app.synth()).not.toThrow();
  });

  it('acknowledges only the expected findings, each with a reason', () => {
    const app = testApp({ bundle: false });
    const stack = new StopguardStack(app, 'Stopguard');
    const acknowledged = acknowledgments(stack);
    expect(new Set(acknowledged.map((a) => a.id))).toEqual(
      new Set([
        // nodejs22.x, not the latest Lambda runtime (StopguardFunction says why).
        'AwsSolutions-L1',
        'Serverless-LambdaLatestVersion',
        'Serverless-LambdaTracing',
        // SQS-driven functions and an EventBridge tick: dead letters live on the queues, or are pointless.
        'Serverless-LambdaDLQ',
        'Serverless-LambdaEventSourceMappingDestination',
        'Serverless-EventBusDLQ',
        'Serverless-SQSRedrivePolicy',
        // logs:GetQueryResults, which IAM authorises on "*" only (the alarm notifier).
        'AwsSolutions-IAM5[Resource::*]',
        // The random suffix of a secret's ARN.
        'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:stopguard/*]',
      ]),
    );
    for (const { id, reason } of acknowledged) expect(reason.length, id).toBeGreaterThan(80);
  });

  it('is live: an unencrypted queue without a dead-letter queue fails synthesis', () => {
    const app = testApp({ bundle: false });
    new Queue(new Stack(app, 'Careless'), 'Queue');
    addChecks(app);
    expect(findings(app)).toEqual(
      expect.arrayContaining([
        'error AwsSolutions-SQS4 at Careless/Queue/Resource',
        'error Serverless-SQSRedrivePolicy at Careless/Queue/Resource',
      ]),
    );
    expect(() => app.synth()).toThrow(/AwsSolutions-SQS4/);
  });
});
