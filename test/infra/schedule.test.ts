/** The scheduler's shard machinery in the stack: its index, its queue and how it is fed. */
import type { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tableDefinition } from '#adapters/dynamodb/table.js';
import { EnvVar } from '#handlers/environment.js';
import { StopguardStack } from '#infra/stopguard-stack.js';
import { logicalId, removeAssemblies, type Synthesized, synthesize, testApp } from './synth.js';

let synth: Synthesized;
let template: Template;
let scheduleQueue: string;
let scheduler: string;

beforeAll(() => {
  synth = synthesize({ bundle: false, props: { scheduleShards: 16 } });
  template = synth.template;
  scheduleQueue = logicalId(synth.stack, synth.stack.stopguard.scheduleQueue);
  scheduler = logicalId(synth.stack, synth.stack.stopguard.scheduler.function);
});
afterAll(removeAssemblies);

describe('the scheduler in the stack', () => {
  it('lists shards through the index the adapters define, as DynamoDB Local gets it', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      GlobalSecondaryIndexes: tableDefinition('t').GlobalSecondaryIndexes,
    });
  });

  it('is fed its shard-minutes one at a time, as many at once as there are shards, retried within the minute', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: scheduler },
      EventSourceArn: { 'Fn::GetAtt': [scheduleQueue, 'Arn'] },
      BatchSize: 1,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: 16 },
    });
    expect(template.findResources('AWS::SQS::Queue')[scheduleQueue]?.Properties.VisibilityTimeout).toBe(60);
    const env = template.findResources('AWS::Lambda::Function')[scheduler]?.Properties.Environment.Variables;
    expect(env[EnvVar.scheduleShards]).toBe('16');
    expect(env[EnvVar.scheduleQueueUrl]).toEqual({ Ref: scheduleQueue });
  });

  it('refuses a shard count the index cannot be split into, at synth', () => {
    const app = testApp({ bundle: false });
    expect(() => new StopguardStack(app, 'Bad', { stopguard: { scheduleShards: 12 as 16 } })).toThrow(
      /scheduleShards must be one of 1, 2, 4, 8, 16, 32, 64/,
    );
  });
});
