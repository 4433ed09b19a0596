/**
 * `npm run simulator -- --port 8787 --seed 1 --accounts 3 --drop-rate 0.02 [--funding-every-ms 28800000]`:
 * a demo exchange on loopback.
 * The keys it prints are throwaway simulator keys.
 */

import { parseArgs } from 'node:util';
import Big from 'big.js';
import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import { type SimAccountSpec, startBybitSimulator } from './index.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '8787' },
    host: { type: 'string', default: '127.0.0.1' },
    seed: { type: 'string', default: '1' },
    accounts: { type: 'string', default: '3' },
    'drop-rate': { type: 'string', default: '0.02' },
    'hedge-accounts': { type: 'string', default: '1' },
    'tick-ms': { type: 'string', default: '0' },
    'funding-every-ms': { type: 'string', default: '0' },
  },
});

const seed = Number(values.seed);
const accountCount = Number(values.accounts);
const hedgeCount = Math.min(accountCount, Number(values['hedge-accounts']));
const tickMs = Number(values['tick-ms']);
const fundingEveryMs = Number(values['funding-every-ms']);
const prices: Record<string, string> = { BTCUSDT: '60000', ETHUSDT: '3000', SOLUSDT: '150', AAVEUSDT: '100' };

const accounts: SimAccountSpec[] = Array.from({ length: accountCount }, (_, i) => ({
  id: `sim-acct-${i + 1}`,
  apiKey: `sim-key-${i + 1}`,
  apiSecret: `sim-secret-${i + 1}`,
  positionMode: i >= accountCount - hedgeCount ? 'hedge' : 'one-way',
}));

const sim = await startBybitSimulator({
  seed,
  host: values.host,
  port: Number(values.port),
  accounts,
  faults: { dropPositions: { probability: Number(values['drop-rate']) } },
  ...(fundingEveryMs > 0 ? { fundingEveryMs } : {}),
});

for (const [symbol, price] of Object.entries(prices)) sim.admin.setPrice(symbol, price);
const symbols = Object.keys(prices);
for (const [i, account] of accounts.entries()) {
  for (const [j, symbol] of symbols.entries()) {
    if ((i + j) % 4 === 3) continue;
    const side = (i + j) % 2 === 0 ? 'Buy' : 'Sell';
    const price = new Big(prices[symbol] ?? '1');
    const qty = symbol === 'BTCUSDT' ? '0.01' : symbol === 'ETHUSDT' ? '0.2' : '5';
    sim.admin.openPosition({ accountId: account.id, symbol, side, qty });
    const below = price.times(0.95).round(2).toFixed();
    const above = price.times(1.05).round(2).toFixed();
    const positionIdx = account.positionMode === 'hedge' ? (side === 'Buy' ? 1 : 2) : 0;
    const [sl, tp] = side === 'Buy' ? [below, above] : [above, below];
    sim.admin.placeProtectiveOrder({
      accountId: account.id,
      symbol,
      positionIdx,
      kind: 'stop-loss',
      triggerPrice: sl,
    });
    sim.admin.placeProtectiveOrder({
      accountId: account.id,
      symbol,
      positionIdx,
      kind: 'take-profit',
      triggerPrice: tp,
    });
  }
}

let walk: NodeJS.Timeout | undefined;
if (tickMs > 0) {
  // A seeded random walk, so stops and take-profits fire and leave orphans behind over time.
  const rng = xoroshiro128plus(seed);
  walk = setInterval(() => {
    for (const symbol of symbols) {
      const next = new Big(prices[symbol] ?? '1').times(1 + (uniformFloat64(rng) - 0.5) / 100).round(2);
      prices[symbol] = next.toFixed();
      sim.admin.setPrice(symbol, prices[symbol]);
    }
  }, tickMs);
}

console.log(`Bybit V5 simulator listening on ${sim.url} (seed ${seed}, drop rate ${values['drop-rate']})`);
for (const a of accounts)
  console.log(`  ${a.id} (${a.positionMode}): key ${a.apiKey}  secret ${a.apiSecret}`);
console.log(`admin: POST ${sim.url}/admin/<method> with a JSON body; GET ${sim.url}/admin/ground-truth`);

const stop = async () => {
  if (walk) clearInterval(walk);
  await sim.close();
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
