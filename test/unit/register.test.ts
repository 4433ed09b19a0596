import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { Context, SQSEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { bybitMarketRules } from '#adapters/bybit/symbols.js';
import { MemoryAccounts } from '#adapters/memory/memory-accounts.js';
import { MemoryDeadLetters } from '#adapters/memory/memory-dead-letters.js';
import { MemoryStore } from '#adapters/memory/memory-store.js';
import { MemoryTelemetry } from '#adapters/memory/memory-telemetry.js';
import { parseIngressMessage, type RegisterMessage } from '#contracts/messages.js';
import { createRegisterHandler } from '#handlers/register-handler.js';
import {
  REGISTER_CLOCK_SKEW_MS,
  type RegisterDeps,
  runRegister,
  runUnregister,
} from '#orchestration/register.js';
import type { AccountRecord } from '#ports/accounts.js';
import { Metric } from '#ports/telemetry.js';
import { account, suspect, T0, tracked } from '#test/support/records.js';

/**
 * The bot's way in. A registration can only add to what stopguard tracks, and only for an enabled
 * account, a symbol of that account's market and a fill time that is not in the future; a newer
 * registered state ends a suspect raised on an older one.
 */
const NOW = T0 + 60_000;

function rig(records: readonly AccountRecord[] = [account('acct-1')]) {
  const store = new MemoryStore();
  const telemetry = new MemoryTelemetry();
  let n = 0;
  const deps: RegisterDeps = {
    accounts: new MemoryAccounts(records),
    store,
    telemetry,
    clock: { now: () => NOW },
    ids: { next: (p) => `${p}-${n++}` },
    market: bybitMarketRules,
  };
  return { deps, store, telemetry };
}

const registration = (
  position: Partial<RegisterMessage['position']> = {},
  accountId = 'acct-1',
): RegisterMessage => ({
  type: 'register',
  accountId,
  position: { symbol: 'BTCUSDT', positionIdx: 0, side: 'long', size: '0.5', updatedAt: T0, ...position },
});

describe('runRegister', () => {
  it('tracks a position the bot opened', async () => {
    const { deps, store } = rig();
    expect(await runRegister(deps, registration())).toEqual({
      status: 'tracked',
      suspectEnded: false,
    });
    const [position] = (await store.loadAccountView('acct-1')).tracked;
    expect(position).toMatchObject({ symbol: 'BTCUSDT', size: '0.5', stateUpdatedAt: T0 });
    expect(position).not.toHaveProperty('stateSequence');
  });

  it('refuses a sequence from the bot: only the exchange orders states by sequence', async () => {
    expect(() =>
      parseIngressMessage(
        JSON.stringify({ ...registration(), position: { ...registration().position, sequence: 9e15 } }),
      ),
    ).toThrow(/Unrecognized key.*"sequence"/);
  });

  it.each([
    ['an unknown account', registration({}, 'nobody'), /account nobody is unknown/],
    [
      'a symbol outside the account market (USDC on a USDT account)',
      registration({ symbol: 'BTCPERP' }),
      /does not settle in USDT/,
    ],
    [
      'a name that is no Bybit instrument',
      registration({ symbol: 'btc/usdt' }),
      /not a Bybit futures instrument name/,
    ],
    [
      'a fill time in the future beyond the allowed skew',
      registration({ updatedAt: NOW + REGISTER_CLOCK_SKEW_MS + 1 }),
      /in the future/,
    ],
  ])('rejects %s, writing nothing', async (_what, message, why) => {
    const { deps, store } = rig();
    const outcome = await runRegister(deps, message);
    expect(outcome.status).toBe('rejected');
    expect(outcome.status === 'rejected' && outcome.reason).toMatch(why);
    expect((await store.loadAccountView(message.accountId)).tracked).toEqual([]);
  });

  it('rejects a registration for a disabled account', async () => {
    const { deps } = rig([account('acct-1', { enabled: false })]);
    expect(await runRegister(deps, registration())).toEqual({
      status: 'rejected',
      reason: 'account acct-1 is disabled',
    });
  });

  it('accepts a fill time a little ahead of our clock (skew), and symbols of every documented shape', async () => {
    const { deps } = rig([
      account('acct-1', { exchange: { category: 'linear', settleCoins: ['USDT', 'USDC'] } }),
      account('inv', { exchange: { category: 'inverse', settleCoins: ['BTC'] } }),
    ]);
    for (const symbol of [
      '1000PEPEUSDT',
      'BTCUSDT-21FEB25',
      'WC_ARG_AUT_USDT-22JUN26',
      'BTCPERP',
      'BTC-24MAR23',
    ]) {
      expect((await runRegister(deps, registration({ symbol, updatedAt: NOW + 1_000 }))).status, symbol).toBe(
        'tracked',
      );
    }
    for (const symbol of ['BTCUSD', 'BTCUSDH26']) {
      expect((await runRegister(deps, registration({ symbol }, 'inv'))).status, symbol).toBe('tracked');
    }
    expect((await runRegister(deps, registration({ symbol: 'ETHUSD' }, 'inv'))).status).toBe('rejected');
  });

  it('ends a suspect raised on an older state, and only that', async () => {
    const { deps, store, telemetry } = rig();
    const old = tracked({ stateSequence: 100, stateUpdatedAt: T0 - 5_000 });
    await store.upsertTracked([old]);
    await store.createSuspect(suspect({ position: old }));
    // The same state again: the suspect stands.
    expect(await runRegister(deps, registration({ size: old.size, updatedAt: old.stateUpdatedAt }))).toEqual({
      status: 'already-known',
      suspectEnded: false,
    });
    expect((await store.loadAccountView('acct-1')).suspects).toHaveLength(1);
    // A newer one (the position reopened): it ends.
    expect(await runRegister(deps, registration({ size: '0.7', updatedAt: T0 + 20_000 }))).toEqual({
      status: 'tracked',
      suspectEnded: true,
    });
    expect((await store.loadAccountView('acct-1')).suspects).toEqual([]);
    expect(
      telemetry.lines.some((l) =>
        /newer state .* while it was a suspect: suspect ended, no order touched/.test(l.message),
      ),
    ).toBe(true);
  });
});

describe('the register Lambda (the bot ingress)', () => {
  const context = {
    functionName: 'register',
    awsRequestId: 'r-1',
    getRemainingTimeInMillis: () => 30_000,
  } as unknown as Context;
  const record = (messageId: string, body: string) =>
    ({
      messageId,
      receiptHandle: `rh-${messageId}`,
      body,
      attributes: {},
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:stopguard-register',
      awsRegion: 'us-east-1',
    }) as unknown as SQSEvent['Records'][number];

  it('takes registrations only: a forged check or confirm goes to its dead-letter queue with a reason, as does a refused registration', async () => {
    const { deps, store, telemetry } = rig();
    const deadLetters = new MemoryDeadLetters();
    const handler = createRegisterHandler(
      async () => ({ register: deps, deadLetters }),
      new Logger({ logLevel: 'SILENT' }),
      new Metrics({ namespace: 'Test', serviceName: 'stopguard' }),
    );
    const response = await handler(
      {
        Records: [
          record('ok', JSON.stringify(registration())),
          record('check', JSON.stringify({ type: 'check', accountId: 'acct-1', slot: 1 })),
          record(
            'confirm',
            JSON.stringify({
              type: 'confirm',
              accountId: 'acct-1',
              symbol: 'BTCUSDT',
              positionIdx: 0,
              attempt: 0,
            }),
          ),
          record('foreign', JSON.stringify(registration({ symbol: 'ETHPERP' }))),
        ],
      },
      context,
    );
    expect(response.batchItemFailures).toEqual([]);
    expect(deadLetters.messages.map((m) => m.reason)).toEqual([
      expect.stringMatching(/^type: /),
      expect.stringMatching(/^type: /),
      'symbol ETHPERP does not settle in USDT (linear account)',
    ]);
    expect(telemetry.countOf(Metric.RegistrationsRejected)).toBe(1);
    expect((await store.loadAccountView('acct-1')).tracked.map((t) => t.symbol)).toEqual(['BTCUSDT']);
  });
});

describe("the bot's word on a stop", () => {
  it('keeps noStopIntended and stopPrice apart from the ledger, ordered by the fill time', async () => {
    const { deps, store } = rig();
    await runRegister(deps, registration({ noStopIntended: true, updatedAt: T0 + 2 }));
    // A late, older registration saying otherwise changes nothing.
    await runRegister(deps, registration({ noStopIntended: false, stopPrice: '59000', updatedAt: T0 + 1 }));
    // A registration that says nothing of the stop leaves the word as it was.
    await runRegister(deps, registration({ updatedAt: T0 + 3 }));
    const view = await store.loadAccountView('acct-1');
    expect(view.intents).toEqual([
      { accountId: 'acct-1', symbol: 'BTCUSDT', positionIdx: 0, noStopIntended: true, updatedAt: T0 + 2 },
    ]);
    expect(view.tracked[0]).not.toHaveProperty('noStopIntended');
  });

  it('withdraws it on unregister, validated like a registration, and never touches the ledger', async () => {
    const { deps, store } = rig();
    await runRegister(deps, registration({ noStopIntended: true }));
    const withdraw = (accountId: string, updatedAt: number) =>
      runUnregister(deps, {
        type: 'unregister',
        accountId,
        position: { symbol: 'BTCUSDT', positionIdx: 0, updatedAt },
      });
    expect(await withdraw('nobody', T0 + 1)).toEqual({
      status: 'rejected',
      reason: 'account nobody is unknown',
    });
    expect(await withdraw('acct-1', T0 - 1)).toEqual({ status: 'older' });
    expect(await withdraw('acct-1', T0 + 1)).toEqual({ status: 'withdrawn' });
    const view = await store.loadAccountView('acct-1');
    expect(view.intents[0]).toMatchObject({ noStopIntended: false, updatedAt: T0 + 1 });
    expect(view.tracked).toHaveLength(1);
  });

  it('refuses an unregister for a foreign symbol, and one that carries more than it may', async () => {
    const { deps } = rig();
    expect(
      await runUnregister(deps, {
        type: 'unregister',
        accountId: 'acct-1',
        position: { symbol: 'BTC-26DEC25', positionIdx: 0, updatedAt: T0 },
      }),
    ).toMatchObject({ status: 'rejected' });
    const carriesASize = {
      type: 'unregister',
      accountId: 'acct-1',
      position: { symbol: 'BTCUSDT', positionIdx: 0, updatedAt: T0, size: '1' },
    };
    expect(() => parseIngressMessage(JSON.stringify(carriesASize))).toThrow(/Unrecognized key: "size"/);
  });
});
