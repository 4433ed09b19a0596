import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoAccounts } from '#adapters/dynamodb/dynamo-accounts.js';
import { parseAccountFile } from './account-file.js';

/**
 * Adds or replaces an account in a deployed stack's table:
 *   npx tsx ops/account.ts put --table <TableName output> --file account.json [--secret-prefix stopguard/]
 * Uses the AWS CLI's credentials and region (AWS_PROFILE, AWS_REGION). See docs/DEPLOY.md.
 */
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    table: { type: 'string' },
    file: { type: 'string' },
    'secret-prefix': { type: 'string', default: 'stopguard/' },
  },
});
if (positionals[0] !== 'put' || values.table === undefined || values.file === undefined) {
  console.error(
    'usage: npx tsx ops/account.ts put --table TABLE --file account.json [--secret-prefix stopguard/]',
  );
  process.exit(2);
}
try {
  const record = parseAccountFile(readFileSync(values.file, 'utf8'), values['secret-prefix']);
  await new DynamoAccounts({ client: new DynamoDBClient({}), tableName: values.table }).put(record);
  console.log(`account ${record.accountId} stored in ${values.table} (enabled: ${record.enabled})`);
} catch (error) {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
}
