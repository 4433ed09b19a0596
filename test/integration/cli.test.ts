import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DynamoAccounts } from '#adapters/dynamodb/dynamo-accounts.js';
import { DynamoAudit } from '#adapters/dynamodb/dynamo-audit.js';
import { DynamoStore } from '#adapters/dynamodb/dynamo-store.js';
import type { Decision } from '#core/decision.js';
import { runCli } from '#ops/cli/main.js';
import { useDynamoDbLocal } from '#test/support/dynamodb.js';
import { account, suspect, T0, tracked } from '#test/support/records.js';
import { startSecretsManagerStub } from '#test/support/secrets-manager-stub.js';

/**
 * `npx stopguard` end to end against DynamoDB Local: a table holding what a running stopguard writes
 * (accounts, ledger, a stuck suspect, an unprotected position, audited decisions), read and acted on
 * through the CLI's own entry point, bad input included.
 */

const dynamo = useDynamoDbLocal();
const NOW = T0 + 7_200_000;
let table = '';

async function cli(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(
    [...argv, '--table', table, '--endpoint', dynamo.endpoint(), '--as', 'ops-alice'],
    {
      out: (l) => out.push(l),
      err: (l) => err.push(l),
      env: {},
      now: () => NOW,
    },
  );
  return { code, out: out.join('\n'), err: err.join('\n') };
}

const decision = (kind: 'keep-orders' | 'unprotected', message: string): Decision =>
  kind === 'keep-orders'
    ? {
        kind,
        reason: 'no-close-evidence',
        key: { accountId: 'acct-7', symbol: 'BTCUSDT', positionIdx: 0 },
        alarm: true,
        snapshotIds: ['snap-2'],
        message,
        orders: [],
        changes: [],
        retryAfterMs: 60_000,
      }
    : {
        kind,
        reason: 'stop-coverage-short',
        key: { accountId: 'acct-7', symbol: 'ETHUSDT', positionIdx: 0 },
        alarm: true,
        snapshotIds: ['snap-3'],
        message,
        coveredShare: '0',
        uncoveredSince: NOW - 60_000,
      };

beforeEach(async () => {
  const config = await dynamo.freshTable();
  table = config.tableName;
  const store = new DynamoStore(config);
  await new DynamoAccounts(config).put(account('acct-7'));
  await new DynamoAccounts(config).put(account('acct-8', { enabled: false }));
  const btc = tracked({ accountId: 'acct-7' });
  await store.upsertTracked([btc, tracked({ accountId: 'acct-7', symbol: 'ETHUSDT' })]);
  await store.createSuspect(
    suspect({ position: btc, attempts: 31, stuckSince: NOW - 600_000, nextAttemptAt: NOW + 300_000 }),
  );
  await store.saveWatches(
    [
      {
        accountId: 'acct-7',
        symbol: 'ETHUSDT',
        positionIdx: 0,
        side: 'long',
        size: '0.001',
        since: NOW - 60_000,
        looks: 2,
        coveredShare: '0',
        alarmedAt: NOW - 20_000,
        snapshotIds: ['snap-3'],
      },
    ],
    [],
  );
  await new DynamoAudit(config).record([
    {
      accountId: 'acct-7',
      at: NOW - 1_800_000,
      phase: 'confirm',
      shadow: false,
      decision: decision('keep-orders', 'kept SL on BTCUSDT: missing in 2 fetches but no close event'),
    },
    {
      accountId: 'acct-7',
      at: NOW - 20_000,
      phase: 'check',
      shadow: false,
      decision: decision('unprotected', 'ETHUSDT long 0.001 on acct-7: no stop-loss for 40.0 s'),
    },
  ]);
});

afterEach(() => {
  table = '';
});

