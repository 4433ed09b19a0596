import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { parseCredentials } from '#adapters/credentials/parse-credentials.js';
import { storeAccountKeys } from '#adapters/credentials/secrets-manager-keys.js';
import { accountId as accountIdSchema } from '#contracts/account-record.js';
import type { PositionIdx } from '#core/types.js';
import { localDynamoDbClient } from '#local/standins/clients.js';
import { InvalidAccountFileError, parseAccountFile } from '../account-file.js';
import { formatStatus, formatStory, formatSuspects } from './format.js';
import { NotFoundError, OperatorConsole } from './operator.js';

/**
 * `npx stopguard <command>`: the operator's view of a deployed stack (the standard AWS credential
 * chain and region, `--table` or STOPGUARD_TABLE) or of a local run (`--endpoint`, DynamoDB Local).
 * Exit codes: 0 done, 1 something named does not exist or the table cannot be reached, 2 bad usage.
 */

const COMMANDS: Readonly<Record<string, string>> = {
  status:
    'status [--account A] [--json]              one row per account: lists, positions, suspects, unprotected, decisions, cap',
  explain:
    'explain ACCOUNT SYMBOL [--leg 0|1|2] [--since 7d] [--json]   the story of one position, oldest first',
  suspects: 'suspects [--stuck] [--json]                 every open suspect (or only the stuck ones)',
  retry:
    'retry ACCOUNT SYMBOL [--leg 0|1|2]           look at a suspect again now (a stuck one starts afresh); audited',
  forget: 'forget ACCOUNT SYMBOL [--leg 0|1|2]          stop tracking a position, keep its orders; audited',
  accounts:
    'accounts list | show A | add --file F [--keys-file K] | enable A | disable A | shadow A on|off   the account records',
};

export interface CliIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly now?: () => number;
}

class UsageError extends Error {}

export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    io.err(`stopguard: ${(error as Error).message}`);
    return 2;
  }
  const { values, positionals } = parsed;
  const [command, ...args] = positionals;
  if (command === undefined || values.help === true) {
    const help =
      command === undefined ? Object.values(COMMANDS) : [COMMANDS[command] ?? `unknown command ${command}`];
    for (const line of ['usage: npx stopguard <command> [--table T | --endpoint URL] [--as NAME]', ...help])
      io.out(line);
    io.out(
      "  --table T      the stack's TableName output (or STOPGUARD_TABLE); AWS credentials and region as the AWS CLI",
    );
    io.out('  --endpoint URL a DynamoDB Local endpoint (npm start -- --keep prints it)');
    return command === undefined && values.help !== true ? 2 : 0;
  }
  if (COMMANDS[command] === undefined) {
    io.err(`stopguard: unknown command "${command}"; known: ${Object.keys(COMMANDS).join(', ')}`);
    return 2;
  }
  const table = values.table ?? io.env.STOPGUARD_TABLE;
  if (table === undefined || table === '') {
    io.err('stopguard: name the table: --table <TableName output> (or STOPGUARD_TABLE)');
    return 2;
  }
  const client =
    values.endpoint === undefined ? new DynamoDBClient({}) : localDynamoDbClient(values.endpoint);
  const operator = values.as ?? io.env.USER ?? safeUser();
  const console = new OperatorConsole(client, table, io.now ?? Date.now, operator);
  try {
    await dispatch(console, command, args, values, io);
    return 0;
  } catch (error) {
    if (error instanceof UsageError || error instanceof InvalidAccountFileError) {
      io.err(`stopguard ${command}: ${error.message}`);
      return 2;
    }
    io.err(`stopguard ${command}: ${describeFailure(error, table, values.endpoint)}`);
    return 1;
  } finally {
    client.destroy();
  }
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      table: { type: 'string' },
      endpoint: { type: 'string' },
      as: { type: 'string' },
      account: { type: 'string' },
      leg: { type: 'string' },
      since: { type: 'string' },
      file: { type: 'string' },
      'keys-file': { type: 'string' },
      'secrets-endpoint': { type: 'string' },
      'secret-prefix': { type: 'string', default: 'stopguard/' },
      stuck: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
}

type Values = ReturnType<typeof parse>['values'];

async function dispatch(
  console: OperatorConsole,
  command: string,
  args: readonly string[],
  values: Values,
  io: CliIo,
): Promise<void> {
  const now = (io.now ?? Date.now)();
  const print = (value: unknown, text: () => string) =>
    io.out(values.json ? JSON.stringify(value, null, 2) : text());
  switch (command) {
    case 'status': {
      const ids =
        values.account === undefined
          ? (await console.allAccounts()).map((a) => a.accountId)
          : [checkedAccountId(values.account)];
      const rows = await Promise.all(ids.map((id) => console.status(id)));
      print(rows, () => formatStatus(rows, now));
      return;
    }
    case 'explain': {
      const [account, symbol] = positionArgs(args, 'explain');
      const leg = legOf(values.leg);
      await console.account(account);
      const since = now - durationMs(values.since ?? '7d');
      const [story, current] = await Promise.all([
        console.story(account, since, symbol, leg),
        console.position(account, symbol, leg ?? 0),
      ]);
      print({ story, current }, () => formatStory(account, symbol, story, current, now));
      return;
    }
    case 'suspects': {
      const suspects = await console.suspects(values.stuck === true);
      print(suspects, () => formatSuspects(suspects, now));
      return;
    }
    case 'retry': {
      const [account, symbol] = positionArgs(args, 'retry');
      const next = await console.retry(account, symbol, legOf(values.leg) ?? 0);
      io.out(
        `${symbol} on ${account}: due now; the account's next check looks at it again (attempt ${next.attempts + 1})`,
      );
      return;
    }
    case 'forget': {
      const [account, symbol] = positionArgs(args, 'forget');
      await console.forget(account, symbol, legOf(values.leg) ?? 0);
      io.out(`${symbol} on ${account}: no longer tracked; its orders were left as they are`);
      return;
    }
    case 'accounts':
      return accounts(console, args, values, io);
  }
}

