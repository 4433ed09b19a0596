import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { OperatorNotifier } from '#ports/alarm-notes.js';

/** Publishes to the operators' alarm topic (the one the alarms' e-mail subscription hangs on). */
export class SnsNotifier implements OperatorNotifier {
  constructor(
    private readonly client: SNSClient,
    private readonly topicArn: string,
  ) {}

  async publish(subject: string, body: string): Promise<void> {
    // SNS subjects are at most 100 printable ASCII characters.
    const printable = subject.replace(/[^\x20-\x7e]/g, ' ').slice(0, 100);
    await this.client.send(
      new PublishCommand({ TopicArn: this.topicArn, Subject: printable, Message: body }),
    );
  }
}
