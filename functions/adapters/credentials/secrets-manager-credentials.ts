import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import {
  type ApiCredentials,
  type CredentialsProvider,
  CredentialsUnavailableError,
} from '#ports/credentials.js';
import { parseCredentials } from './parse-credentials.js';

/** Credentials from AWS Secrets Manager: the account's `credentialsRef` is the secret's name. */
export class SecretsManagerCredentials implements CredentialsProvider {
  constructor(private readonly client: SecretsManagerClient) {}

  async get(credentialsRef: string): Promise<ApiCredentials> {
    let secret: string | undefined;
    try {
      secret = (await this.client.send(new GetSecretValueCommand({ SecretId: credentialsRef }))).SecretString;
    } catch (error) {
      const name = error instanceof Error ? error.name : 'unknown error';
      throw new CredentialsUnavailableError(`cannot read secret "${credentialsRef}": ${name}`);
    }
    if (secret === undefined)
      throw new CredentialsUnavailableError(`secret "${credentialsRef}" has no string value`);
    let json: unknown;
    try {
      json = JSON.parse(secret);
    } catch {
      throw new CredentialsUnavailableError(`secret "${credentialsRef}" is not JSON`);
    }
    return parseCredentials(json, credentialsRef);
  }
}
