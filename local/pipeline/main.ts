import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { StandInUnavailableError } from '#local/standins/stand-in-error.js';
import {
  AccountsFileError,
  accountsWithoutCompleteList,
  loadAccountsFile,
  runExternal,
  withShadow,
} from './external.js';
import { localExchangeOrigin, UnsafeExchangeUrlError } from './pipeline.js';
import {
  embeddedRunPassed,
  formatEmbeddedReport,
  formatExternalMode,
  formatExternalReport,
  formatProgress,
} from './report.js';
import { runEmbedded } from './run.js';

const USAGE = `npm start [-- options]

Runs stopguard's pipeline on this machine: DynamoDB Local, an SQS stand-in, the Lambda handlers.

Embedded exchange (default): a seeded Bybit V5 simulator with a trading market and dropped positions.
  --accounts N        accounts to reconcile (default 10)
  --cycles N          check cycles per account while the market trades (default 45)
  --drop-rate R       chance a position list silently omits a position (default 0.02)
  --seed N            seed of the faults and the market (default 1)
  --keep              after the report, keep DynamoDB Local running until Ctrl-C and print the
                      npx stopguard command that reads this run's state (status, explain, suspects)

Any Bybit V5-compatible endpoint (testnet, demo trading, another simulator), in shadow mode:
every decision is recorded, nothing is cancelled.
  --exchange-url URL  e.g. https://api-testnet.bybit.com
  --accounts FILE     JSON array of { "id", "apiKey", "apiSecret" } (optional category, settleCoin, shadow)
  --duration SECONDS  how long to run (default 120)
  --live              cancel proven orphans on accounts whose entry does not say "shadow": true;
                      an entry with "shadow": false is refused without it
Exit status: 0 when every account got complete position lists, 1 when one never did, 2 on bad flags or file.
`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      accounts: { type: 'string' },
      cycles: { type: 'string' },
      'drop-rate': { type: 'string' },
      seed: { type: 'string' },
      'exchange-url': { type: 'string' },
      duration: { type: 'string' },
      live: { type: 'boolean' },
      keep: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const logDir = join(process.cwd(), '.stopguard');
  mkdirSync(logDir, { recursive: true });
  const logFile = join(logDir, `run-${new Date().toISOString().replace(/[:.]/g, '-')}.jsonl`);
  const echo = (line: string) => console.log(line);

  if (values['exchange-url'] !== undefined) {
    const exchangeUrl = values['exchange-url'];
    try {
      localExchangeOrigin(exchangeUrl);
    } catch (error) {
      if (error instanceof UnsafeExchangeUrlError) throw new UsageError(error.message);
      throw error;
    }
    if (values.accounts === undefined) throw new UsageError('--exchange-url needs --accounts FILE');
    const live = values.live === true;
    const durationSeconds = positive(values.duration ?? '120', '--duration');
    const loaded = loadAccountsFile(values.accounts);
    secrets = loaded.flatMap((a) => [a.apiKey, a.apiSecret]);
    const accounts = withShadow(loaded, live, values.accounts);
    console.log(formatExternalMode(exchangeUrl, accounts, live));
    console.log(
      `${accounts.length} ${accounts.length === 1 ? 'account' : 'accounts'} for ${durationSeconds} s (log: ${logFile})`,
    );
    const report = await runExternal({
      exchangeUrl,
      accounts,
      live,
      durationMs: durationSeconds * 1000,
      logFile,
      echo,
    });
    console.log(formatExternalReport(report, logFile));
    return accountsWithoutCompleteList(report).length === 0 ? 0 : 1;
  }
  if (values.live === true) {
    throw new UsageError('--live applies with --exchange-url only: the bundled simulator always runs live');
  }

  const accounts = positive(values.accounts ?? '10', '--accounts');
  const cycles = positive(values.cycles ?? '45', '--cycles');
  const dropRate = Number(values['drop-rate'] ?? '0.02');
  if (!(dropRate >= 0 && dropRate <= 1)) throw new UsageError('--drop-rate must be between 0 and 1');
  const seed = positive(values.seed ?? '1', '--seed');
  console.log(
    `stopguard, local pipeline: ${accounts} accounts, ${cycles} cycles of 2 s, ${(dropRate * 100).toFixed(1)} % dropped positions, seed ${seed}`,
  );
  console.log('starting DynamoDB Local, the SQS stand-in and the Bybit simulator …');
  const report = await runEmbedded({
    accounts,
    cycles,
    dropRate,
    seed,
    logFile,
    echo,
    onProgress: (p) => console.log(formatProgress(p)),
    // With --keep the report comes first, then the run's state stays readable until Ctrl-C.
    ...(values.keep === true
      ? {
          afterSettle: async (pipeline, _accounts, kept) => {
            console.log(formatEmbeddedReport(kept, logFile));
            console.log(
              `\nkeeping this run's state until Ctrl-C; read it with:\n  npx stopguard status --table ${pipeline.tableName} --endpoint ${pipeline.dynamoEndpoint}`,
            );
            await new Promise((resolve) => process.once('SIGINT', resolve));
          },
        }
      : {}),
  });
  if (values.keep !== true) console.log(formatEmbeddedReport(report, logFile));
  return embeddedRunPassed(report) ? 0 : 1;
}

class UsageError extends Error {}

/** The accounts file's keys, blanked from an unexpected error before it is printed. */
let secrets: readonly string[] = [];
const redact = (text: string) => secrets.reduce((out, secret) => out.split(secret).join('[redacted]'), text);

function positive(raw: string, flag: string): number {
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) throw new UsageError(`${flag} must be a whole number > 0`);
  return value;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof UsageError) {
      console.error(`${error.message}\n\n${USAGE}`);
    } else if (error instanceof AccountsFileError) {
      console.error(error.message);
    } else if (error instanceof StandInUnavailableError) {
      console.error(`cannot start a local stand-in: ${error.message}`);
    } else {
      console.error(redact(error instanceof Error ? (error.stack ?? error.message) : String(error)));
    }
    process.exit(2);
  },
);
