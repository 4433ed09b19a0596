import { appendFileSync } from 'node:fs';
import type { MetricName, Telemetry } from '../../functions/ports/telemetry.js';

/**
 * Local telemetry: counts metrics for the progress line and the final report, writes every log line
 * as JSON to a file, and echoes alarming (error-level) lines to the console where a person sees them.
 */
export class ConsoleTelemetry implements Telemetry {
  readonly counts = new Map<string, number>();
  readonly alarms: string[] = [];

  constructor(
    private readonly logFile: string,
    private readonly echo: (line: string) => void,
  ) {}

  count(metric: MetricName, value = 1): void {
    this.counts.set(metric, (this.counts.get(metric) ?? 0) + value);
  }

  gauge(metric: MetricName, value: number): void {
    this.counts.set(`${metric}:last`, value);
  }

  log(
    level: 'debug' | 'info' | 'warn' | 'error',
    message: string,
    fields?: Readonly<Record<string, unknown>>,
  ): void {
    appendFileSync(
      this.logFile,
      `${JSON.stringify({ time: new Date().toISOString(), level, message, ...fields })}\n`,
    );
    if (level === 'error') {
      this.alarms.push(message);
      this.echo(`  ALARM ${message}`);
    }
  }

  countOf(metric: MetricName): number {
    return this.counts.get(metric) ?? 0;
  }
}
