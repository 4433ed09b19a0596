import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { afterEach, describe, expect, it } from 'vitest';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '#local/standins/clients.js';
import { startDynamoDbLocal } from '#local/standins/dynamodb-local.js';
import { StandInUnavailableError } from '#local/standins/stand-in-error.js';

const saved = { PATH: process.env.PATH, JAVA_HOME: process.env.JAVA_HOME };
afterEach(() => {
  for (const [name, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});

describe('startDynamoDbLocal', () => {
  it('says what is missing and how to install it when there is no Java', async () => {
    delete process.env.JAVA_HOME;
    process.env.PATH = '/nonexistent';
    const started = startDynamoDbLocal();
    await expect(started).rejects.toThrow(StandInUnavailableError);
    await expect(started).rejects.toThrow(/`java` was not found.*apt-get install -y openjdk-17-jre-headless/);
  });

  it('uses the Java of JAVA_HOME when set, and names it when it is not there', async () => {
    process.env.JAVA_HOME = '/nonexistent/jdk';
    await expect(startDynamoDbLocal()).rejects.toThrow(/`\/nonexistent\/jdk\/bin\/java` was not found/);
  });

  it('answers once started and stops answering once stopped', async () => {
    const local = await startDynamoDbLocal();
    const client = new DynamoDBClient({
      endpoint: local.endpoint,
      region: LOCAL_REGION,
      credentials: LOCAL_CREDENTIALS,
      maxAttempts: 1,
    });
    try {
      console.info(`DynamoDB Local answered after ${local.startMs} ms on ${local.endpoint}`);
      expect(local.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect((await client.send(new ListTablesCommand({}))).TableNames).toEqual([]);
      await local.stop();
      await local.stop();
      await expect(client.send(new ListTablesCommand({}))).rejects.toThrow();
    } finally {
      client.destroy();
      await local.stop();
    }
  });
});
