import { accountRecordSchema } from '#contracts/account-record.js';
import { formatIssues } from '#contracts/issues.js';
import type { AccountRecord } from '#ports/accounts.js';

export class InvalidAccountFileError extends Error {
  override readonly name = 'InvalidAccountFileError';
}

/**
 * Reads an account record as an operator writes it (JSON), validated like every read of the table.
 * Keys do not belong in it: `credentialsRef` names the Secrets Manager secret that holds them.
 */
export function parseAccountFile(text: string, secretPrefix: string): AccountRecord {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new InvalidAccountFileError('the account file is not JSON');
  }
  if (typeof json === 'object' && json !== null && ('apiKey' in json || 'apiSecret' in json)) {
    throw new InvalidAccountFileError(
      'the account file must not hold keys: put them in Secrets Manager and name the secret in credentialsRef',
    );
  }
  const parsed = accountRecordSchema.safeParse(json);
  if (!parsed.success) {
    throw new InvalidAccountFileError(`invalid account: ${formatIssues(parsed.error.issues)}`);
  }
  if (!parsed.data.credentialsRef.startsWith(secretPrefix)) {
    throw new InvalidAccountFileError(
      `credentialsRef "${parsed.data.credentialsRef}" is outside the stack's secret prefix "${secretPrefix}": the functions could not read it`,
    );
  }
  return parsed.data;
}
