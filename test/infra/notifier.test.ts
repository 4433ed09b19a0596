import type { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { logicalId, removeAssemblies, synthesize } from './synth.js';

/** The alarm notifier: what fires it, and what its role may do. Synthesized without bundling. */
let template: Template;
let ids: { topic: string };

beforeAll(() => {
  const synth = synthesize({ bundle: false });
  template = synth.template;
  ids = { topic: logicalId(synth.stack, synth.stack.stopguard.alarmTopic) };
});
afterAll(removeAssemblies);

describe('alarm notifier', () => {
  it("runs on the state changes of the four alarms that name positions, and may only query the worker's log and publish to the topic", () => {
    const rules = Object.values(template.findResources('AWS::Events::Rule')).filter(
      (r) => r.Properties.EventPattern?.['detail-type']?.[0] === 'CloudWatch Alarm State Change',
    );
    expect(rules).toHaveLength(1);
    const resources: { 'Fn::GetAtt': [string, string] }[] = rules[0]?.Properties.EventPattern.resources ?? [];
    const alarmIds = resources.map((r) => r['Fn::GetAtt'][0]);
    expect(
      alarmIds.map((id) => id.replace(/Alarm[0-9A-F]{8}$/, '').replace(/^Stopguard/, '')).sort(),
    ).toEqual(['CapRefusals', 'KeptForLackOfEvidence', 'SuspectsStuck', 'UnprotectedPositions']);
    const policies = Object.entries(template.findResources('AWS::IAM::Policy')).filter(([id]) =>
      id.includes('AlarmNotifier'),
    );
    const statements = policies.flatMap(
      ([, p]) => p.Properties.PolicyDocument.Statement as Record<string, unknown>[],
    );
    const actions = statements.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));
    expect(new Set(actions)).toEqual(
      new Set([
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        'logs:StartQuery',
        'logs:GetQueryResults',
        'sns:Publish',
      ]),
    );
    const startQuery = statements.find((s) => s.Action === 'logs:StartQuery');
    expect(JSON.stringify(startQuery?.Resource)).toMatch(/WorkerLogs/);
    expect(statements.find((s) => s.Action === 'sns:Publish')?.Resource).toEqual({ Ref: ids.topic });
  });
});
