import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BybitSimulator, noFaults, startBybitSimulator } from '#local/bybit-simulator/index.js';
import { accountsWithoutCompleteList, runExternal } from '#local/pipeline/external.js';
import type { LocalAccount } from '#local/pipeline/pipeline.js';
import { Metric } from '#ports/telemetry.js';

/**
 * `npm start -- --exchange-url … --accounts FILE` for real: the bundled Bybit simulator plays an
 * exchange we do not control, on 127.0.0.1, reached by the real pipeline (DynamoDB Local, the SQS
 * stand-in, the handlers). Keys are random per run and must never surface in any output.
 */

const ROOT = resolve(import.meta.dirname, '../..');
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');
const MAIN = join(ROOT, 'local', 'pipeline', 'main.ts');

const fresh = (id: string): LocalAccount => ({
  id,
  apiKey: randomBytes(9).toString('base64url'),
  apiSecret: randomBytes(24).toString('base64url'),
});
const trader = fresh('trader');
const quiet = fresh('quiet');

let simulator: BybitSimulator;
let dir: string;

beforeAll(async () => {
  simulator = await startBybitSimulator({
    seed: 3,
    faults: noFaults,
    accounts: [trader, quiet],
    rateLimitPerSecond: 0,
  });
  simulator.admin.setPrice('BTCUSDT', '60000');
  dir = mkdtempSync(join(tmpdir(), 'local-mode-'));
});

