import { describe, expect, it } from 'vitest';
import { InvalidAccountFileError, parseAccountFile } from '#ops/account-file.js';

const valid = {
  accountId: 'alice',
  enabled: true,
  credentialsRef: 'stopguard/alice',
  exchange: { category: 'linear', settleCoins: ['USDT'] },
  settings: { shadow: false, capPerAccount: 5 },
};

describe('parseAccountFile', () => {
  it('accepts a valid record under the secret prefix', () => {
    expect(parseAccountFile(JSON.stringify(valid), 'stopguard/')).toEqual(valid);
  });

  it('refuses keys in the file, a reference outside the prefix, bad JSON and bad fields, saying why', () => {
    const refuse = (text: string, why: RegExp) => {
      expect(() => parseAccountFile(text, 'stopguard/')).toThrow(InvalidAccountFileError);
      expect(() => parseAccountFile(text, 'stopguard/')).toThrow(why);
    };
    refuse(JSON.stringify({ ...valid, apiKey: 'k' }), /must not hold keys/);
    refuse(JSON.stringify({ ...valid, credentialsRef: 'other/alice' }), /outside the stack's secret prefix/);
    refuse('{', /not JSON/);
    refuse(JSON.stringify({ ...valid, settings: { capGlobal: 5 } }), /settings/);
    // Stack-wide only: the worker timeout and the queue's visibility timeout are sized to the lease.
    refuse(JSON.stringify({ ...valid, settings: { claimLeaseMs: 5_000 } }), /settings/);
    refuse(JSON.stringify({ ...valid, settings: { capWindowMs: 3_600_000 } }), /settings/);
    refuse(
      JSON.stringify({ ...valid, exchange: { category: 'spot', settleCoins: ['USDT'] } }),
      /exchange\.category/,
    );
  });
});
