import { DescribeTableCommand, DescribeTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { ensureTable, tableDefinition } from '#adapters/dynamodb/table.js';
import { useDynamoDbLocal } from '#test/support/dynamodb.js';

const dynamo = useDynamoDbLocal();

describe('the stopguard table on DynamoDB Local', () => {
  it('is created with PK/SK string keys, on demand, with TTL on expiresAt', async () => {
    const { client, tableName } = await dynamo.freshTable();
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    expect(Table?.TableStatus).toBe('ACTIVE');
    expect(Table?.KeySchema).toEqual([
      { AttributeName: 'PK', KeyType: 'HASH' },
      { AttributeName: 'SK', KeyType: 'RANGE' },
    ]);
    expect(Table?.BillingModeSummary?.BillingMode).toBe('PAY_PER_REQUEST');
    expect(Table?.GlobalSecondaryIndexes?.map((i) => [i.IndexName, i.KeySchema, i.Projection])).toEqual([
      [
        'schedule',
        [
          { AttributeName: 'scheduleBucket', KeyType: 'HASH' },
          { AttributeName: 'SK', KeyType: 'RANGE' },
        ],
        { ProjectionType: 'ALL' },
      ],
    ]);
    const ttl = await client.send(new DescribeTimeToLiveCommand({ TableName: tableName }));
    expect(ttl.TimeToLiveDescription).toEqual({ TimeToLiveStatus: 'ENABLED', AttributeName: 'expiresAt' });
  });

  it('is ensured idempotently: a second ensureTable on an existing table is a no-op', async () => {
    const { client, tableName } = await dynamo.freshTable();
    await ensureTable(client, tableName);
    const ttl = await client.send(new DescribeTimeToLiveCommand({ TableName: tableName }));
    expect(ttl.TimeToLiveDescription?.TimeToLiveStatus).toBe('ENABLED');
  });

  it('defines only the key attributes, the schedule index ones included (DynamoDB rejects unused ones)', () => {
    expect(tableDefinition('t-1').AttributeDefinitions?.map((a) => a.AttributeName)).toEqual([
      'PK',
      'SK',
      'scheduleBucket',
    ]);
  });

  it('started DynamoDB Local within a few seconds', () => {
    // Measured, not asserted tightly: a loaded CI machine can be slow.
    console.info(`DynamoDB Local answered after ${dynamo.startMs()} ms`);
    expect(dynamo.startMs()).toBeLessThan(30_000);
  });
});
