import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { listFailureOf } from '#local/pipeline/console-telemetry.js';
import {
  AccountsFileError,
  type ExternalRunReport,
  loadAccountsFile,
  parseAccountsFile,
  withShadow,
} from '#local/pipeline/external.js';
import { localExchangeOrigin, UnsafeExchangeUrlError } from '#local/pipeline/pipeline.js';
import { formatExternalMode, formatExternalReport } from '#local/pipeline/report.js';

/** Stand-ins that look like Bybit keys; nothing here is a real credential. */
const KEY = 'KEYlooksLIKEbybit1';
const SECRET = 'SECRETlooksLIKEbybitXXXXXXXXXXXXXXXX';
const valid = { id: 'acct-1', apiKey: KEY, apiSecret: SECRET };

function refusal(text: string): string {
  try {
    parseAccountsFile(text, 'accounts.json');
  } catch (error) {
    expect(error).toBeInstanceOf(AccountsFileError);
    return (error as Error).message;
  }
  throw new Error('accepted');
}

function expectSecretFree(message: string): void {
  expect(message).not.toContain(SECRET);
  expect(message).not.toContain(KEY);
  expect(message).not.toContain('SECRET');
  expect(message).not.toMatch(/\n/);
}

describe('the accounts file of local mode', () => {
  it('accepts a valid file, with a BOM too', () => {
    expect(parseAccountsFile(JSON.stringify([valid]), 'a.json')).toEqual([valid]);
    expect(parseAccountsFile(`\uFEFF${JSON.stringify([{ ...valid, shadow: true }])}`, 'a.json')).toEqual([
      { ...valid, shadow: true },
    ]);
  });

  it('names the file, the entry and the field of each defect in one line, and never a value', () => {
    const cases: [unknown, RegExp][] = [
      [[valid, { id: 'b', apiKey: KEY }], /accounts\.json, entry at index 1: "apiSecret" is missing$/],
      [
        [{ ...valid, apiSecret: 12345 }],
        /entry at index 0: "apiSecret" must be a non-empty string, not a number$/,
      ],
      [
        [{ ...valid, apiKey: '' }],
        /entry at index 0: "apiKey" must be a non-empty string, not an empty string$/,
      ],
      [
        [{ id: 'a', apiKey: KEY, apiSecreet: SECRET }],
        /entry at index 0: has an unknown field "apiSecreet" \(did you mean "apiSecret"\?\) \(and 1 more problem\)$/,
      ],
      [
        [{ id: 'a', apiKey: KEY, apiSecret: SECRET, apiSecreet: 'x' }],
        /unknown field "apiSecreet" \(did you mean "apiSecret"\?\)$/,
      ],
      // A stray key far from every field could be a pasted secret: it is not named.
      [[{ ...valid, [SECRET]: true }], /entry at index 0: has a field that is not one of "id", "apiKey"/],
      [
        [{ ...valid, category: 'spot' }],
        /"category" must be "linear" or "inverse", not a string of another form$/,
      ],
      [[{ ...valid, shadow: 'yes' }], /"shadow" must be true or false, not a string/],
      [[{ ...valid, id: 'has space' }], /"id" must be 1 to 64 letters/],
      [[valid, valid], /entry at index 1: "id" repeats the one at index 0$/],
      [[SECRET], /entry at index 0: must be an object .* not a string of another form$/],
      [{ accounts: [valid] }, /must be a JSON array .* not an object$/],
      [[], /lists no accounts$/],
    ];
    for (const [json, expected] of cases) {
      const message = refusal(JSON.stringify(json));
      expect(message).toMatch(/^accounts file accounts\.json/);
      expect(message).toMatch(expected);
      expectSecretFree(message);
    }
  });

  it('says where JSON breaks without quoting the text around it', () => {
    const unquoted = refusal(`[{"id": "a", "apiKey": "${KEY}",\n "apiSecret": ${SECRET}}]`);
    expect(unquoted).toMatch(/^accounts file accounts\.json is not valid JSON/);
    expectSecretFree(unquoted);
    const cut = refusal(`[{"id": "a", "apiKey": "${KEY}",\n "apiSecret": "${SECRET}`);
    expect(cut).toMatch(/is not valid JSON \((line 2, column \d+|it ends too early)\)$/);
    expectSecretFree(cut);
    expect(refusal('')).toMatch(/is not valid JSON/);
  });

  it('says a file is missing or a directory, in one line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'local-mode-'));
    try {
      expect(() => loadAccountsFile(join(dir, 'nope.json'))).toThrow(
        /^cannot read accounts file .*nope\.json: no such file$/,
      );
      expect(() => loadAccountsFile(dir)).toThrow(/: it is a directory$/);
    } finally {
      rmSync(dir, { recursive: true });
    }
  });
});