afterAll(async () => {
  await simulator?.close();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** Everything written to .stopguard/ in the run's working directory. */
  readonly logs: string;
}

/** `npm start -- …args` in a working directory of its own (where its .stopguard/ log goes). */
function cli(args: readonly string[]): Promise<CliRun> {
  const cwd = mkdtempSync(join(dir, 'cwd-'));
  return new Promise((done) => {
    execFile(TSX, [MAIN, ...args], { cwd, timeout: 60_000 }, (error, stdout, stderr) => {
      let logs = '';
      try {
        for (const file of readdirSync(join(cwd, '.stopguard')))
          logs += readFileSync(join(cwd, '.stopguard', file), 'utf8');
      } catch {
        // No log directory: the run stopped before it.
      }
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
      done({ code, stdout, stderr, logs });
    });
  });
}

function accountsFile(name: string, content: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

function expectNoKeys(text: string, accounts: readonly LocalAccount[]): void {
  for (const a of accounts) {
    expect(text).not.toContain(a.apiKey);
    expect(text).not.toContain(a.apiSecret);
  }
}

describe('local mode against an exchange', () => {
  it('runs in shadow by default: a proven orphan is recorded, not cancelled', async () => {
    simulator.admin.openPosition({ accountId: 'trader', symbol: 'BTCUSDT', side: 'Buy', qty: '0.01' });
    const sl = simulator.admin.placeProtectiveOrder({
      accountId: 'trader',
      symbol: 'BTCUSDT',
      kind: 'stop-loss',
      triggerPrice: '59000',
    });
    const tp = simulator.admin.placeProtectiveOrder({
      accountId: 'trader',
      symbol: 'BTCUSDT',
      kind: 'take-profit',
      triggerPrice: '61000',
    });
    const lists = () => simulator.admin.groundTruth().requestCounts.trader?.['/v5/position/list'] ?? 0;
    // Closed by hand once a check has put the position in the ledger: its SL and TP become orphans.
    const closer = setInterval(() => {
      if (lists() >= 2 && simulator.admin.positions('trader').length > 0) {
        simulator.admin.closePosition({ accountId: 'trader', symbol: 'BTCUSDT', how: 'manual' });
      }
    }, 100);
    const echoed: string[] = [];
    // Ends once both orders were skipped in shadow, well before the cap on slow machines.
    const enough = new AbortController();
    try {
      const report = await runExternal({
        exchangeUrl: simulator.url,
        accounts: [trader],
        durationMs: 30_000,
        settings: { cadenceMs: 1_000, confirmDelayMs: 1_000, evidenceGraceMs: 0 },
        progressEveryMs: 250,
        signal: enough.signal,
        echo: (line) => {
          echoed.push(line);
          if (line.endsWith('skipped in shadow 2')) enough.abort();
        },
      });
      expect(report.wallMs).toBeLessThan(30_000);
      expect(simulator.admin.positions('trader')).toEqual([]);
      expect(report.counts[Metric.ShadowCancelsSkipped]).toBe(2);
      expect(report.counts[Metric.CancelsExecuted] ?? 0).toBe(0);
      expect(simulator.admin.groundTruth().requestCounts.trader?.['/v5/order/cancel'] ?? 0).toBe(0);
      expect(
        simulator.admin
          .openOrders('trader')
          .map((o) => o.orderId)
          .sort(),
      ).toEqual([sl, tp].sort());
      expect(report.decisions.some((d) => d.message.startsWith('shadow mode, nothing cancelled'))).toBe(true);
      expect(report.outcomes).toEqual([
        expect.objectContaining({ id: 'trader', shadow: true, checked: true, unknownLists: 0 }),
      ]);
      expect(accountsWithoutCompleteList(report)).toEqual([]);
      expectNoKeys(echoed.join('\n'), [trader]);
    } finally {
      clearInterval(closer);
    }
  });

  it('names an account whose keys are refused, with the code, hides the keys, and exits 1', async () => {
    const refused = { ...fresh('refused'), apiKey: quiet.apiKey };
    const file = accountsFile('refused.json', [quiet, refused]);
    const run = await cli(['--exchange-url', simulator.url, '--accounts', file, '--duration', '2']);
    const out = run.stdout.split('\n');
    expect(out[0]).toBe(
      `stopguard against ${simulator.url} in SHADOW mode: nothing will be cancelled (add --live to cancel proven orphans)`,
    );
    expect(run.stdout).toMatch(
      /\n {4}quiet {4}OK \[shadow\]: complete lists, the last at \d\d:\d\d:\d\d UTC; 0 unknown lists\n/,
    );
    expect(run.stdout).toMatch(
      /\n {4}refused {2}FAILED \[shadow\]: no complete list; \d+ unknown lists?, the last: auth-error: GET \/v5\/position\/list[^\n]*Bybit retCode 10004 "error sign! origin_string\[[^\n]*\[redacted\][^\n]*fix the credentials[^\n]*\n/,
    );
    expect(out.at(-2)).toBe(
      'FAIL: 1 of 2 accounts never got a complete position list (refused): nothing was reconciled for it.',
    );
    expect(run.code).toBe(1);
    expect(run.logs).toContain('auth-error');
    expectNoKeys(run.stdout + run.stderr + run.logs, [quiet, refused]);
  });

  it('names an unreachable exchange as the failure of every account', async () => {
    const port = await freePort();
    const report = await runExternal({
      exchangeUrl: `http://127.0.0.1:${port}`,
      accounts: [fresh('nowhere')],
      durationMs: 1_500,
      settings: { cadenceMs: 1_000 },
    });
    expect(report.outcomes).toEqual([
      expect.objectContaining({
        id: 'nowhere',
        lastFailure: { reason: 'http-error', detail: expect.stringMatching(/ECONNREFUSED/) },
      }),
    ]);
    expect(report.outcomes[0]?.unknownLists).toBeGreaterThan(0);
    expect(accountsWithoutCompleteList(report).map((o) => o.id)).toEqual(['nowhere']);
  });

  it('refuses a malformed accounts file in one line that echoes no key, and exits 2', async () => {
    const secret = trader.apiSecret;
    const cases: [string, unknown, RegExp][] = [
      ['missing.json', [{ id: 'a', apiKey: trader.apiKey }], /, entry at index 0: "apiSecret" is missing$/],
      [
        'not-json.json',
        `[{"id": "a", "apiKey": "${trader.apiKey}", "apiSecret": ${secret}}]`,
        / is not valid JSON/,
      ],
      [
        'number.json',
        [{ id: 'a', apiKey: trader.apiKey, apiSecret: 1234567 }],
        /"apiSecret" must be a non-empty string, not a number$/,
      ],
    ];
    const runs = await Promise.all(
      cases.map(([name, content]) =>
        cli(['--exchange-url', simulator.url, '--accounts', accountsFile(name, content), '--duration', '2']),
      ),
    );
    runs.forEach((run, i) => {
      const [name, , expected] = cases[i] ?? [];
      expect(run.code, name).toBe(2);
      expect(run.stdout, name).toBe('');
      expect(run.stderr.trimEnd().split('\n'), name).toHaveLength(1);
      expect(run.stderr, name).toContain(`accounts file ${join(dir, name ?? '')}`);
      expect(run.stderr.trimEnd(), name).toMatch(expected ?? /./);
      expectNoKeys(run.stderr, [trader]);
      expect(run.stderr).not.toContain('1234567');
    });
  });
});

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
  const address = server.address();
  await new Promise((closed) => server.close(closed));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}
