import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import {
  checkedMessage,
  type RegisterMessage,
  registerMessageSchema,
  type UnregisterMessage,
  unregisterMessageSchema,
} from '#contracts/messages.js';

/**
 * The trading bot's way in (`stopguard/client`): typed messages to stopguard's register queue (the
 * stack's `RegisterQueueUrl` output; locally, the one `npm start` prints). Each message is validated
 * before it is sent, with the schema the register function applies, so a mistake is a
 * `MalformedMessageError` here rather than a dead letter there. The caller owns the SQS client (its
 * region, credentials, endpoint): the bot's role needs only sqs:SendMessage on that queue.
 */
export interface StopguardClient {
  /** After the bot opens or changes a position: stopguard tracks it, and keeps what it says of its stop. */
  registerPosition(accountId: string, position: RegisterMessage['position']): Promise<void>;
  /** Withdraws what the bot said of a position's stop (`noStopIntended`, `stopPrice`). */
  unregisterPosition(accountId: string, position: UnregisterMessage['position']): Promise<void>;
}

export function createStopguardClient(options: {
  readonly sqs: SQSClient;
  readonly queueUrl: string;
}): StopguardClient {
  const send = async (body: unknown) => {
    await options.sqs.send(
      new SendMessageCommand({ QueueUrl: options.queueUrl, MessageBody: JSON.stringify(body) }),
    );
  };
  return {
    registerPosition: async (accountId, position) =>
      send(checkedMessage(registerMessageSchema, { type: 'register', accountId, position })),
    unregisterPosition: async (accountId, position) =>
      send(checkedMessage(unregisterMessageSchema, { type: 'unregister', accountId, position })),
  };
}
