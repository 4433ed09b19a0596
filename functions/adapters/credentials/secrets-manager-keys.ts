import {
  CreateSecretCommand,
  PutSecretValueCommand,
  ResourceExistsException,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import type { ApiCredentials } from '#ports/credentials.js';

/**
 * Stores an account's keys as the worker reads them (`{ "apiKey", "apiSecret" }` under the account's
 * `credentialsRef`): a new secret, or a new version of an existing one. The operator's CLI writes
 * them; no function of the stack can. The values go to Secrets Manager and nowhere else.
 */
export async function storeAccountKeys(
  client: SecretsManagerClient,
  credentialsRef: string,
  keys: ApiCredentials,
): Promise<'created' | 'updated'> {
  const SecretString = JSON.stringify({ apiKey: keys.apiKey, apiSecret: keys.apiSecret });
  try {
    await client.send(new CreateSecretCommand({ Name: credentialsRef, SecretString }));
    return 'created';
  } catch (error) {
    if (!(error instanceof ResourceExistsException)) throw error;
    await client.send(new PutSecretValueCommand({ SecretId: credentialsRef, SecretString }));
    return 'updated';
  }
}
