import * as z from 'zod';
import { accountSettingsOverridesSchema } from './settings.js';

/** An account's id: the key of its record, of its state partition and of its secret's name. */
export const accountId = z.string().min(1).max(128);

/**
 * An account as stored (a DynamoDB item, the local accounts file), validated on every read. Keys are
 * never on it: the account's secret is named after its id under the stack's prefix (`credentialsRef`),
 * and only Bybit's hosts (or origins the deployment names) may be its `baseUrl`.
 */
export const accountRecordSchema = z.strictObject({
  accountId,
  enabled: z.boolean(),
  credentialsRef: z.string().min(1).max(512),
  exchange: z.strictObject({
    baseUrl: z.url({ protocol: /^https?$/ }).optional(),
    category: z.enum(['linear', 'inverse']),
    settleCoins: z
      .array(z.string().regex(/^[A-Z0-9]{2,10}$/))
      .min(1)
      .max(5),
  }),
  settings: accountSettingsOverridesSchema.optional(),
  /**
   * The protection audit: `alarm` (the default) finds live positions without a full stop and alarms;
   * `replace` also places a reduce-only, close-on-trigger stop on them, at the price the bot registered
   * or `stopDistance` (a fraction, "0.05" = 5 %) from the entry price.
   */
  protection: z
    .strictObject({
      mode: z.enum(['alarm', 'replace']),
      stopDistance: z
        .string()
        .regex(/^0\.\d+$/, 'a fraction below 1 such as "0.05"')
        .optional(),
    })
    .optional(),
});

export type AccountRecord = z.infer<typeof accountRecordSchema>;
