import { randomUUID } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll } from 'vitest';
import { type DynamoTableConfig, documentClient } from '#adapters/dynamodb/document.js';
import { ensureTable } from '#adapters/dynamodb/table.js';
import { localDynamoDbClient } from '#local/standins/clients.js';
import { type DynamoDbLocal, startDynamoDbLocal } from '#local/standins/dynamodb-local.js';

export interface DynamoDbLocalFixture {
  /** A client of the running DynamoDB Local. */
  client(): DynamoDBClient;
  /** A document client of it (for looking at raw items). */
  doc(): ReturnType<typeof documentClient>;
  /** A fresh, empty table with the stopguard key schema and TTL: one per test keeps tests independent. */
  freshTable(): Promise<DynamoTableConfig>;
  /** Its endpoint, for a client of a test's own making. */
  endpoint(): string;
  /** How long DynamoDB Local took to answer, in ms. */
  startMs(): number;
}

/**
 * Starts DynamoDB Local once for the calling test file (beforeAll) and stops it afterwards (afterAll).
 * Call at the top level of a test file.
 */
export function useDynamoDbLocal(): DynamoDbLocalFixture {
  let local: DynamoDbLocal | undefined;
  let client: DynamoDBClient | undefined;
  let doc: ReturnType<typeof documentClient> | undefined;

  beforeAll(async () => {
    local = await startDynamoDbLocal();
    client = localDynamoDbClient(local.endpoint);
    doc = documentClient(client);
  });
  afterAll(async () => {
    client?.destroy();
    await local?.stop();
  });

  const running = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('DynamoDB Local is not running (useDynamoDbLocal in beforeAll)');
    return value;
  };
  return {
    client: () => running(client),
    doc: () => running(doc),
    freshTable: async () => {
      const tableName = `stopguard-test-${randomUUID()}`;
      await ensureTable(running(client), tableName);
      return { client: running(client), tableName };
    },
    endpoint: () => running(local).endpoint,
    startMs: () => running(local).startMs,
  };
}
