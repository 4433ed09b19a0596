import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import type { Context, EventBridgeEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { decisionsQuery } from '#adapters/cloudwatch/logs-insights-search.js';
import { MemoryDecisionLog } from '#adapters/memory/memory-decision-log.js';
import { type AlarmStateChange, createAlarmNotifierHandler } from '#handlers/alarm-notifier-handler.js';
import { describeNotice, NAMING_ALARMS } from '#orchestration/alarm-notice.js';
import { Metric } from '#ports/telemetry.js';

/** Decision lines recorded from `npm start` (test/fixtures/logs/README.md). */
const RECORDED = readFileSync(
  join(import.meta.dirname, '..', 'fixtures', 'logs', 'npm-start-seed1-decisions.jsonl'),
  'utf8',
);
const ALARM_AT = Date.parse('2026-11-30T21:29:00.000Z');

function alarmEvent(
  metric: string,
  state = 'ALARM',
): EventBridgeEvent<'CloudWatch Alarm State Change', AlarmStateChange> {
  return {
    version: '0',
    id: 'e-1',
    'detail-type': 'CloudWatch Alarm State Change',
    source: 'aws.cloudwatch',
    account: '123456789012',
    time: new Date(ALARM_AT).toISOString(),
    region: 'eu-west-1',
    resources: ['arn:aws:cloudwatch:eu-west-1:123456789012:alarm:Stopguard-UnprotectedPositionsAlarm'],
    detail: {
      alarmName: 'Stopguard-UnprotectedPositionsAlarm',
      state: { value: state, timestamp: new Date(ALARM_AT).toISOString() },
      configuration: { metrics: [{ metricStat: { metric: { name: metric } } }] },
    },
  };
}

function rig() {
  const sent: { subject: string; body: string }[] = [];
  const handler = createAlarmNotifierHandler(
    async () => ({
      logs: new MemoryDecisionLog(RECORDED),
      notifier: { publish: async (subject, body) => void sent.push({ subject, body }) },
    }),
    new Logger({ serviceName: 'test', logLevel: 'SILENT' }),
  );
  return { sent, handler };
}

describe('the e-mail behind an alarm', () => {
  it('names every account and position behind UnprotectedPositions, with the command that explains each', async () => {
    const { sent, handler } = rig();
    await handler(alarmEvent(Metric.UnprotectedPositions), {} as Context);
    expect(sent).toHaveLength(1);
    const [notice] = sent;
    expect(notice?.subject).toBe('stopguard ALARM: 6 live positions without a full stop-loss on 5 accounts');
    expect(notice?.body).toContain(
      '- acct-004 SOLUSDT#0, 2026-11-30T21:28:03.022Z: SOLUSDT short 0.66 on acct-004: no stop-loss for 31.0 s; exchange shows none, position-level or order',
    );
    expect(notice?.body).toContain('  npx stopguard explain acct-004 SOLUSDT');
    // Only the alarm's own decisions: no suspect, no cancel, no recovery.
    expect(notice?.body).not.toMatch(/raise-suspect|cancelled|a stop covers it again/);
    expect(notice?.body.match(/npx stopguard explain/g)).toHaveLength(6);
  });

  it('says so when the log holds none of its decisions, and ignores other alarms and other states', async () => {
    const { sent, handler } = rig();
    await handler(alarmEvent(Metric.SuspectsStuck), {} as Context);
    expect(sent[0]?.subject).toBe('stopguard ALARM: 0 suspects stuck undecided on 0 accounts');
    expect(sent[0]?.body).toMatch(/No decision of its kind was found/);
    await handler(alarmEvent(Metric.UnprotectedPositions, 'OK'), {} as Context);
    await handler(alarmEvent(Metric.ChecksRun), {} as Context);
    expect(sent).toHaveLength(1);
  });

  it('names each position once (its newest decision), hedge legs by their leg', () => {
    const rows = [
      {
        at: 3,
        accountId: 'acct-7',
        symbol: 'BTCUSDT',
        positionIdx: 2,
        decision: 'unprotected',
        message: 'newer',
      },
      {
        at: 2,
        accountId: 'acct-7',
        symbol: 'BTCUSDT',
        positionIdx: 2,
        decision: 'unprotected',
        message: 'older',
      },
    ];
    const { subject, body } = describeNotice('A', 'live positions without a full stop-loss', rows, 10);
    expect(subject).toBe('stopguard ALARM: 1 live positions without a full stop-loss on 1 account');
    expect(body).toContain('npx stopguard explain acct-7 BTCUSDT --leg 2');
    expect(body).not.toContain('older');
  });

  it('queries Logs Insights for exactly the decisions the recorded lines are filtered on', () => {
    for (const naming of Object.values(NAMING_ALARMS)) {
      const query = decisionsQuery(naming?.kinds ?? [], 50);
      expect(query).toContain(
        `filter decision in [${(naming?.kinds ?? []).map((k) => `"${k}"`).join(', ')}]`,
      );
      expect(query).toMatch(/^fields @timestamp, accountId, symbol, positionIdx, decision, message/);
      expect(query).toMatch(/\| limit 50$/);
    }
  });
});
