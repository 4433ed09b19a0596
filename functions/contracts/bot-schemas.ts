import * as z from 'zod';
import { registerMessageSchema, unregisterMessageSchema } from './messages.js';

/**
 * The bot's contract as JSON Schema (draft 2020-12), generated from the very zod schemas the register
 * function validates with, so the two cannot drift: `npm run schemas` writes them to schemas/, and a test
 * fails when the checked-in files differ. A change a bot must follow gets a new version beside the old.
 */
export const BOT_CONTRACT_VERSION = 1;

const messages = {
  register: {
    schema: registerMessageSchema,
    title: 'stopguard register message',
    description:
      'A position the bot opened (or changed), sent to the register queue. stopguard tracks it even if no ' +
      'list ever shows it, ends any suspect of an older state, and stores what the bot says of its stop.',
  },
  unregister: {
    schema: unregisterMessageSchema,
    title: 'stopguard unregister message',
    description:
      "Withdraws what the bot said of a position's stop (noStopIntended, stopPrice). It is no word on " +
      'the position itself: stopguard keeps reconciling what the exchange shows.',
  },
} as const;

/** File name → JSON Schema, for every message the bot may send. */
export function botMessageJsonSchemas(): Record<string, Record<string, unknown>> {
  return Object.fromEntries(
    Object.entries(messages).map(([name, { schema, title, description }]) => {
      const file = `${name}.v${BOT_CONTRACT_VERSION}.schema.json`;
      const generated = z.toJSONSchema(schema, { io: 'input' }) as Record<string, unknown>;
      const { $schema, ...rest } = generated;
      return [
        file,
        {
          $schema,
          $id: `urn:stopguard:bot-message:${name}:v${BOT_CONTRACT_VERSION}`,
          title,
          description,
          ...rest,
        },
      ];
    }),
  );
}
