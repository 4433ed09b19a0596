/** StopguardStack: the standalone deployment of the Stopguard construct, with its outputs. */
import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { Stopguard } from './stopguard-construct.js';
import type { StopguardProps } from './stopguard-props.js';

export interface StopguardStackProps extends StackProps {
  readonly stopguard?: StopguardProps;
}

/** The standalone deployment: the Stopguard construct and the names an operator needs. */
export class StopguardStack extends Stack {
  readonly stopguard: Stopguard;

  constructor(scope: Construct, id: string, props: StopguardStackProps = {}) {
    super(scope, id, props);
    this.stopguard = new Stopguard(this, 'Stopguard', props.stopguard);
    const { table, queue, deadLetterQueue, registerQueue, registerDeadLetterQueue, alarmTopic, dashboard } =
      this.stopguard;
    new CfnOutput(this, 'TableName', { value: table.tableName, description: 'Account records go here' });
    new CfnOutput(this, 'RegisterQueueUrl', {
      value: registerQueue.queueUrl,
      description: 'The bot sends its register messages here, and only here',
    });
    new CfnOutput(this, 'RegisterQueueArn', {
      value: registerQueue.queueArn,
      description: "Grant the bot's role sqs:SendMessage on this ARN (nothing on the work queue)",
    });
    new CfnOutput(this, 'RegisterDeadLetterQueueUrl', {
      value: registerDeadLetterQueue.queueUrl,
      description: 'Refused or unparsable registrations, each with a reason attribute',
    });
    new CfnOutput(this, 'QueueUrl', {
      value: queue.queueUrl,
      description: "stopguard's own work queue (check, confirm); never grant the bot access to it",
    });
    new CfnOutput(this, 'DeadLetterQueueUrl', { value: deadLetterQueue.queueUrl });
    new CfnOutput(this, 'AlarmTopicArn', {
      value: alarmTopic.topicArn,
      description: 'Subscribe to get alarms',
    });
    new CfnOutput(this, 'DashboardName', { value: dashboard.dashboardName });
  }
}
