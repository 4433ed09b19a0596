import { Metric } from '../../functions/ports/telemetry.js';
import type { DecisionLine } from './console-telemetry.js';
import { type LocalAccount, startLocalPipeline } from './pipeline.js';
import { MinuteTimer } from './run.js';

export interface ExternalRunOptions {
  readonly exchangeUrl: string;
  readonly accounts: readonly LocalAccount[];
  readonly durationMs: number;
  readonly logFile?: string;
  readonly echo?: (line: string) => void;
}

export interface ExternalRunReport {
  readonly exchangeUrl: string;
  readonly accounts: number;
  readonly wallMs: number;
  readonly counts: Readonly<Record<string, number>>;
  /** Every audited decision: against a real exchange there is no ground truth to count, only this. */
  readonly decisions: readonly DecisionLine[];
  readonly alarms: readonly string[];
}

/**
 * The local pipeline against an exchange we do not control (testnet, demo trading). The ledger starts
 * empty and is built only from what the lists show; nothing here opens or closes positions.
 */
export async function runExternal(options: ExternalRunOptions): Promise<ExternalRunReport> {
  const pipeline = await startLocalPipeline({
    accounts: options.accounts,
    exchangeUrl: options.exchangeUrl,
    ...(options.logFile === undefined ? {} : { logFile: options.logFile }),
    ...(options.echo === undefined ? {} : { echo: options.echo }),
  });
  const startedAt = Date.now();
  const scheduler = new MinuteTimer((at) => pipeline.runScheduler(at).then(() => undefined));
  try {
    await scheduler.start();
    while (Date.now() - startedAt < options.durationMs) {
      await new Promise((resolve) => setTimeout(resolve, 5_000));
      options.echo?.(
        `  ${Math.round((Date.now() - startedAt) / 1000)} s: ${pipeline.telemetry.countOf(Metric.ChecksRun)} checks, ` +
          `${pipeline.telemetry.countOf(Metric.SuspectsRaised)} suspects, ${pipeline.telemetry.countOf(Metric.CancelsExecuted)} cancels`,
      );
    }
  } finally {
    await scheduler.stop();
    await pipeline.stop();
  }
  return {
    exchangeUrl: options.exchangeUrl,
    accounts: options.accounts.length,
    wallMs: Date.now() - startedAt,
    counts: Object.fromEntries(pipeline.telemetry.counts),
    decisions: [...pipeline.telemetry.decisions],
    alarms: [...pipeline.telemetry.alarms],
  };
}
