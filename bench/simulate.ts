import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { runSimulation } from '#local/simulation/harness.js';
import { type FaultProfile, faultProfiles, profileOptions } from '#local/simulation/profiles.js';
import type { Strategy } from '#local/simulation/runner.js';
import type { SimulationResult } from '#local/simulation/simulation-result.js';
import { writeSection } from './report.js';

/**
 * `npm run simulate`: every fault profile, the naive rule, the two-fetch rule and stopguard over the
 * same seeded worlds. Exits non-zero when stopguard breaks an invariant, printing the seed to replay.
 */
/**
 * Most fault-free cycles after the faults stop. A profile whose reopens pile orders onto positions
 * leaves a backlog that the cancel cap (10 per account, 50 in all per minute) takes many windows to
 * drain; healing stops as soon as nothing is left, so the bound only matters when something is stuck.
 */
const HEAL_CYCLES = 600;

const { values } = parseArgs({
  options: {
    profile: { type: 'string', default: 'all' },
    accounts: { type: 'string', default: '100' },
    cycles: { type: 'string', default: '10000' },
    seed: { type: 'string', default: '1' },
    strategies: { type: 'string', default: 'naive,two-fetch,stopguard' },
    json: { type: 'boolean', default: false },
    /** Also write the table to the `simulate` section of this Markdown file (e.g. docs/BENCHMARKS.md). */
    write: { type: 'string' },
  },
});

const accounts = Number(values.accounts);
const cycles = Number(values.cycles);
const seed = Number(values.seed);
const strategies = values.strategies.split(',') as Strategy[];
const profiles =
  values.profile === 'all'
    ? faultProfiles
    : faultProfiles.filter((p) => values.profile.split(',').includes(p.name));
if (profiles.length === 0) {
  console.error(`unknown profile "${values.profile}"; known: ${faultProfiles.map((p) => p.name).join(', ')}`);
  process.exit(2);
}

const rows: { profile: FaultProfile; result: SimulationResult; seconds: number }[] = [];
for (const profile of profiles) {
  for (const strategy of strategies) {
    const started = performance.now();
    const result = await runSimulation({
      seed,
      strategy,
      accounts,
      cycles,
      ...profileOptions(profile, accounts),
      healCycles: HEAL_CYCLES,
    });
    rows.push({ profile, result, seconds: (performance.now() - started) / 1000 });
    if (!values.json)
      process.stderr.write(
        `${profile.name} ${strategy}: ${result.accountCycles} account-cycles in ${((performance.now() - started) / 1000).toFixed(1)} s\n`,
      );
  }
}

if (values.json) {
  console.log(
    JSON.stringify(
      rows.map((r) => ({ profile: r.profile.name, seconds: r.seconds, ...r.result })),
      null,
      2,
    ),
  );
} else {
  console.log(renderTable(rows));
}
if (values.write !== undefined) {
  const argv = process.argv.slice(2).join(' ');
  writeSection(
    values.write,
    'simulate',
    [
      '## Deterministic simulation, every fault profile',
      '',
      `Command: \`npm run simulate${argv.length > 0 ? ` -- ${argv}` : ''}\`. ${accounts} accounts × ${cycles.toLocaleString('en')} cycles = ${(accounts * cycles).toLocaleString('en')} account-cycles per row, seed ${seed}, then fault-free healing cycles until no real orphan is left, at most ${HEAL_CYCLES} (${HEAL_CYCLES / 6} minutes). Machine: ${cpus()[0]?.model.trim() ?? 'unknown CPU'}, ${cpus().length} cores, Node ${process.version}. Date: ${new Date().toISOString().slice(0, 10)}.`,
      '',
      ...profiles.map((p) => `- \`${p.name}\`: ${p.description}`),
      '',
      renderTable(rows),
      '',
      '"never cleaned" is judged for stopguard only (the baselines cancel on absence); "reopened first" counts orphans whose position was reopened before anyone could clean them (the order then rests on the live position).',
    ].join('\n'),
  );
  process.stderr.write(`wrote the simulate section of ${values.write}\n`);
}

const broken = rows.filter((r) => r.result.strategy === 'stopguard' && r.result.violations.length > 0);
for (const r of broken)
  for (const v of r.result.violations) console.error(`INVARIANT BROKEN (${r.profile.name}): ${v}`);
// exitCode, not exit(): a large --json answer on a pipe must be written out before the process ends.
process.exitCode = broken.length > 0 ? 1 : 0;

function renderTable(data: typeof rows): string {
  const header = [
    'profile',
    'strategy',
    'account-cycles',
    'false cancels',
    'true orphans',
    'cleaned',
    'never cleaned',
    'reopened first',
    'delay p50/p99 (cycles)',
    'exchange calls / acct-cycle',
    'store reads / acct-cycle',
    'suspects raised / cleared',
    'kept (alarm)',
    'sim s',
  ];
  const lines = data.map(({ profile, result: r, seconds }) => [
    profile.name,
    r.strategy,
    String(r.accountCycles),
    String(r.falseCancels),
    String(r.trueOrphans),
    String(r.orphansCleaned),
    r.strategy === 'stopguard' ? String(r.orphansNeverCleaned) : '–',
    String(r.orphansAdoptedByReopen),
    `${r.cleanupDelayCycles.p50} / ${r.cleanupDelayCycles.p99}`,
    r.exchangeCallsPerAccountCycle.toFixed(3),
    r.storeReadsPerAccountCycle.toFixed(3),
    `${r.suspectsRaised} / ${r.suspectsCleared}`,
    String(r.keptForLackOfEvidence),
    seconds.toFixed(1),
  ]);
  return [header, header.map(() => '---'), ...lines].map((cells) => `| ${cells.join(' | ')} |`).join('\n');
}
