import { readFileSync } from 'node:fs';
import { DynamoStore } from '#adapters/dynamodb/dynamo-store.js';
import type { AccountState } from '#ports/store.js';
import { Metric } from '#ports/telemetry.js';
import type { DecisionLine, ListFailure } from './console-telemetry.js';
import {
  type LocalAccount,
  type LocalPipelineOptions,
  localAccountsFileSchema,
  startLocalPipeline,
} from './pipeline.js';
import { MinuteTimer } from './run.js';

/**
 * A bad accounts file or an account the flags do not allow. Its message is one line that names the
 * file, the entry and the field, and never any value from the file: the file holds API secrets.
 */
export class AccountsFileError extends Error {
  override readonly name = 'AccountsFileError';
}

const FIELDS = ['id', 'apiKey', 'apiSecret', 'category', 'settleCoin', 'shadow'] as const;

/** What each field must be, in words (no value from the file). */
const FIELD_RULES: Readonly<Record<(typeof FIELDS)[number], string>> = {
  id: 'must be 1 to 64 letters, digits, "_", "." or "-"',
  apiKey: 'must be a non-empty string',
  apiSecret: 'must be a non-empty string',
  category: 'must be "linear" or "inverse"',
  settleCoin: 'must be 2 to 10 capital letters or digits, e.g. "USDT"',
  shadow: 'must be true or false',
};

/** Reads and validates the accounts file of `--accounts FILE`. */
export function loadAccountsFile(path: string): LocalAccount[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    throw new AccountsFileError(
      `cannot read accounts file ${path}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : typeof code === 'string' ? code : 'read failed'}`,
    );
  }
  return parseAccountsFile(text, path);
}

/**
 * Parses the accounts file's text. JSON.parse and zod both quote the input in their messages, so
 * neither message is ever passed on: only positions, entry indexes and field names are.
 */
export function parseAccountsFile(text: string, path: string): LocalAccount[] {
  const where = `accounts file ${path}`;
  let json: unknown;
  try {
    json = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (error) {
    throw new AccountsFileError(`${where} is not valid JSON${locate(text, error)}`);
  }
  if (!Array.isArray(json)) {
    throw new AccountsFileError(
      `${where} must be a JSON array of { "id", "apiKey", "apiSecret" } entries, not ${kindOf(json)}`,
    );
  }
  if (json.length === 0) throw new AccountsFileError(`${where} lists no accounts`);
  const problems: string[] = [];
  json.forEach((entry: unknown, index) => {
    for (const problem of entryProblems(entry)) problems.push(`entry at index ${index}: ${problem}`);
  });
  const parsed = localAccountsFileSchema.safeParse(json);
  // Every rule of the schema is mirrored above; this catches a rule added to it but not there.
  if (problems.length === 0 && !parsed.success) {
    const first = parsed.error.issues[0];
    const index = typeof first?.path[0] === 'number' ? first.path[0] : undefined;
    const field = typeof first?.path[1] === 'string' ? first.path[1] : undefined;
    problems.push(
      `${index === undefined ? 'the list' : `entry at index ${index}`}${field === undefined ? '' : `: ${quoted(field)}`} is invalid`,
    );
  }
  if (problems.length === 0 && parsed.success) {
    const firstIndexOf = new Map<string, number>();
    parsed.data.forEach((account, index) => {
      const earlier = firstIndexOf.get(account.id);
      if (earlier === undefined) firstIndexOf.set(account.id, index);
      else problems.push(`entry at index ${index}: "id" repeats the one at index ${earlier}`);
    });
  }
  const [first, ...more] = problems;
  if (first !== undefined || !parsed.success) {
    throw new AccountsFileError(
      `${where}, ${first ?? 'invalid'}${more.length === 0 ? '' : ` (and ${more.length} more ${more.length === 1 ? 'problem' : 'problems'})`}`,
    );
  }
  return parsed.data;
}

function entryProblems(entry: unknown): string[] {
  if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) {
    return [`must be an object { "id", "apiKey", "apiSecret" }, not ${kindOf(entry)}`];
  }
  const record = entry as Record<string, unknown>;
  const problems: string[] = [];
  // A misspelt field first: it also explains the field reported missing.
  for (const key of Object.keys(record)) {
    if ((FIELDS as readonly string[]).includes(key)) continue;
    const meant = FIELDS.find((f) => editDistance(f.toLowerCase(), key.toLowerCase()) <= 2);
    // A key is named only when it is a near miss of a field: anything else could be a pasted secret.
    problems.push(
      meant === undefined
        ? `has a field that is not one of ${FIELDS.map(quoted).join(', ')}`
        : `has an unknown field ${quoted(key)} (did you mean ${quoted(meant)}?)`,
    );
  }
  for (const field of FIELDS) {
    const value = record[field];
    const required = field === 'id' || field === 'apiKey' || field === 'apiSecret';
    if (!(field in record) || value === undefined) {
      if (required) problems.push(`${quoted(field)} is missing`);
      continue;
    }
    if (!fieldValid(field, value))
      problems.push(`${quoted(field)} ${FIELD_RULES[field]}, not ${kindOf(value)}`);
  }
  return problems;
}

