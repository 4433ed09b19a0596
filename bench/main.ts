import { mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { writeSection } from './report.js';
import { bundleSection, measureBundles } from './sections/bundles.js';
import { writeCharts } from './sections/charts.js';
import { coreSection, measureCore } from './sections/core.js';
import { strategiesSection } from './sections/strategies.js';
import { summarySection } from './sections/summary.js';
import { runSimulations } from './simulation-runs.js';
import { fixed, machine } from './stats.js';

/**
 * `npm run bench`: every figure measured on this machine in this run, written with the command, the
 * machine and the date into its own sections of docs/BENCHMARKS.md (`npm run soak` and `npm run
 * simulate` own theirs). `--quick` is a fast pass with smaller samples; `--out FILE` writes elsewhere
 * (the charts go next to it).
 */
const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    out: { type: 'string', default: 'docs/BENCHMARKS.md' },
  },
});
const { quick, out: doc } = values;
mkdirSync(dirname(doc), { recursive: true });
const started = performance.now();
const command = `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`;
const date = `${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`;
const stamp = `Command: \`${command}\`. Machine: ${machine()}. Date: ${date}.`;
const progress = (line: string) => process.stderr.write(`${line}\n`);

progress('decision core …');
const core = measureCore(quick);
progress('bundles and module init …');
const bundles = await measureBundles(quick);
const runs = await runSimulations(quick, progress);
const charts = writeCharts(dirname(doc), runs);
const seconds = (performance.now() - started) / 1000;

writeSection(doc, 'header', summarySection({ command, stamp, seconds, bundles, runs }));
writeSection(doc, 'core', coreSection(core, stamp));
writeSection(doc, 'bundles', bundleSection(bundles, stamp));
writeSection(doc, 'strategies', strategiesSection(runs, stamp));
if (!readFileSync(doc, 'utf8').includes('<!-- bench:soak -->'))
  writeSection(
    doc,
    'soak',
    '## Full-stack soak\n\nNot measured yet: run `npm run soak` to fill this section.',
  );
progress(`wrote ${[doc, ...charts].join(', ')} in ${fixed(seconds, 0)} s`);
