import type { Logger } from '@aws-lambda-powertools/logger';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { Metric, type MetricName, type Telemetry } from '#ports/telemetry.js';

/** Metric namespace in CloudWatch; the alarms in infra/ read from it. */
export const METRICS_NAMESPACE = 'Stopguard';
export const SERVICE_NAME = 'stopguard';

/**
 * Telemetry on Lambda: structured JSON logs through Powertools Logger, metrics as CloudWatch EMF
 * through Powertools Metrics (flushed by the `logMetrics` middleware at the end of each invocation).
 */
export class PowertoolsTelemetry implements Telemetry {
  constructor(
    private readonly logger: Logger,
    private readonly metrics: Metrics,
  ) {}

  count(metric: MetricName, value = 1, dimensions?: Readonly<Record<string, string>>): void {
    if (dimensions === undefined) {
      this.metrics.addMetric(metric, MetricUnit.Count, value);
      return;
    }
    // A dimensioned metric goes out on its own so its dimensions do not leak onto the others.
    const single = this.metrics.singleMetric();
    for (const [name, dimension] of Object.entries(dimensions)) single.addDimension(name, dimension);
    single.addMetric(metric, MetricUnit.Count, value);
  }

  gauge(metric: MetricName, value: number): void {
    this.metrics.addMetric(metric, unitOf(metric), value);
  }

  log(
    level: 'debug' | 'info' | 'warn' | 'error',
    message: string,
    fields?: Readonly<Record<string, unknown>>,
  ): void {
    const extra = fields === undefined ? {} : { ...fields };
    switch (level) {
      case 'debug':
        this.logger.debug(message, extra);
        return;
      case 'info':
        this.logger.info(message, extra);
        return;
      case 'warn':
        this.logger.warn(message, extra);
        return;
      case 'error':
        this.logger.error(message, extra);
        return;
    }
  }
}

function unitOf(metric: MetricName): (typeof MetricUnit)[keyof typeof MetricUnit] {
  switch (metric) {
    case Metric.SnapshotAgeSeconds:
      return MetricUnit.Seconds;
    case Metric.CheckDurationMs:
    case Metric.ConfirmDurationMs:
    case Metric.RegisterDurationMs:
      return MetricUnit.Milliseconds;
    default:
      return MetricUnit.NoUnit;
  }
}
