import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context, EventBridgeEvent } from 'aws-lambda';
import { type AlarmNoticeDeps, sendAlarmNotice } from '#orchestration/alarm-notice.js';

/** The part of EventBridge's "CloudWatch Alarm State Change" the notifier reads. */
export interface AlarmStateChange {
  readonly alarmName: string;
  readonly state: { readonly value: string; readonly timestamp?: string };
  readonly configuration?: {
    readonly metrics?: readonly { readonly metricStat?: { readonly metric?: { readonly name?: string } } }[];
  };
}

/**
 * The alarm notifier (EventBridge, on a stopguard alarm's state change): when an alarm that names
 * positions goes into ALARM, sends the names behind it to the alarm topic. Other changes are ignored.
 */
export function createAlarmNotifierHandler(getDeps: () => Promise<AlarmNoticeDeps>, logger: Logger) {
  let deps: Promise<AlarmNoticeDeps> | undefined;
  return middy(
    async (event: EventBridgeEvent<'CloudWatch Alarm State Change', AlarmStateChange>, _context: Context) => {
      const detail = event.detail;
      if (detail?.state?.value !== 'ALARM') return { sent: false };
      const metric = detail.configuration?.metrics?.[0]?.metricStat?.metric?.name ?? '';
      const at = Date.parse(detail.state.timestamp ?? event.time);
      deps ??= getDeps();
      const sent = await sendAlarmNotice(await deps, {
        name: detail.alarmName,
        metric,
        at: Number.isNaN(at) ? Date.now() : at,
      });
      logger.info(sent ? 'sent the names behind an alarm' : 'an alarm that names no positions', {
        alarmName: detail.alarmName,
        metric,
      });
      return { sent };
    },
  ).use(injectLambdaContext(logger));
}
