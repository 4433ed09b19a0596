import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from './clients.js';
import { StandInUnavailableError } from './stand-in-error.js';

export interface DynamoDbLocal {
  /** `http://127.0.0.1:<port>`: give it to `localDynamoDbClient`. */
  readonly endpoint: string;
  readonly port: number;
  /** Milliseconds from spawn until it answered ListTables. */
  readonly startMs: number;
  /** Kills the JVM and waits for it to exit. Idempotent. */
  stop(): Promise<void>;
}

export interface DynamoDbLocalOptions {
  /** A fixed port; by default a free one is picked. */
  readonly port?: number;
  /** How long to wait for it to answer; the JVM usually needs 1–3 s. */
  readonly startTimeoutMs?: number;
}

const INSTALL_JAVA =
  'DynamoDB Local is a Java program and needs a Java runtime (11 or newer) on PATH or in JAVA_HOME: ' +
  'install one with `apt-get install -y openjdk-17-jre-headless` (Debian/Ubuntu) or `brew install openjdk@17` (macOS)';

/**
 * Starts DynamoDB Local (the jar shipped by `amplify-dynamodb-simulator`) in memory, on a free port,
 * and resolves once it answers a request. The JVM is killed by `stop()` and, failing that, when this
 * process exits; a Ctrl-C reaches it directly because it stays in the terminal's process group.
 *
 * Throws `StandInUnavailableError` when Java or the jar is missing, or when it does not come up.
 * Note: the jar has no bind-address option, so it listens on every interface, not only loopback.
 */
export async function startDynamoDbLocal(options: DynamoDbLocalOptions = {}): Promise<DynamoDbLocal> {
  const emulator = emulatorDirectory();
  // A picked port can be taken between picking and the JVM binding it: try another one.
  const attempts = options.port === undefined ? 5 : 1;
  let lastError: unknown;
  for (let attempt = 0; attempt < attempts; attempt++) {
    const port = options.port ?? (await candidatePort(attempt));
    try {
      return await launch(emulator, port, options.startTimeoutMs ?? 30_000);
    } catch (error) {
      lastError = error;
      if (!(error instanceof PortInUseError)) throw error;
    }
  }
  throw new StandInUnavailableError(
    'dynamodb-local',
    `DynamoDB Local could not bind a port: ${String(lastError)}`,
  );
}

class PortInUseError extends Error {}

function emulatorDirectory(): string {
  let packageJson: string;
  try {
    packageJson = createRequire(import.meta.url).resolve('amplify-dynamodb-simulator/package.json');
  } catch (cause) {
    throw new StandInUnavailableError(
      'dynamodb-local',
      'the package amplify-dynamodb-simulator (which ships DynamoDBLocal.jar) is not installed: run `npm ci`',
      { cause },
    );
  }
  const directory = join(dirname(packageJson), 'emulator');
  if (!existsSync(join(directory, 'DynamoDBLocal.jar'))) {
    throw new StandInUnavailableError(
      'dynamodb-local',
      `DynamoDBLocal.jar is missing from ${directory}: reinstall amplify-dynamodb-simulator with \`npm ci\``,
    );
  }
  return directory;
}

function javaExecutable(): string {
  const home = process.env.JAVA_HOME;
  return home !== undefined && home !== '' ? join(home, 'bin', 'java') : 'java';
}

