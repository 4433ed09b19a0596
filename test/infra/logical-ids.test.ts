/**
 * The logical ids of everything the stack deploys, pinned. CloudFormation replaces a resource whose
 * logical id changes: a new table (the ledger and audit trail left behind), new queues (messages in
 * flight lost), a new alarm topic (its e-mail subscriptions dropped). Moving code between files or
 * construct scopes must leave this list as it is; adding a resource adds a line.
 */
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, describe, expect, it } from 'vitest';
import { StopguardStack } from '#infra/stopguard-stack.js';
import { removeAssemblies, testApp } from './synth.js';

// Ids do not depend on the bundle.
afterAll(removeAssemblies);

const DEPLOYED = {
  StopguardAlarmNotifierFunction12BA2C04: 'AWS::Lambda::Function',
  StopguardAlarmNotifierLogsACEEAE54: 'AWS::Logs::LogGroup',
  StopguardAlarmNotifierRole6A590DDF: 'AWS::IAM::Role',
  StopguardAlarmNotifierRoleDefaultPolicyB624F740: 'AWS::IAM::Policy',
  StopguardAlarmNotifierRuleAllowEventRuleStopguardAlarmNotifierFunction6157676CB7297A7F:
    'AWS::Lambda::Permission',
  StopguardAlarmNotifierRuleEDCC5E63: 'AWS::Events::Rule',
  StopguardAlarmTopicBBB2E6A6: 'AWS::SNS::Topic',
  StopguardAlarmTopicPolicy3AA244F9: 'AWS::SNS::TopicPolicy',
  StopguardAuthErrorsAlarm00928C2B: 'AWS::CloudWatch::Alarm',
  StopguardCapRefusalsAlarm7805B2EA: 'AWS::CloudWatch::Alarm',
  StopguardDashboard87264CE8: 'AWS::CloudWatch::Dashboard',
  StopguardDeadLetterQueueFA463694: 'AWS::SQS::Queue',
  StopguardDeadLetterQueuePolicyC3A8E3AB: 'AWS::SQS::QueuePolicy',
  StopguardDeadLettersAlarm54234F7B: 'AWS::CloudWatch::Alarm',
  StopguardDistrustedSnapshotsAlarm0A754620: 'AWS::CloudWatch::Alarm',
  StopguardEveryMinuteAllowEventRuleStopguardSchedulerFunctionD01BAAEA5CA5C52C: 'AWS::Lambda::Permission',
  StopguardEveryMinuteEF648693: 'AWS::Events::Rule',
  StopguardIncompleteResponsesAlarm26DD8D6D: 'AWS::CloudWatch::Alarm',
  StopguardIpBansAlarm183B1260: 'AWS::CloudWatch::Alarm',
  StopguardKeptForLackOfEvidenceAlarmBE5916A1: 'AWS::CloudWatch::Alarm',
  StopguardNoChecksAlarm947EE828: 'AWS::CloudWatch::Alarm',
  StopguardRegisterDeadLetterQueue88645B29: 'AWS::SQS::Queue',
  StopguardRegisterDeadLetterQueuePolicy94622F26: 'AWS::SQS::QueuePolicy',
  StopguardRegisterDeadLettersAlarmB55B11C3: 'AWS::CloudWatch::Alarm',
  StopguardRegisterFunctionFD240D67: 'AWS::Lambda::Function',
  StopguardRegisterFunctionSqsEventSourceStopguardRegisterQueue11289E2FE4F4AD2F:
    'AWS::Lambda::EventSourceMapping',
  StopguardRegisterLogs060AA263: 'AWS::Logs::LogGroup',
  StopguardRegisterQueue64EDB9FD: 'AWS::SQS::Queue',
  StopguardRegisterQueuePolicy695DB82A: 'AWS::SQS::QueuePolicy',
  StopguardRegisterRole5CBC3DF3: 'AWS::IAM::Role',
  StopguardRegisterRoleDefaultPolicyEA9666B5: 'AWS::IAM::Policy',
  StopguardScheduleDeadLetterQueue241B60C7: 'AWS::SQS::Queue',
  StopguardScheduleDeadLetterQueuePolicy0EE606D3: 'AWS::SQS::QueuePolicy',
  StopguardScheduleDeadLettersAlarmF0146BED: 'AWS::CloudWatch::Alarm',
  StopguardScheduleQueue6230368A: 'AWS::SQS::Queue',
  StopguardScheduleQueuePolicy8D8CF680: 'AWS::SQS::QueuePolicy',
  StopguardScheduleShardsLostAlarm71A35B36: 'AWS::CloudWatch::Alarm',
  StopguardSchedulerErrorsAlarmD00E847F: 'AWS::CloudWatch::Alarm',
  StopguardSchedulerFunction63F72D8B: 'AWS::Lambda::Function',
  StopguardSchedulerFunctionSqsEventSourceStopguardScheduleQueue4473ECECDD4C6277:
    'AWS::Lambda::EventSourceMapping',
  StopguardSchedulerLogs15B0AE2F: 'AWS::Logs::LogGroup',
  StopguardSchedulerRole1D9722CC: 'AWS::IAM::Role',
  StopguardSchedulerRoleDefaultPolicyB44699C6: 'AWS::IAM::Policy',
  StopguardSchedulerThrottlesAlarmFF2A63E8: 'AWS::CloudWatch::Alarm',
  StopguardStaleSnapshotsAlarm74527120: 'AWS::CloudWatch::Alarm',
  StopguardStuckSuspectsQueryCCF971B3: 'AWS::Logs::QueryDefinition',
  StopguardSuspectsStuckAlarmB66262E0: 'AWS::CloudWatch::Alarm',
  StopguardTableCCDBFA3A: 'AWS::DynamoDB::Table',
  StopguardUnprotectedPositionsAlarm901448D5: 'AWS::CloudWatch::Alarm',
  StopguardUnprotectedPositionsQuery39D37987: 'AWS::Logs::QueryDefinition',
  StopguardWorkQueue9A74D976: 'AWS::SQS::Queue',
  StopguardWorkQueuePolicy72853AC2: 'AWS::SQS::QueuePolicy',
  StopguardWorkerErrorsAlarm106E59C0: 'AWS::CloudWatch::Alarm',
  StopguardWorkerFunction2F215516: 'AWS::Lambda::Function',
  StopguardWorkerFunctionSqsEventSourceStopguardWorkQueue434AD731C692B6F8: 'AWS::Lambda::EventSourceMapping',
  StopguardWorkerLogs5F64402E: 'AWS::Logs::LogGroup',
  StopguardWorkerRoleDefaultPolicy1C193B64: 'AWS::IAM::Policy',
  StopguardWorkerRoleF5D3B4DC: 'AWS::IAM::Role',
  StopguardWorkerThrottlesAlarm8936617E: 'AWS::CloudWatch::Alarm',
};

describe('logical ids', () => {
  it('are those of the deployed stack, resource for resource', () => {
    // Named as `cdk synth` names it: two of the ids below include the stack's name.
    const stack = new StopguardStack(testApp({ bundle: false }), 'Stopguard');
    const resources = Template.fromStack(stack).toJSON().Resources as Record<string, { Type: string }>;
    const actual = Object.fromEntries(Object.entries(resources).map(([id, r]) => [id, r.Type]));
    expect(actual).toEqual(DEPLOYED);
  });
});
