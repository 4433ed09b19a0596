import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { barChart, histogramChart } from '#bench/charts.js';
import type { SimulationRuns } from '#bench/simulation-runs.js';
import { bucketize, SCENARIOS, STRATEGIES, type WorkloadName } from '#bench/simulations.js';
import { ascending, fixed, int, percentile } from '#bench/stats.js';

/**
 * The two pictures the strategies section shows: false cancels by strategy and drop rate, and
 * stopguard's cleanup delays under heavy churn. Written beside the document; returns their paths.
 */
export function writeCharts(docDir: string, runs: SimulationRuns): string[] {
  const falseCancels = join(docDir, 'false-cancels.svg');
  const workload: WorkloadName = 'realistic';
  writeFileSync(
    falseCancels,
    barChart({
      title: `False cancels by strategy and drop rate (${workload} workload, ${int(runs.accounts * runs.cycles)} account-cycles each)`,
      groups: SCENARIOS.map((s) => s.name),
      series: STRATEGIES.map((st) => ({
        name: st,
        values: SCENARIOS.map((s) => runs.get(workload, s.name, st).result.falseCancels),
      })),
    }),
  );

  const cleanupDelay = join(docDir, 'cleanup-delay.svg');
  const bucketSeconds = 5;
  const delays = ascending(runs.get('heavy churn', '2 %', 'stopguard').cleanupDelaysSeconds);
  // Up to the slowest cleanup, between 2 and 3 minutes wide; anything later lands in a last "≥" bucket.
  const buckets = Math.min(
    36,
    Math.max(24, Math.floor((delays[delays.length - 1] ?? 0) / bucketSeconds) + 2),
  );
  const marker = (label: string, q: number) => {
    const value = percentile(delays, q);
    return {
      label: `${label} ${fixed(value, 0)} s`,
      bucket: Math.min(buckets, Math.floor(value / bucketSeconds)),
    };
  };
  writeFileSync(
    cleanupDelay,
    histogramChart({
      title: `stopguard: close to cancel, heavy churn, 2 % drops (${int(delays.length)} orphans cleaned)`,
      xLabel: `seconds from the close to the cancel (buckets of ${bucketSeconds} s, labelled by their start; checks every 10 s)`,
      labels: Array.from({ length: buckets + 1 }, (_, i) =>
        i === buckets ? `≥${i * bucketSeconds}` : String(i * bucketSeconds),
      ),
      counts: bucketize(delays, bucketSeconds, buckets),
      markers: [marker('p50', 0.5), marker('p99', 0.99)],
    }),
  );
  return [falseCancels, cleanupDelay];
}
