import type { BundleFigures } from './bundles.js';
import { fixed, int, percent } from './stats.js';

/** The targets of issue 5 the bench judges its figures by, and the wording of its verdicts. */

export const MAX_BUNDLE_BYTES = 1_000_000; // 1 MB; 1 MiB is reported beside it
const MIB = 1_048_576;
export const MAX_INIT_MS = 150;
export const MAX_CALLS_VS_NAIVE = 1.03;
export const MAX_STEADY_CALLS = 1.0;
export const MAX_READS = 1.0;

const met = (detail: string) => `met (${detail})`;
const missed = (detail: string) => `**missed** (${detail})`;

/** "over by 0.086 (8.3 %)" for a figure above its ceiling. */
export const overBy = (value: number, ceiling: number, digits = 3) =>
  `over by ${fixed(value - ceiling, digits)} (${percent((value - ceiling) / ceiling)})`;

export const sizeVerdict = (b: BundleFigures) =>
  b.bytes <= MAX_BUNDLE_BYTES
    ? met(`${int(b.bytes)} B, ${int(MAX_BUNDLE_BYTES - b.bytes)} B to spare`)
    : missed(
        `${int(b.bytes)} B, over 1 MB = 1,000,000 B by ${int(b.bytes - MAX_BUNDLE_BYTES)} B (${percent((b.bytes - MAX_BUNDLE_BYTES) / MAX_BUNDLE_BYTES)})${b.bytes <= MIB ? `; within 1 MiB = 1,048,576 B by ${int(MIB - b.bytes)} B` : ''}`,
      );

/** Module init as deployed, judged at p90 first and at p50 when p90 misses. */
export const initVerdict = ({ p50, p90 }: { readonly p50: number; readonly p90: number }) => {
  if (p90 <= MAX_INIT_MS) return met(`p50 ${fixed(p50, 0)} ms, p90 ${fixed(p90, 0)} ms`);
  if (p50 <= MAX_INIT_MS)
    return `met at p50 (${fixed(p50, 0)} ms); **missed** at p90 (${fixed(p90, 0)} ms, over by ${fixed(p90 - MAX_INIT_MS, 0)} ms)`;
  return missed(`p50 ${fixed(p50, 0)} ms, over by ${fixed(p50 - MAX_INIT_MS, 0)} ms`);
};

export const ratioVerdict = (ratio: number) =>
  ratio <= MAX_CALLS_VS_NAIVE
    ? met(`${fixed(ratio, 3)}×`)
    : missed(`${fixed(ratio, 3)}×, ${overBy(ratio, MAX_CALLS_VS_NAIVE)}`);

export const ceilingVerdict = (value: number, ceiling: number) =>
  value <= ceiling ? met(fixed(value, 3)) : missed(`${fixed(value, 3)}, ${overBy(value, ceiling)}`);
