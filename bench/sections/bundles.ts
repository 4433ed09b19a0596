import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type BundleFigures,
  bundleFunction,
  bundlingDrift,
  FUNCTIONS,
  INIT_VARIANTS,
  timeImport,
} from '#bench/bundles.js';
import { ascending, fixed, int, percent, percentile } from '#bench/stats.js';
import { initVerdict, sizeVerdict } from '#bench/targets.js';

/** The `bundles` section: each Lambda bundled as CDK does, its size, and the time a fresh process takes to import it. */

export interface InitFigures {
  readonly p50: number;
  readonly p90: number;
  readonly runs: number;
}

export interface BundleMeasurements {
  readonly bundles: readonly BundleFigures[];
  /** Where the bench's copy of the bundling options no longer matches infra. */
  readonly drift: readonly string[];
  /** Processes timed per function and variant. */
  readonly initRuns: number;
  readonly initOf: (fn: string, variant: (typeof INIT_VARIANTS)[number]['name']) => InitFigures;
}

export async function measureBundles(quick: boolean): Promise<BundleMeasurements> {
  const bundleDir = mkdtempSync(join(tmpdir(), 'stopguard-bench-'));
  const bundles: BundleFigures[] = [];
  for (const fn of FUNCTIONS) bundles.push(await bundleFunction(fn, bundleDir));
  const drift = bundlingDrift();
  const initRuns = quick ? 5 : 15;
  const samples = new Map<string, number[]>();
  const key = (fn: string, variant: string) => `${fn}|${variant}`;
  // Interleaved, so a slow spell of the machine hits every function and variant alike.
  for (let run = 0; run < initRuns; run++) {
    for (const b of bundles) {
      for (const variant of INIT_VARIANTS) {
        const these = samples.get(key(b.name, variant.name)) ?? [];
        these.push(timeImport(b.file, variant.nodeOptions));
        samples.set(key(b.name, variant.name), these);
      }
    }
  }
  rmSync(bundleDir, { recursive: true, force: true });
  const initOf = (fn: string, variant: string) => {
    const sorted = ascending(samples.get(key(fn, variant)) ?? []);
    return { p50: percentile(sorted, 0.5), p90: percentile(sorted, 0.9), runs: sorted.length };
  };
  return { bundles, drift, initRuns, initOf };
}

/** Init with the NODE_OPTIONS the stack sets: the figure the 150 ms target is judged on. */
export const deployedInit = (m: BundleMeasurements, b: BundleFigures) => m.initOf(b.name, 'as deployed');

export function bundleSection(m: BundleMeasurements, stamp: string): string {
  const worker = m.bundles.find((b) => b.name === 'worker') ?? m.bundles[0];
  return [
    '## Function bundles and module init',
    '',
    stamp,
    'Each handler is bundled with the esbuild JS API and the options infra/stopguard-function.ts gives CDK',
    '(`bench/bundles.ts`: ESM, node22, minified, `main-fields=module,main`, the createRequire banner, linked',
    'source map without sources content, every dependency inside, AWS SDK included). Init: a fresh `node`',
    `process times \`await import()\` of the bundle, ${m.initRuns} processes per function and variant, interleaved.`,
    'No environment is needed at import: the handlers read theirs on the first invocation. "As deployed" adds',
    'the `NODE_OPTIONS=--enable-source-maps` the stack sets, which makes Node read and parse the source map at load.',
    ...(m.drift.length > 0
      ? ['', `**The bench's copy of the bundling options has drifted from infra:** ${m.drift.join('; ')}.`]
      : []),
    '',
    '| function | bundle | gzip -9 | source map | ≤ 1 MB | init p50 / p90, plain | init p50 / p90, as deployed | init ≤ 150 ms (as deployed) |',
    '|---|---|---|---|---|---|---|---|',
    ...m.bundles.map((b) => {
      const plain = m.initOf(b.name, 'plain');
      const deployed = deployedInit(m, b);
      return `| ${b.name} | ${int(b.bytes)} B | ${int(b.gzipBytes)} B | ${int(b.mapBytes)} B | ${sizeVerdict(b)} | ${fixed(plain.p50, 0)} / ${fixed(plain.p90, 0)} ms | ${fixed(deployed.p50, 0)} / ${fixed(deployed.p90, 0)} ms | ${initVerdict(deployed)} |`;
    }),
    '',
    `What fills the ${worker?.name ?? 'worker'} bundle (bytes in the minified output, by npm package, from esbuild's metafile):`,
    '',
    '| package | bytes | share |',
    '|---|---|---|',
    ...(worker?.byPackage ?? [])
      .slice(0, 10)
      .map((p) => `| ${p.name} | ${int(p.bytes)} | ${percent(p.bytes / (worker?.bytes ?? 1))} |`),
    '',
    'Init is measured on this machine with its Node; Lambda (arm64, Node 22) adds the runtime’s own start,',
    'and the first invocation then builds the SDK clients, which no import pays for.',
  ].join('\n');
}
