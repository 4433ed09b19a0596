/**
 * A trading bot using stopguard's client in local mode (`npm run example:bot`): it opens two positions
 * on the embedded Bybit simulator, registers both through `stopguard/client` (a hedge leg without a stop
 * by design, flagged `noStopIntended`), lets stopguard check the account, then withdraws that flag and
 * shows the protection audit judging the leg like any other. docs/BOT.md explains each message.
 */
import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { createStopguardClient } from '#adapters/sqs/bot-client.js';
import { noFaults, startBybitSimulator } from '#local/bybit-simulator/index.js';
import type { DecisionLine } from '#local/pipeline/console-telemetry.js';
import { type LocalAccount, startLocalPipeline } from '#local/pipeline/pipeline.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs the example, saying each step through `say`; returns the audit's decisions about the two positions. */
export async function runBotExample(say: (line: string) => void): Promise<DecisionLine[]> {
  const account: LocalAccount = {
    id: 'demo-bot',
    apiKey: randomBytes(9).toString('base64url'),
    apiSecret: randomBytes(24).toString('base64url'),
  };
  const simulator = await startBybitSimulator({
    seed: 1,
    faults: noFaults,
    accounts: [account],
    rateLimitPerSecond: 0,
  });
  // No grace, so the example need not wait 30 s for the audit's verdict.
  const pipeline = await startLocalPipeline({
    accounts: [account],
    exchangeUrl: simulator.url,
    settings: { protectionGraceMs: 0 },
  });
  try {
    simulator.admin.setPrice('BTCUSDT', '60000');
    simulator.admin.setPrice('ETHUSDT', '3000');
    // The bot: a BTCUSDT long with its stop, an ETHUSDT short it keeps without one on purpose.
    simulator.admin.openPosition({ accountId: account.id, symbol: 'BTCUSDT', side: 'Buy', qty: '0.01' });
    simulator.admin.placeProtectiveOrder({
      accountId: account.id,
      symbol: 'BTCUSDT',
      kind: 'stop-loss',
      triggerPrice: '57000',
    });
    simulator.admin.openPosition({ accountId: account.id, symbol: 'ETHUSDT', side: 'Sell', qty: '0.1' });

    const client = createStopguardClient({ sqs: pipeline.sqs, queueUrl: pipeline.registerQueues.queueUrl });
    say(`register queue: ${pipeline.registerQueues.queueUrl}`);
    for (const p of simulator.admin.positions(account.id)) {
      const position = {
        symbol: p.symbol,
        positionIdx: p.positionIdx,
        side: p.side === 'Buy' ? ('long' as const) : ('short' as const),
        size: p.size,
        updatedAt: p.updatedTime,
        ...(p.symbol === 'ETHUSDT' ? { noStopIntended: true } : {}),
      };
      await client.registerPosition(account.id, position);
      say(`registered ${JSON.stringify(position)}`);
    }
    await checks(3);
    say(`audit after 3 checks: ${describe(auditLines())}`);

    await client.unregisterPosition(account.id, { symbol: 'ETHUSDT', positionIdx: 0, updatedAt: Date.now() });
    say('unregistered ETHUSDT: the bot no longer says it has no stop by design');
    await checks(3);
    say(`audit after 3 more checks: ${describe(auditLines())}`);
    return auditLines();
  } finally {
    await pipeline.stop();
    await simulator.close();
  }

  async function checks(n: number): Promise<void> {
    for (let i = 0; i < n; i++) {
      await sleep(700); // lets the register function consume what the bot sent, and the lists move on
      await pipeline.send({ type: 'check', accountId: account.id, slot: Date.now() });
    }
    await sleep(700);
  }
  function auditLines(): DecisionLine[] {
    return pipeline.telemetry.decisions.filter((d) =>
      ['unprotected', 'underprotected', 'protection-restored'].includes(d.decision),
    );
  }
}

function describe(lines: readonly DecisionLine[]): string {
  return lines.length === 0
    ? 'no position judged without a stop'
    : lines.map((l) => `"${l.message}"`).join('; ');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await runBotExample((line) => console.log(line));
}