async function launch(emulator: string, port: number, timeoutMs: number): Promise<DynamoDbLocal> {
  const startedAt = performance.now();
  const java = javaExecutable();
  const child = spawn(
    java,
    [
      `-Djava.library.path=${join(emulator, 'DynamoDBLocal_lib')}`,
      // Start-up dominates a test run's cost; these trade peak throughput for a faster start.
      '-XX:TieredStopAtLevel=1',
      '-XX:+UseSerialGC',
      '-jar',
      join(emulator, 'DynamoDBLocal.jar'),
      '-inMemory',
      '-disableTelemetry',
      '-port',
      String(port),
    ],
    { cwd: emulator, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const output = new OutputTail();
  child.stdout?.on('data', (chunk: Buffer) => output.add(chunk));
  child.stderr?.on('data', (chunk: Buffer) => output.add(chunk));

  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);

  const exited = new Promise<Error>((resolve) => {
    child.once('error', (error: NodeJS.ErrnoException) => {
      resolve(
        error.code === 'ENOENT'
          ? new StandInUnavailableError('dynamodb-local', `\`${java}\` was not found. ${INSTALL_JAVA}`, {
              cause: error,
            })
          : new StandInUnavailableError('dynamodb-local', `could not start \`${java}\`: ${error.message}`, {
              cause: error,
            }),
      );
    });
    child.once('exit', (code, signal) => {
      const text = output.text();
      resolve(
        /Address already in use|BindException/.test(text)
          ? new PortInUseError(`port ${port} is in use`)
          : new StandInUnavailableError(
              'dynamodb-local',
              `DynamoDB Local exited during start-up (code ${code}, signal ${signal}). ` +
                `Its output:\n${text}\n${/UnsupportedClassVersionError/.test(text) ? INSTALL_JAVA : ''}`,
            ),
      );
    });
  });

  const endpoint = `http://127.0.0.1:${port}`;
  const stop = once(async () => {
    process.removeListener('exit', killOnExit);
    await terminate(child);
  });
  const failure = await Promise.race([waitUntilAnswering(endpoint, timeoutMs, exited), exited]);
  if (failure !== undefined) {
    await stop();
    throw failure;
  }
  // A test that forgets stop() must not hang its runner: the exit hook still kills the JVM.
  child.unref();
  for (const stream of [child.stdout, child.stderr]) (stream as { unref?: () => void } | null)?.unref?.();
  return { endpoint, port, startMs: Math.round(performance.now() - startedAt), stop };
}

/** Resolves undefined once ListTables succeeds, or an error on timeout. Stops polling when `exited` settles. */
async function waitUntilAnswering(
  endpoint: string,
  timeoutMs: number,
  exited: Promise<Error>,
): Promise<Error | undefined> {
  let gone = false;
  void exited.then(() => {
    gone = true;
  });
  // One attempt per poll: the SDK's own retries would only slow the polling down.
  const client = new DynamoDBClient({
    endpoint,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
    maxAttempts: 1,
  });
  const deadline = performance.now() + timeoutMs;
  try {
    while (!gone) {
      try {
        await client.send(new ListTablesCommand({ Limit: 1 }));
        return undefined;
      } catch {
        if (performance.now() > deadline) {
          return new StandInUnavailableError(
            'dynamodb-local',
            `DynamoDB Local did not answer on ${endpoint} within ${timeoutMs} ms`,
          );
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
    return undefined;
  } finally {
    client.destroy();
  }
}

async function terminate(child: ChildProcess): Promise<void> {
  // No pid: it never started (spawn error), so there is nothing to wait for.
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const forced = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(forced);
}

/**
 * A free port for the JVM, outside the kernel's ephemeral range and spread by process id. Not port 0
 * then closed: the kernel hands that same port to the next process asking, and a second JVM that
 * fails to bind it is not noticed in time, because the first JVM (or the in-process SQS stand-in of
 * another test file) already answers there. That made two test files share one server, with writes
 * lost and the cap's counters seen by the wrong tests.
 */
async function candidatePort(attempt: number): Promise<number> {
  for (let offset = 0; offset < 200; offset++) {
    const port = 10_000 + ((process.pid * 37 + attempt * 997 + offset * 101) % 20_000);
    if (await isFree(port)) return port;
  }
  throw new StandInUnavailableError('dynamodb-local', 'no free port between 10000 and 30000');
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '0.0.0.0', () => server.close(() => resolve(true)));
  });
}

function once(fn: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | undefined;
  return () => {
    running ??= fn();
    return running;
  };
}

/** The last few kilobytes of the JVM's output, for error messages. */
class OutputTail {
  private chunks: string[] = [];
  private size = 0;

  add(chunk: Buffer): void {
    this.chunks.push(chunk.toString('utf8'));
    this.size += chunk.length;
    while (this.size > 8_192 && this.chunks.length > 1) this.size -= this.chunks.shift()?.length ?? 0;
  }

  text(): string {
    return this.chunks.join('').trim();
  }
}
