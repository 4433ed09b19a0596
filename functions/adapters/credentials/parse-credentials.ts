import * as z from 'zod';
import { formatIssues } from '#contracts/issues.js';
import { type ApiCredentials, CredentialsUnavailableError } from '#ports/credentials.js';

const credentialsSchema = z.object({ apiKey: z.string().min(1), apiSecret: z.string().min(1) });

/**
 * Reads `{ "apiKey": "…", "apiSecret": "…" }`. Errors name the reference and the missing field only:
 * the value itself must never reach a log line.
 */
export function parseCredentials(raw: unknown, credentialsRef: string): ApiCredentials {
  const parsed = credentialsSchema.safeParse(raw);
  if (!parsed.success) {
    const fields = formatIssues(parsed.error.issues, { pathsOnly: true });
    throw new CredentialsUnavailableError(
      `credentials "${credentialsRef}" are not of the form { apiKey, apiSecret } (problem with: ${fields})`,
    );
  }
  return { apiKey: parsed.data.apiKey, apiSecret: parsed.data.apiSecret };
}
