import { SQSClient } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { createStopguardClient } from '#adapters/sqs/bot-client.js';
import { MalformedMessageError } from '#contracts/messages.js';
import { runBotExample } from '#local/examples/bot-registers.js';

describe('the bot client, end to end on the local stand-ins (the runnable example)', () => {
  it('keeps a leg registered without a stop by design out of the audit, until the bot withdraws that', async () => {
    const said: string[] = [];
    const decisions = await runBotExample((line) => said.push(line));
    expect(said).toContain('audit after 3 checks: no position judged without a stop');
    expect(decisions.map((d) => [d.decision, d.symbol])).toEqual([['unprotected', 'ETHUSDT']]);
    expect(decisions[0]?.message).toMatch(/^ETHUSDT short 0.1 on demo-bot: no stop-loss for /);
  }, 60_000);

  it('refuses a malformed message before sending anything', async () => {
    let sent = 0;
    const sqs = new SQSClient({
      region: 'us-east-1',
      endpoint: 'http://127.0.0.1:9',
      credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
    });
    sqs.middlewareStack.add((next) => (args) => {
      sent++;
      return next(args);
    });
    const client = createStopguardClient({
      sqs,
      queueUrl: 'http://127.0.0.1:9/000000000000/stopguard-register',
    });
    const position = { symbol: 'BTCUSDT', positionIdx: 0, side: 'long', size: 'half', updatedAt: 1 } as const;
    await expect(client.registerPosition('acct-1', position)).rejects.toThrow(MalformedMessageError);
    await expect(client.registerPosition('acct-1', position)).rejects.toThrow(
      /position.size: a decimal quantity/,
    );
    await expect(
      client.unregisterPosition('', { symbol: 'BTCUSDT', positionIdx: 0, updatedAt: 1 }),
    ).rejects.toThrow(/accountId/);
    expect(sent).toBe(0);
    sqs.destroy();
  });
});
