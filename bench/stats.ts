import { cpus, release, totalmem, type } from 'node:os';

/** Quantiles, number formats and the machine description every bench section uses. */

/** The q-quantile of ascending values, nearest rank below (as local/simulation/simulation-result.ts computes it). */
export function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
}

export const ascending = (values: readonly number[]) => [...values].sort((a, b) => a - b);
export const median = (values: readonly number[]) => percentile(ascending(values), 0.5);

/** CPU model, cores, memory, Node and OS, read from `os` and `process` on the machine that ran the figures. */
export function machine(): string {
  const cores = cpus();
  return [
    cores[0]?.model.trim() ?? 'unknown CPU',
    `${cores.length} cores`,
    `${(totalmem() / 2 ** 30).toFixed(0)} GiB`,
    `Node ${process.version}`,
    `${type()} ${release()} ${process.arch}`,
  ].join(', ');
}

export const int = (n: number) => Math.round(n).toLocaleString('en');
export const fixed = (n: number, digits: number) => n.toFixed(digits);
export const percent = (fraction: number, digits = 1) => `${(fraction * 100).toFixed(digits)} %`;
