import { parseArgs } from 'node:util';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { documentClient } from '../../functions/adapters/dynamodb/document.js';
import { CapUnavailableError, DynamoCap } from '../../functions/adapters/dynamodb/dynamo-cap.js';
import { ensureTable, Keys } from '../../functions/adapters/dynamodb/table.js';
import { capWindowId } from '../../functions/adapters/memory/memory-cap.js';
import { localDynamoDbClient } from './clients.js';
import { startDynamoDbLocal } from './dynamodb-local.js';

/**
 * `npx tsx local/standins/transaction-stress.ts --rounds 150 --tables fresh|single`: races 50 cap
 * acquires (global budget 3) per round against DynamoDB Local and checks the grants against the
 * counter DynamoDB Local kept. With a fresh table per round, DynamoDB Local 1.25.1 loses transactional
 * writes in about one round per run (6 grants for a counter of 3, or 3 grants and no counter); on a
 * single table, with a new cap window per round, none in 200 rounds. That is why the cap tests share
 * one table per file, as production does, and why this is a stand-in limit, not the cap's.
 */
const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '100' },
    tables: { type: 'string', default: 'fresh' },
  },
});
const rounds = Number(values.rounds);
const single = values.tables === 'single';
const WINDOW = 60_000;
const T = 1_767_225_610_000;

const local = await startDynamoDbLocal();
const client = localDynamoDbClient(local.endpoint);
const doc = documentClient(client);
let anomalies = 0;
try {
  for (let round = 0; round < rounds; round++) {
    const tableName = single ? 'stress' : `stress-${round}`;
    if (!single || round === 0) await ensureTable(client, tableName);
    const now = T + (single ? round * WINDOW : 0);
    const cap = new DynamoCap({ client, tableName }, { perAccount: 10, global: 3, windowMs: WINDOW });
    const settled = await Promise.allSettled(
      Array.from({ length: 50 }, (_, i) => cap.acquire(`acct-${i}`, 1, now)),
    );
    const grants = settled.filter((s) => s.status === 'fulfilled' && s.value.status === 'granted').length;
    const failures = settled.flatMap((s) =>
      s.status === 'rejected' && !(s.reason instanceof CapUnavailableError) ? [String(s.reason)] : [],
    );
    const counter = await doc.send(
      new GetCommand({
        TableName: tableName,
        Key: Keys.capGlobal(capWindowId(now, WINDOW)),
        ConsistentRead: true,
      }),
    );
    const count: unknown = counter.Item?.count;
    if (grants !== 3 || count !== 3 || failures.length > 0) {
      anomalies++;
      console.log(
        `round ${round}: ${grants} grants, global counter ${String(count)}, ${failures.join('; ')}`,
      );
    }
  }
  console.log(
    `${anomalies} anomalous rounds of ${rounds} (${single ? 'one table' : 'a fresh table per round'})`,
  );
} finally {
  client.destroy();
  await local.stop();
}
