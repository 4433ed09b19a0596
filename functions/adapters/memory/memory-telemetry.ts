import type { MetricName, Telemetry } from '#ports/telemetry.js';

/** Counts metrics and keeps log lines in memory: the simulation's and the tests' telemetry. */
export class MemoryTelemetry implements Telemetry {
  readonly counts = new Map<string, number>();
  readonly gauges = new Map<string, number>();
  readonly lines: { level: string; message: string; fields?: Readonly<Record<string, unknown>> }[] = [];

  constructor(private readonly keepLines = true) {}

  count(metric: MetricName, value = 1): void {
    this.counts.set(metric, (this.counts.get(metric) ?? 0) + value);
  }

  gauge(metric: MetricName, value: number): void {
    this.gauges.set(metric, value);
  }

  log(
    level: 'debug' | 'info' | 'warn' | 'error',
    message: string,
    fields?: Readonly<Record<string, unknown>>,
  ): void {
    if (!this.keepLines) return;
    this.lines.push(fields === undefined ? { level, message } : { level, message, fields });
  }

  countOf(metric: MetricName): number {
    return this.counts.get(metric) ?? 0;
  }
}
