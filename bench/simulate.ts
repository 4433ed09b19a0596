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

/** Replace mode on the profile where stops vanish: how long positions stay bare when stopguard re-protects them. */
const replaceProfile = profiles.find((p) => p.name === 'stops-removed');
const replaced =
  replaceProfile === undefined
    ? undefined
    : await runSimulation({
        seed,
        strategy: 'stopguard',
        accounts,
        cycles,
        ...profileOptions(replaceProfile, accounts),
        healCycles: HEAL_CYCLES,
        protection: { mode: 'replace', stopDistance: '0.05' },
      });
const alarmOnly = rows.find((r) => r.profile === replaceProfile && r.result.strategy === 'stopguard')?.result;
const replaceNote =
  replaced === undefined || alarmOnly === undefined
    ? []
    : [
        '',
        `Replace mode (\`protection: { mode: "replace", stopDistance: "0.05" }\`) on \`stops-removed\`, same seed: time without a stop p50/p99 ${replaced.protection.unprotectedCycles.p50} / ${replaced.protection.unprotectedCycles.p99} cycles (alarm only: ${alarmOnly.protection.unprotectedCycles.p50} / ${alarmOnly.protection.unprotectedCycles.p99}); ${replaced.protection.stopsPlaced} stops placed, ${replaced.protection.misplacedStops} on a position already protected or closed; ${replaced.protection.falseAlarms} false alarms, ${replaced.falseCancels} false cancels, ${replaced.orphansNeverCleaned} orphans never cleaned; ${replaced.exchangeCallsPerAccountCycle.toFixed(3)} exchange calls per account-cycle.`,
      ];
if (replaced !== undefined)
  rows.push({
    profile: { ...(replaceProfile as FaultProfile), name: 'stops-removed (replace mode)' },
    result: replaced,
    seconds: 0,
  });

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
      '"unprotected found" counts episodes of a live position without a stop (not by design) that lasted longer than the grace (30 s) plus 2 cycles and were judged unprotected while they lasted (or began while that position\'s alarm was still up: a stop that came and went between two looks), of all such episodes; "detection" is from the stop\'s disappearance to the alarm; "audit listings" are the order listings the protection audit needed (only when a position\'s own stop does not cover it), its extra exchange calls per account-cycle.',
      ...replaceNote,
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
    'unprotected found',
    'unprotected missed',
    'protection false alarms',
    'detection p50/p99 (cycles)',
    'audit listings / acct-cycle',
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
    ...(r.strategy === 'stopguard'
      ? [
          `${r.protection.found} of ${r.protection.episodesLongEnough}`,
          String(r.protection.missed),
          String(r.protection.falseAlarms),
          `${r.protection.detectionDelayCycles.p50.toFixed(1)} / ${r.protection.detectionDelayCycles.p99.toFixed(1)}`,
          r.protection.listingsPerAccountCycle.toFixed(3),
        ]
      : ['0 (no audit)', String(r.protection.missed), '–', '–', '–']),
    seconds.toFixed(1),
  ]);
  return [header, header.map(() => '---'), ...lines].map((cells) => `| ${cells.join(' | ')} |`).join('\n');
}