function fieldValid(field: (typeof FIELDS)[number], value: unknown): boolean {
  switch (field) {
    case 'id':
      return typeof value === 'string' && /^[A-Za-z0-9_.-]{1,64}$/.test(value);
    case 'apiKey':
    case 'apiSecret':
      return typeof value === 'string' && value.length > 0;
    case 'category':
      return value === 'linear' || value === 'inverse';
    case 'settleCoin':
      return typeof value === 'string' && /^[A-Z0-9]{2,10}$/.test(value);
    case 'shadow':
      return typeof value === 'boolean';
  }
}

/** The JSON type of a value, never the value: "a string", "a number", "an empty string", … */
function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return value.length === 0 ? 'an empty string' : 'a string of another form';
  if (typeof value === 'object') return 'an object';
  return `a ${typeof value}`;
}

const quoted = (field: string) => `"${field}"`;

/** " (line L, column C)" from a JSON.parse error's character position, when it gives one. */
function locate(text: string, error: unknown): string {
  const message = error instanceof Error ? error.message : '';
  const position = /at position (\d+)/.exec(message)?.[1];
  if (position !== undefined) {
    const before = text.replace(/^\uFEFF/, '').slice(0, Number(position));
    const lines = before.split('\n');
    return ` (line ${lines.length}, column ${(lines.at(-1)?.length ?? 0) + 1})`;
  }
  const lineColumn = /line (\d+) column (\d+)/.exec(message);
  if (lineColumn !== null) return ` (line ${lineColumn[1]}, column ${lineColumn[2]})`;
  return /end of JSON input/.test(message) ? ' (it ends too early)' : '';
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(
        (previous[j] ?? 0) + 1,
        (current[j - 1] ?? 0) + 1,
        (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/**
 * Each account's shadow setting for a run against an exchange we do not control: shadow unless `live`.
 * With `live`, an entry may still ask for shadow; without it, an entry asking for live is refused
 * rather than silently run in shadow, so nobody believes orders would be cancelled when they would not.
 */
export function withShadow(accounts: readonly LocalAccount[], live: boolean, path?: string): LocalAccount[] {
  const refused = accounts.findIndex((a) => a.shadow === false);
  if (!live && refused >= 0) {
    throw new AccountsFileError(
      `${path === undefined ? 'account' : `accounts file ${path}, entry`} at index ${refused}: "shadow": false cancels orders, which needs --live on the command line (or drop the field to run it in shadow)`,
    );
  }
  return accounts.map((a) => ({ ...a, shadow: a.shadow ?? !live }));
}

export interface ExternalRunOptions {
  readonly exchangeUrl: string;
  readonly accounts: readonly LocalAccount[];
  readonly durationMs: number;
  /** Lets accounts without `"shadow": true` cancel proven orphans. Default false: shadow, nothing cancelled. */
  readonly live?: boolean;
  readonly logFile?: string;
  readonly echo?: (line: string) => void;
  /** Setting overrides (a short cadence in tests); `shadow` is always decided by `live` and the accounts. */
  readonly settings?: LocalPipelineOptions['settings'];
  /** How often a progress line is echoed. Default 5 s. */
  readonly progressEveryMs?: number;
  /** Ends the run before `durationMs`, with the same report. */
  readonly signal?: AbortSignal;
}

/** How one account fared, from the checks' account-level lines and the account's stored state. */
export interface ExternalAccountOutcome {
  readonly id: string;
  readonly shadow: boolean;
  /** Whether any check of it ran to the end (it wrote its first-checked time). */
  readonly checked: boolean;
  /** Exchange time of its last complete position list; undefined when it never got one. */
  readonly lastCompleteAt?: number;
  readonly unknownLists: number;
  readonly distrustedLists: number;
  /** Redacted by the adapter and again by the telemetry. */
  readonly lastFailure?: ListFailure;
}

export interface ExternalRunReport {
  readonly exchangeUrl: string;
  readonly accounts: number;
  readonly wallMs: number;
  readonly counts: Readonly<Record<string, number>>;
  /** One per account, in the file's order. */
  readonly outcomes: readonly ExternalAccountOutcome[];
  /** Every audited decision: against a real exchange there is no ground truth to count, only this. */
  readonly decisions: readonly DecisionLine[];
  readonly alarms: readonly string[];
}

/**
 * The local pipeline against an exchange we do not control (testnet, demo trading). The ledger starts
 * empty and is built only from what the lists show; nothing here opens or closes positions. Shadow
 * unless `live` (see `withShadow`).
 */
export async function runExternal(options: ExternalRunOptions): Promise<ExternalRunReport> {
  const live = options.live ?? false;
  const accounts = withShadow(options.accounts, live);
  const pipeline = await startLocalPipeline({
    accounts,
    exchangeUrl: options.exchangeUrl,
    // Besides each account's own: nothing is cancelled for an account that somehow lacks one.
    settings: { ...options.settings, shadow: !live },
    ...(options.logFile === undefined ? {} : { logFile: options.logFile }),
    ...(options.echo === undefined ? {} : { echo: options.echo }),
  });
  const { telemetry } = pipeline;
  telemetry.redactSecrets(accounts.flatMap((a) => [a.apiKey, a.apiSecret]));
  const startedAt = Date.now();
  const scheduler = new MinuteTimer((at) => pipeline.runScheduler(at).then(() => undefined));
  const everyMs = options.progressEveryMs ?? 5_000;
  let states: AccountState[] = [];
  try {
    await scheduler.start();
    for (
      let elapsed = 0;
      elapsed < options.durationMs && options.signal?.aborted !== true;
      elapsed = Date.now() - startedAt
    ) {
      await pause(Math.min(everyMs, options.durationMs - elapsed), options.signal);
      options.echo?.(
        `  ${Math.round((Date.now() - startedAt) / 1000)} s: checks ${telemetry.countOf(Metric.ChecksRun)} ` +
          `(complete lists ${telemetry.countOf(Metric.CompleteSnapshots)}, unknown ${telemetry.countOf(Metric.UnknownSnapshots)}), ` +
          `suspects ${telemetry.countOf(Metric.SuspectsRaised)}, cancels ${telemetry.countOf(Metric.CancelsExecuted)}, ` +
          `skipped in shadow ${telemetry.countOf(Metric.ShadowCancelsSkipped)}`,
      );
    }
  } finally {
    try {
      // What the checks stored is the account's own record of whether it ever got a complete list.
      const store = new DynamoStore({ client: pipeline.dynamoDb, tableName: pipeline.tableName });
      const readStates = () =>
        Promise.all(accounts.map(async (a) => (await store.loadAccountView(a.id)).state));
      states = await readStates();
      // A short run still looks at every account once before it reports: on a busy machine a first
      // check may finish just after --duration, and "never checked" would then say nothing true.
      const waitUntil = Date.now() + FIRST_LOOK_GRACE_MS;
      while (
        states.some((s) => s.firstCheckedAt === undefined) &&
        Date.now() < waitUntil &&
        options.signal?.aborted !== true
      ) {
        await pause(250, options.signal);
        states = await readStates();
      }
    } finally {
      await scheduler.stop();
      await pipeline.stop();
    }
  }
  return {
    exchangeUrl: options.exchangeUrl,
    accounts: accounts.length,
    wallMs: Date.now() - startedAt,
    counts: Object.fromEntries(telemetry.counts),
    outcomes: accounts.map((account, i) => {
      const state = states[i];
      const lists = telemetry.lists.get(account.id);
      return {
        id: account.id,
        shadow: account.shadow === true,
        checked: state?.firstCheckedAt !== undefined,
        ...(state?.lastCompleteSnapshotAt === undefined
          ? {}
          : { lastCompleteAt: state.lastCompleteSnapshotAt }),
        unknownLists: lists?.unknown ?? 0,
        distrustedLists: lists?.distrusted ?? 0,
        ...(lists?.lastFailure === undefined ? {} : { lastFailure: lists.lastFailure }),
      };
    }),
    decisions: [...telemetry.decisions],
    alarms: [...telemetry.alarms],
  };
}

/** How long past --duration a run waits for accounts not yet checked once. */
const FIRST_LOOK_GRACE_MS = 20_000;

function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** Accounts that never got a complete position list: the run failed for them (exit 1). */
export function accountsWithoutCompleteList(report: ExternalRunReport): readonly ExternalAccountOutcome[] {
  return report.outcomes.filter((o) => o.lastCompleteAt === undefined);
}
