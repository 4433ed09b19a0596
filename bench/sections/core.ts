import { benchCore, type CoreBenchResult } from '#bench/core.js';
import { int, median } from '#bench/stats.js';

/** The `core` section: decisions per second of the pure core, timed in this process after a warm-up. */

export interface CoreFigures {
  readonly repeats: number;
  readonly runs: readonly CoreBenchResult[];
}

export function measureCore(quick: boolean): CoreFigures {
  const repeats = quick ? 1 : 3;
  benchCore(10, 20_000); // warm-up: let the JIT settle before anything is timed
  const runs = Array.from({ length: repeats }, () => benchCore(10, quick ? 50_000 : 200_000));
  return { repeats, runs };
}

export function coreSection(core: CoreFigures, stamp: string): string {
  const checkRates = core.runs.map((r) => r.checkDecisionsPerSecond);
  const confirmRates = core.runs.map((r) => r.confirmDecisionsPerSecond);
  return [
    '## Decision core',
    '',
    stamp,
    `The pure core alone (no I/O), ${core.repeats === 1 ? 'one timed pass' : `median of ${core.repeats} timed passes (min–max beside it)`} after a warm-up; \`bench/core.ts\`.`,
    '',
    '| path | decisions/s | min–max |',
    '|---|---|---|',
    `| check: first look (\`assessSnapshot\`, ${core.runs[0]?.positionsPerAccount ?? 10} tracked positions, one missing; a decision per position) | ${int(median(checkRates))} | ${int(Math.min(...checkRates))}–${int(Math.max(...checkRates))} |`,
    `| confirm: second look (\`decideConfirmation\`, a proven close through to the cancel) | ${int(median(confirmRates))} | ${int(Math.min(...confirmRates))}–${int(Math.max(...confirmRates))} |`,
  ].join('\n');
}