describe('npx stopguard', () => {
  it('status: one block per account naming its stuck suspects and unprotected positions', async () => {
    const { code, out } = await cli('status');
    expect(code).toBe(0);
    expect(out).toContain('acct-7 (enabled, stack default, protection alarm)');
    expect(out).toContain('acct-8 (DISABLED');
    expect(out).toMatch(/open suspects: 1 \(1 STUCK\); unprotected: 1/);
    expect(out).toMatch(/suspect BTCUSDT#0: .*31 attempts.*STUCK since/);
    expect(out).toMatch(/UNPROTECTED ETHUSDT#0 long 0.001: stops cover 0 %/);
    expect(out).toMatch(
      /decisions in the last hour: (keep-orders 1, unprotected 1|unprotected 1, keep-orders 1)/,
    );
    const json = JSON.parse((await cli('status', '--account', 'acct-7', '--json')).out);
    expect(json[0].suspects[0].stuckSince).toBe(NOW - 600_000);
  });

  it("explain: the position's audited story oldest first, then what the table holds now", async () => {
    const { code, out } = await cli('explain', 'acct-7', 'BTCUSDT');
    expect(code).toBe(0);
    const lines = out.split('\n');
    expect(lines[0]).toBe('BTCUSDT on acct-7');
    expect(lines[1]).toMatch(
      /confirm {2}ALARM keep-orders \(no-close-evidence\): kept SL on BTCUSDT: missing in 2 fetches but no close event$/,
    );
    expect(out).not.toContain('ETHUSDT long');
    expect(out).toMatch(/now:\n {4}tracked: long 0.001/);
    expect(out).toMatch(/suspect since .*31 attempts.*STUCK since/);
  });

  it('suspects --stuck, then retry: due now, no longer stuck, audited with who ran it', async () => {
    expect((await cli('suspects', '--stuck')).out).toMatch(/^acct-7 BTCUSDT#0: suspect since .*STUCK/);
    const retried = await cli('retry', 'acct-7', 'BTCUSDT');
    expect(retried).toMatchObject({ code: 0, err: '' });
    expect((await cli('suspects', '--stuck')).out).toBe('no open suspects');
    expect((await cli('explain', 'acct-7', 'BTCUSDT')).out).toMatch(
      /operator operator-retry \(operator\): retry requested by ops-alice: the next check looks at it again, and it is no longer stuck/,
    );
  });

  it('forget: the suspect and the ledger entry go, the orders are untouched, audited', async () => {
    expect((await cli('forget', 'acct-7', 'BTCUSDT')).code).toBe(0);
    const { out } = await cli('explain', 'acct-7', 'BTCUSDT');
    expect(out).toMatch(/forgotten by ops-alice: no longer tracked, no order touched/);
    expect(out).toMatch(/now:\n {4}not tracked$/);
    expect(await cli('forget', 'acct-7', 'BTCUSDT')).toMatchObject({
      code: 1,
      err: 'stopguard forget: stopguard tracks nothing of BTCUSDT#0 on acct-7',
    });
  });

  it('accounts: list, show, disable, enable, shadow, add from a file without keys', async () => {
    expect((await cli('accounts', 'list')).out).toMatch(
      /^acct-7\tenabled\tstack default\tlinear USDT\tprotection alarm\nacct-8\tDISABLED/,
    );
    expect((await cli('accounts', 'shadow', 'acct-7', 'on')).code).toBe(0);
    expect((await cli('accounts', 'disable', 'acct-7')).code).toBe(0);
    expect(JSON.parse((await cli('accounts', 'show', 'acct-7')).out)).toMatchObject({
      enabled: false,
      settings: { shadow: true },
    });
    const file = join(tmpdir(), `stopguard-cli-${NOW}.json`);
    writeFileSync(file, JSON.stringify({ ...account('acct-9'), apiKey: 'k' }));
    expect(await cli('accounts', 'add', '--file', file)).toMatchObject({
      code: 2,
      err: expect.stringMatching(/must not hold keys/),
    });
    writeFileSync(file, JSON.stringify(account('acct-9', { credentialsRef: 'stopguard/acct-9' })));
    expect((await cli('accounts', 'add', '--file', file)).out).toBe('account acct-9 stored (enabled: true)');
  });

  it('accounts add --keys-file puts the keys into Secrets Manager as the worker reads them, and never prints them', async () => {
    const sm = await startSecretsManagerStub();
    const saved = { ...process.env };
    Object.assign(process.env, {
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
    });
    try {
      const dir = join(tmpdir(), `stopguard-keys-${NOW}`);
      const record = join(`${dir}-record.json`);
      const keys = join(`${dir}-keys.json`);
      writeFileSync(record, JSON.stringify(account('acct-9', { credentialsRef: 'stopguard/acct-9' })));
      writeFileSync(keys, JSON.stringify({ apiKey: 'KEY-abc123', apiSecret: 'SECRET-xyz789' }));
      const add = () =>
        runCli(
          [
            'accounts',
            'add',
            '--file',
            record,
            '--keys-file',
            keys,
            '--table',
            table,
            '--endpoint',
            dynamo.endpoint(),
            '--secrets-endpoint',
            sm.endpoint,
          ],
          {
            out: (l) => out.push(l),
            err: (l) => out.push(l),
            env: {},
          },
        );
      const out: string[] = [];
      expect(await add()).toBe(0);
      expect(out).toEqual([
        'account acct-9 stored (enabled: true); keys created in Secrets Manager as stopguard/acct-9',
      ]);
      expect(JSON.parse(sm.secrets.get('stopguard/acct-9') ?? '')).toEqual({
        apiKey: 'KEY-abc123',
        apiSecret: 'SECRET-xyz789',
      });
      // Again: a new version of the same secret.
      writeFileSync(keys, JSON.stringify({ apiKey: 'KEY-new', apiSecret: 'SECRET-new' }));
      expect(await add()).toBe(0);
      expect(sm.calls).toEqual(['CreateSecret', 'CreateSecret', 'PutSecretValue']);
      // A keys file missing a field is named by its field, never its value.
      writeFileSync(keys, JSON.stringify({ apiKey: 'KEY-only' }));
      expect(await add()).toBe(2);
      expect(out.at(-1)).toMatch(/problem with: apiSecret/);
      expect(out.join('\n')).not.toMatch(/KEY-abc123|SECRET-xyz789|KEY-new|SECRET-new|KEY-only/);
    } finally {
      process.env = saved;
      await sm.close();
    }
  });

  it('bad input: one clear line and a non-zero exit, never a stack trace', async () => {
    expect(await cli('status', '--account', 'nobody')).toMatchObject({
      code: 1,
      err: `stopguard status: no account nobody in ${table}`,
    });
    expect(await cli('explain', 'acct 7', 'BTCUSDT')).toMatchObject({
      code: 2,
      err: 'stopguard explain: "acct 7" is not an account id',
    });
    expect(await cli('explain', 'acct-7', 'btc/usdt')).toMatchObject({ code: 2 });
    expect(await cli('retry', 'acct-7', 'ETHUSDT')).toMatchObject({
      code: 1,
      err: 'stopguard retry: no suspect of ETHUSDT#0 on acct-7',
    });
    expect(await cli('explain', 'acct-7', 'BTCUSDT', '--since', 'last week')).toMatchObject({ code: 2 });
    expect(await cli('frobnicate')).toMatchObject({
      code: 2,
      err: expect.stringMatching(/unknown command "frobnicate"/),
    });
    table = 'no-such-table';
    expect(await cli('status')).toMatchObject({
      code: 1,
      err: `stopguard status: no table no-such-table at ${dynamo.endpoint()}`,
    });
  });

  it('without credentials says so in one line', async () => {
    const saved = { ...process.env };
    for (const k of Object.keys(process.env)) if (k.startsWith('AWS_')) delete process.env[k];
    Object.assign(process.env, {
      AWS_REGION: 'us-east-1',
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_CONFIG_FILE: '/nonexistent',
      AWS_SHARED_CREDENTIALS_FILE: '/nonexistent',
    });
    try {
      const err: string[] = [];
      const code = await runCli(['status', '--table', 'stopguard'], {
        out: () => {},
        err: (l) => err.push(l),
        env: {},
      });
      expect(code).toBe(1);
      expect(err).toEqual([
        'stopguard status: no AWS credentials found (set AWS_PROFILE or the AWS_* variables, as for the AWS CLI)',
      ]);
    } finally {
      process.env = saved;
    }
  });
});
