import { appendFileSync } from 'node:fs';
import type { MetricName, Telemetry } from '../../functions/ports/telemetry.js';

export interface DecisionLine {
  readonly at: number;
  readonly accountId: string;
  readonly symbol: string;
  readonly phase: string;
  readonly decision: string;
  readonly reason: string;
  readonly alarm: boolean;
  readonly message: string;
}

/**
 * Local telemetry: counts metrics for the progress line and the final report, keeps every gauge
 * sample (latencies), writes every log line as JSON to a file, and echoes alarming (error-level)
 * lines to the console where a person sees them.
 */
export class ConsoleTelemetry implements Telemetry {
  readonly counts = new Map<string, number>();
  readonly samples = new Map<string, number[]>();
  readonly alarms: string[] = [];
  /** Every audited decision, in order: the report of a run against a real exchange lists them all. */
  readonly decisions: DecisionLine[] = [];

  constructor(
    private readonly logFile: string | undefined,
    private readonly echo: (line: string) => void,
  ) {}

  count(metric: MetricName, value = 1, dimensions?: Readonly<Record<string, string>>): void {
    this.counts.set(metric, (this.counts.get(metric) ?? 0) + value);
    if (dimensions !== undefined) {
      const key = `${metric}{${Object.entries(dimensions)
        .map(([k, v]) => `${k}=${v}`)
        .join(',')}}`;
      this.counts.set(key, (this.counts.get(key) ?? 0) + value);
    }
  }

  gauge(metric: MetricName, value: number): void {
    let list = this.samples.get(metric);
    if (list === undefined) {
      list = [];
      this.samples.set(metric, list);
    }
    list.push(value);
  }

  log(
    level: 'debug' | 'info' | 'warn' | 'error',
    message: string,
    fields?: Readonly<Record<string, unknown>>,
  ): void {
    if (this.logFile !== undefined) {
      appendFileSync(
        this.logFile,
        `${JSON.stringify({ time: new Date().toISOString(), level, message, ...fields })}\n`,
      );
    }
    if (typeof fields?.decision === 'string') {
      this.decisions.push({
        at: Date.now(),
        accountId: String(fields.accountId),
        symbol: String(fields.symbol),
        phase: String(fields.phase),
        decision: fields.decision,
        reason: String(fields.reason),
        alarm: fields.alarm === true,
        message,
      });
    }
    if (level === 'error') {
      this.alarms.push(message);
      this.echo(`  ALARM ${message}`);
    }
  }

  countOf(metric: MetricName): number {
    return this.counts.get(metric) ?? 0;
  }

  samplesOf(metric: MetricName): readonly number[] {
    return this.samples.get(metric) ?? [];
  }
}