async function accounts(
  console: OperatorConsole,
  args: readonly string[],
  values: Values,
  io: CliIo,
): Promise<void> {
  const [verb, id, flag] = args;
  if (verb === 'list') {
    const all = await console.allAccounts();
    if (values.json) return io.out(JSON.stringify(all, null, 2));
    for (const a of all) {
      const mode =
        a.settings?.shadow === true ? 'shadow' : a.settings?.shadow === false ? 'live' : 'stack default';
      io.out(
        `${a.accountId}\t${a.enabled ? 'enabled' : 'DISABLED'}\t${mode}\t${a.exchange.category} ${a.exchange.settleCoins.join(',')}\tprotection ${a.protection?.mode ?? 'alarm'}`,
      );
    }
    return;
  }
  if (verb === 'add') {
    if (values.file === undefined)
      throw new UsageError('add needs --file account.json (the record; keys go to Secrets Manager)');
    const record = parseAccountFile(
      readFileSync(values.file, 'utf8'),
      values['secret-prefix'] ?? 'stopguard/',
    );
    let stored = '';
    if (values['keys-file'] !== undefined) {
      if (values.endpoint !== undefined && values['secrets-endpoint'] === undefined) {
        throw new UsageError(
          "npm start's local run reads keys from its accounts file; against other stand-ins name the Secrets Manager one with --secrets-endpoint",
        );
      }
      const keys = readKeys(values['keys-file'], record.credentialsRef);
      const secrets =
        values['secrets-endpoint'] === undefined
          ? new SecretsManagerClient({})
          : new SecretsManagerClient({ endpoint: values['secrets-endpoint'] });
      try {
        const how = await storeAccountKeys(secrets, record.credentialsRef, keys);
        stored = `; keys ${how} in Secrets Manager as ${record.credentialsRef}`;
      } finally {
        secrets.destroy();
      }
    }
    await console.accounts.put(record);
    return io.out(`account ${record.accountId} stored (enabled: ${record.enabled})${stored}`);
  }
  if (id === undefined || !['show', 'enable', 'disable', 'shadow'].includes(verb ?? '')) {
    throw new UsageError(`usage: ${COMMANDS.accounts}`);
  }
  const record = await console.account(checkedAccountId(id));
  if (verb === 'show') return io.out(JSON.stringify(record, null, 2));
  if (verb === 'shadow' && flag !== 'on' && flag !== 'off') throw new UsageError('shadow takes on or off');
  const next =
    verb === 'shadow'
      ? { ...record, settings: { ...record.settings, shadow: flag === 'on' } }
      : { ...record, enabled: verb === 'enable' };
  await console.accounts.put(next);
  io.out(
    `account ${id}: ${verb === 'shadow' ? `shadow ${flag}` : verb === 'enable' ? 'enabled' : 'disabled'}`,
  );
}

/** `{ "apiKey", "apiSecret" }` from a file (`/dev/stdin` for a pipe); an error names fields, never values. */
function readKeys(path: string, credentialsRef: string) {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    throw new UsageError(`the keys file ${path} is not JSON of the form { "apiKey", "apiSecret" }`);
  }
  try {
    return parseCredentials(json, credentialsRef);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

function positionArgs(args: readonly string[], command: string): [string, string] {
  const [account, symbol] = args;
  if (account === undefined || symbol === undefined) throw new UsageError(`usage: ${COMMANDS[command]}`);
  if (!/^[A-Z0-9][A-Z0-9-]{1,63}$/.test(symbol))
    throw new UsageError(`"${symbol}" is not a symbol such as BTCUSDT`);
  return [checkedAccountId(account), symbol];
}

function checkedAccountId(id: string): string {
  if (!accountIdSchema.safeParse(id).success || /\s/.test(id))
    throw new UsageError(`"${id}" is not an account id`);
  return id;
}

function legOf(leg: string | undefined): PositionIdx | undefined {
  if (leg === undefined) return undefined;
  if (leg !== '0' && leg !== '1' && leg !== '2')
    throw new UsageError('--leg is 0 (one-way), 1 (long leg) or 2 (short leg)');
  return Number(leg) as PositionIdx;
}

function durationMs(text: string): number {
  const match = /^(\d+)([mhd])$/.exec(text);
  if (match === null) throw new UsageError(`--since "${text}" is not a duration such as 90m, 6h or 7d`);
  const unit = { m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] as 'm' | 'h' | 'd'];
  return Number(match[1]) * unit;
}

/** One line for what went wrong reaching the table: never a stack trace, never a key. */
function describeFailure(error: unknown, table: string, endpoint: string | undefined): string {
  const name = (error as { name?: string }).name ?? '';
  const where = endpoint ?? 'the AWS region of your credentials';
  if (error instanceof NotFoundError) return error.message;
  if (name === 'ResourceNotFoundException') return `no table ${table} at ${where}`;
  if (name === 'CredentialsProviderError' || /credential/i.test(String((error as Error).message)))
    return 'no AWS credentials found (set AWS_PROFILE or the AWS_* variables, as for the AWS CLI)';
  if (name === 'UnrecognizedClientException' || name === 'AccessDeniedException')
    return `the credentials may not read ${table}: ${(error as Error).message}`;
  return `${name || 'error'}: ${(error as Error).message}`;
}

function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return 'unknown operator';
  }
}
