import type { ApiCredentials, CredentialsProvider } from '#ports/credentials.js';

/**
 * Keeps resolved credentials for a while per container: a worker checking an account every 10 s must
 * not call Secrets Manager every 10 s (each call is billed, and so is the key decryption behind it).
 * A rotated key is picked up when the exchange refuses the old one (`forget`), or after `ttlMs`.
 */
export class CachedCredentials implements CredentialsProvider {
  private readonly cache = new Map<string, { value: Promise<ApiCredentials>; fetchedAt: number }>();
  /** Reads in a row that brought back the same refused key: each doubles the wait before the next. */
  private readonly refusals = new Map<string, { apiKey: string; count: number }>();

  constructor(
    private readonly inner: CredentialsProvider,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
    /**
     * A copy younger than this is kept even when the exchange refuses it, doubled for every read that
     * brought back the same key: keys that stay refused (an account whose keys expired) must not turn
     * every check into a Secrets Manager call.
     */
    private readonly minAgeToForgetMs = 60_000,
  ) {}

  get(credentialsRef: string): Promise<ApiCredentials> {
    const hit = this.cache.get(credentialsRef);
    if (hit !== undefined && hit.fetchedAt + this.ttlMs > this.now()) return hit.value;
    const value = this.inner.get(credentialsRef);
    this.cache.set(credentialsRef, { value, fetchedAt: this.now() });
    // a failed lookup is not cached: the next invocation tries again
    value.catch(() => this.cache.delete(credentialsRef));
    return value;
  }

  forget(credentialsRef: string): void {
    const hit = this.cache.get(credentialsRef);
    if (hit === undefined) return;
    const count = this.refusals.get(credentialsRef)?.count ?? 0;
    const wait = Math.min(this.ttlMs, this.minAgeToForgetMs * 2 ** count);
    if (this.now() - hit.fetchedAt < wait) return;
    this.cache.delete(credentialsRef);
    // The refused key, to tell a rotation (a new key: start over) from the same key read again.
    void hit.value.then(
      (keys) => {
        const before = this.refusals.get(credentialsRef);
        this.refusals.set(credentialsRef, {
          apiKey: keys.apiKey,
          count: before !== undefined && before.apiKey === keys.apiKey ? before.count + 1 : 0,
        });
      },
      () => undefined,
    );
  }
}
