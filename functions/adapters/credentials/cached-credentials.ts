import type { ApiCredentials, CredentialsProvider } from '#ports/credentials.js';

/**
 * Keeps resolved credentials for a while per container: a worker checking an account every 10 s must
 * not call Secrets Manager every 10 s. A rotated key is picked up after `ttlMs`.
 */
export class CachedCredentials implements CredentialsProvider {
  private readonly cache = new Map<string, { value: Promise<ApiCredentials>; until: number }>();

  constructor(
    private readonly inner: CredentialsProvider,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  get(credentialsRef: string): Promise<ApiCredentials> {
    const hit = this.cache.get(credentialsRef);
    if (hit !== undefined && hit.until > this.now()) return hit.value;
    const value = this.inner.get(credentialsRef);
    this.cache.set(credentialsRef, { value, until: this.now() + this.ttlMs });
    // a failed lookup is not cached: the next invocation tries again
    value.catch(() => this.cache.delete(credentialsRef));
    return value;
  }
}