describe('shadow in local mode against an exchange', () => {
  it('is shadow unless --live, and refuses an entry asking for live without it', () => {
    const accounts = [valid, { ...valid, id: 'b', shadow: true }];
    expect(withShadow(accounts, false).map((a) => a.shadow)).toEqual([true, true]);
    expect(withShadow(accounts, true).map((a) => a.shadow)).toEqual([false, true]);
    expect(() => withShadow([valid, { ...valid, id: 'c', shadow: false }], false, 'a.json')).toThrow(
      /^accounts file a\.json, entry at index 1: "shadow": false cancels orders, which needs --live/,
    );
    expect(withShadow([{ ...valid, shadow: false }], true).map((a) => a.shadow)).toEqual([false]);
  });

  it('says on the first line whether anything can be cancelled', () => {
    const url = 'https://api-testnet.bybit.com';
    expect(formatExternalMode(url, [{ shadow: true }], false)).toBe(
      'stopguard against https://api-testnet.bybit.com in SHADOW mode: nothing will be cancelled (add --live to cancel proven orphans)',
    );
    expect(formatExternalMode(url, [{ shadow: true }], true)).toMatch(
      /in SHADOW mode: nothing will be cancelled \(every entry/,
    );
    expect(formatExternalMode(url, [{ shadow: false }, { shadow: true }], true)).toBe(
      'stopguard against https://api-testnet.bybit.com in LIVE mode: proven orphans WILL be cancelled on 1 of 2 accounts (1 in shadow by their entry)',
    );
  });
});

describe('the report of a run against an exchange', () => {
  it('reads the failure back from the check sentence, or takes a structured one', () => {
    const sentence =
      'snapshot s-1 is incomplete (auth-error: GET /v5/position/list settleCoin=USDT: Bybit retCode 10003 "API key is invalid." (x)); concluded nothing from what it lacks';
    expect(listFailureOf(sentence, undefined)).toEqual({
      reason: 'auth-error',
      detail: 'GET /v5/position/list settleCoin=USDT: Bybit retCode 10003 "API key is invalid." (x)',
    });
    expect(listFailureOf(sentence, { reason: 'timeout', detail: 'd' })).toEqual({
      reason: 'timeout',
      detail: 'd',
    });
    expect(listFailureOf('something else', undefined)).toEqual({
      reason: 'unknown',
      detail: 'something else',
    });
  });

  it('names each account that never got a complete list, with its last failure, and fails', () => {
    const report: ExternalRunReport = {
      exchangeUrl: 'http://127.0.0.1:9',
      accounts: 3,
      wallMs: 20_000,
      counts: { ChecksRun: 5, CompleteSnapshots: 2, UnknownSnapshots: 3 },
      outcomes: [
        {
          id: 'good',
          shadow: true,
          checked: true,
          lastCompleteAt: Date.UTC(2025, 0, 1, 12, 0, 3),
          unknownLists: 0,
          distrustedLists: 0,
        },
        {
          id: 'bad-keys',
          shadow: true,
          checked: true,
          unknownLists: 3,
          distrustedLists: 0,
          lastFailure: {
            reason: 'auth-error',
            detail: 'GET /v5/position/list: Bybit retCode 10003 "API key is invalid."',
          },
        },
        { id: 'silent', shadow: true, checked: false, unknownLists: 0, distrustedLists: 0 },
      ],
      decisions: [],
      alarms: [],
    };
    const text = formatExternalReport(report);
    expect(text).toContain('(3 accounts, SHADOW: nothing cancelled)');
    expect(text).toMatch(
      / {4}good {6}OK \[shadow\]: complete lists, the last at 12:00:03 UTC; 0 unknown lists\n/,
    );
    expect(text).toContain(
      '    bad-keys  FAILED [shadow]: no complete list; 3 unknown lists, the last: auth-error: GET /v5/position/list: Bybit retCode 10003 "API key is invalid."',
    );
    expect(text).toContain('    silent    FAILED [shadow]: never checked');
    expect(text.split('\n').at(-1)).toBe(
      'FAIL: 2 of 3 accounts never got a complete position list (bad-keys, silent): nothing was reconciled for them.',
    );
  });
});

describe('the exchange URL local mode signs for', () => {
  it('takes https anywhere, plain http only on this machine or a private network', () => {
    for (const ok of [
      'https://api-testnet.bybit.com',
      'https://standin.example:8443',
      'http://127.0.0.1:4010',
      'http://localhost:9000',
      'http://[::1]:9000',
      'http://10.1.2.3:80',
      'http://172.20.0.5:4010',
      'http://192.168.1.9',
      'http://bybit-standin:4010',
    ]) {
      expect(localExchangeOrigin(ok), ok).toBe(new URL(ok).origin);
    }
    for (const refused of [
      'http://api.bybit.com',
      'http://8.8.8.8:4010',
      'http://172.32.0.1',
      'ftp://127.0.0.1',
      'nonsense',
    ]) {
      expect(() => localExchangeOrigin(refused), refused).toThrow(UnsafeExchangeUrlError);
    }
  });
});
