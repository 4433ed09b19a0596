/** An exchange API key pair. Never logged, never put in an error message, never stored outside its vault. */
export interface ApiCredentials {
  readonly apiKey: string;
  readonly apiSecret: string;
}

/** Resolves an account's `credentialsRef` (a Secrets Manager secret on AWS, a key of a local file). */
export interface CredentialsProvider {
  get(credentialsRef: string): Promise<ApiCredentials>;
  /** The exchange refused these keys: a cached copy may be stale (rotated), so read them afresh next time. */
  forget?(credentialsRef: string): void;
}

/** Raised when credentials cannot be had. Its message names the reference, never the secret. */
export class CredentialsUnavailableError extends Error {
  override readonly name = 'CredentialsUnavailableError';
}
