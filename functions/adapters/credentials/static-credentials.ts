import {
  type ApiCredentials,
  type CredentialsProvider,
  CredentialsUnavailableError,
} from '#ports/credentials.js';
import { parseCredentials } from './parse-credentials.js';

/** Credentials held in memory, keyed by reference: local mode (from a file or the simulator) and tests. */
export class StaticCredentials implements CredentialsProvider {
  private readonly byRef: ReadonlyMap<string, ApiCredentials>;

  constructor(entries: Readonly<Record<string, unknown>>) {
    this.byRef = new Map(Object.entries(entries).map(([ref, raw]) => [ref, parseCredentials(raw, ref)]));
  }

  async get(credentialsRef: string): Promise<ApiCredentials> {
    const found = this.byRef.get(credentialsRef);
    if (found === undefined) throw new CredentialsUnavailableError(`no credentials for "${credentialsRef}"`);
    return found;
  }
}
