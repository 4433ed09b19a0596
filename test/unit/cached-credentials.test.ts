import { describe, expect, it } from 'vitest';
import { CachedCredentials } from '#adapters/credentials/cached-credentials.js';
import type { ApiCredentials, CredentialsProvider } from '#ports/credentials.js';

/** A vault that hands out a new key pair on every read, and counts the reads. */
function vault(): CredentialsProvider & { reads: number; failNext: boolean } {
  const v = {
    reads: 0,
    failNext: false,
    get: async (ref: string): Promise<ApiCredentials> => {
      v.reads++;
      if (v.failNext) {
        v.failNext = false;
        throw new Error(`no secret ${ref}`);
      }
      return { apiKey: `key-${v.reads}`, apiSecret: `secret-${v.reads}` };
    },
  };
  return v;
}

describe('CachedCredentials', () => {
  const HOUR = 3_600_000;

  it('reads an account’s keys once per period, then again', async () => {
    let now = 0;
    const inner = vault();
    const cached = new CachedCredentials(inner, HOUR, () => now);
    await cached.get('stopguard/a');
    now = HOUR - 1;
    expect((await cached.get('stopguard/a')).apiKey).toBe('key-1');
    now = HOUR;
    expect((await cached.get('stopguard/a')).apiKey).toBe('key-2');
    expect(inner.reads).toBe(2);
  });

  it('reads them afresh after the exchange refused them, but not more than once a minute', async () => {
    let now = 0;
    const inner = vault();
    const cached = new CachedCredentials(inner, HOUR, () => now);
    await cached.get('stopguard/a');
    now = 30_000;
    cached.forget('stopguard/a');
    expect((await cached.get('stopguard/a')).apiKey).toBe('key-1');
    now = 60_000;
    cached.forget('stopguard/a');
    expect((await cached.get('stopguard/a')).apiKey).toBe('key-2');
    // Another account's copy is untouched.
    await cached.get('stopguard/b');
    now = 200_000;
    cached.forget('stopguard/a');
    await cached.get('stopguard/b');
    expect(inner.reads).toBe(3);
  });

  it('does not keep a failed read', async () => {
    const inner = vault();
    const cached = new CachedCredentials(inner, HOUR, () => 0);
    inner.failNext = true;
    await expect(cached.get('stopguard/a')).rejects.toThrow('no secret stopguard/a');
    expect((await cached.get('stopguard/a')).apiKey).toBe('key-2');
  });

  it('waits twice as long each time the same refused key comes back, and starts over on a new one', async () => {
    let now = 0;
    const keys = ['k1', 'k1', 'k1', 'k2', 'k2'];
    let reads = 0;
    const cached = new CachedCredentials(
      { get: async () => ({ apiKey: keys[Math.min(reads++, keys.length - 1)] ?? 'k2', apiSecret: 's' }) },
      HOUR,
      () => now,
    );
    const refusedAt = async (at: number) => {
      now = at;
      cached.forget('stopguard/a');
      await Promise.resolve();
      await cached.get('stopguard/a');
    };
    await cached.get('stopguard/a'); // read 1: k1
    await refusedAt(60_000); // refused after 60 s: read 2, k1 again
    await refusedAt(150_000); // refused again after 60 s or more: read 3, still k1
    await refusedAt(240_000); // the same key twice over: now 120 s, 90 s is too soon
    expect(reads).toBe(3);
    await refusedAt(300_000); // read 4 brings k2: a rotation
    await refusedAt(400_000); // the wait was already 240 s when k2 came: too soon
    expect(reads).toBe(4);
    await refusedAt(540_000); // k2 refused: read 5, and k2 starts over at 60 s
    await refusedAt(600_000);
    expect(reads).toBe(6);
  });
});
