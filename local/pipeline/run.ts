import { randomBytes } from 'node:crypto';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { defaultReconcileConfig } from '#core/config.js';
import { type OrphanRecord, startBybitSimulator } from '#local/bybit-simulator/index.js';
import { Metric } from '#ports/telemetry.js';
import type { DecisionLine } from './console-telemetry.js';
import { defaultMarket, MarketDriver, type MarketStats } from './market.js';
import { type LocalAccount, type LocalPipeline, startLocalPipeline } from './pipeline.js';

export interface EmbeddedRunOptions {
  readonly accounts: number;
  /** Check cycles per account while the market trades. */
  readonly cycles: number;
  /** Chance that a bulk position list silently omits a position (the incident). */
  readonly dropRate: number;
  readonly seed: number;
  /** Local cadence: one check per account this often (default 2 s, so a run of a minute shows a lot). */
  readonly cadenceMs?: number;
  /** After the market stops, how long to wait for the last orphans to be cleaned. Default 60 s. */
  readonly settleMs?: number;
  readonly workerConcurrency?: number;
  readonly logFile?: string;
  /** Called about once a second with the live figures. */
  readonly onProgress?: (progress: Progress) => void;
  readonly echo?: (line: string) => void;
  /**
   * The simulator's limit per account and endpoint, requests per second: default Bybit's documented
   * ones (50 for reads, 10 for cancels); 10 is the harshest tier on every endpoint.
   */
  readonly rateLimitPerSecond?: number;
  /** Extra settings, as environment overrides. */
  readonly settings?: Record<string, string | number | boolean>;
  /** Runs once the backlog has settled, before the stand-ins stop (the soak's throughput burst). */
  readonly afterSettle?: (
    pipeline: LocalPipeline,
    accounts: readonly LocalAccount[],
    report: EmbeddedRunReport,
  ) => Promise<void>;
}

export interface Progress {
  readonly elapsedMs: number;
  readonly phase: 'trading' | 'settling';
  readonly checks: number;
  readonly suspects: number;
  readonly cleared: number;
  readonly cancels: number;
  readonly blocked: number;
  readonly waitingOrphans: number;
  readonly falseCancels: number;
  /** Live positions the protection audit judged without a (full) stop so far. */
  readonly unprotected: number;
}

export interface EmbeddedRunReport {
  readonly options: EmbeddedRunOptions;
  readonly wallMs: number;
  readonly market: MarketStats;
  readonly falseCancels: number;
  readonly orphans: number;
  readonly orphansCleaned: number;
  /** Orphans that ended without us: the exchange cancelled them, or the position was reopened. */
  readonly orphansEndedOtherwise: number;
  readonly orphansNeverCleaned: number;
  /** Cleanup delays of the orphans we cancelled, seconds, ascending. */
  readonly cleanupDelaysSeconds: readonly number[];
  readonly counts: Readonly<Record<string, number>>;
  readonly checkLatencyMs: readonly number[];
  readonly confirmLatencyMs: readonly number[];
  readonly exchangeRequests: number;
  readonly dynamoRequests: Readonly<Record<string, number>>;
  readonly sqsRequests: Readonly<Record<string, number>>;
  /** DynamoDB units by command as billed, the requests that reported them, and refused conditional writes. */
  readonly dynamoCapacity: {
    readonly units: Readonly<Record<string, number>>;
    readonly requests: Readonly<Record<string, number>>;
    readonly failedConditions: Readonly<Record<string, number>>;
  };
  /** Worker invocations (batches) and the records they carried. */
  readonly workerBatches: { readonly batches: number; readonly records: number };
  readonly deadLettered: number;
  readonly alarms: readonly string[];
  /** The protection audit against the market's truth (positions it opened without a stop). */
  readonly protection: {
    readonly openedWithoutStop: number;
    /** Of those, open long enough to be judged (the grace and 2 more checks). */
    readonly livedPastGrace: number;
    /** Of those, judged unprotected. */
    readonly found: number;
    /** Judged unprotected although the market placed its stop: must be 0. */
    readonly falseAlarms: number;
    readonly examples: readonly string[];
  };
}

/**
 * `npm start`: the embedded Bybit simulator with seeded drops and a trading market, the local pipeline
 * (DynamoDB Local, SQS stand-in, the real handlers), a timer for EventBridge. Trades for `cycles`
 * cadences, then lets the backlog settle and reports against the simulator's ground truth.
 */
export async function runEmbedded(options: EmbeddedRunOptions): Promise<EmbeddedRunReport> {
  const cadenceMs = options.cadenceMs ?? 2_000;
  const accounts: LocalAccount[] = Array.from({ length: options.accounts }, (_, i) => ({
    id: `acct-${String(i + 1).padStart(3, '0')}`,
    // Fresh keys per run, known only to this process and the embedded simulator.
    apiKey: randomBytes(9).toString('base64url'),
    apiSecret: randomBytes(24).toString('base64url'),
  }));
  const simulator = await startBybitSimulator({
    seed: options.seed,
    faults: { dropPositions: { probability: options.dropRate, maxDropped: 1 } },
    accounts: accounts.map((a) => ({ id: a.id, apiKey: a.apiKey, apiSecret: a.apiSecret })),
    ...(options.rateLimitPerSecond === undefined ? {} : { rateLimitPerSecond: options.rateLimitPerSecond }),
  });
  let pipeline: LocalPipeline | undefined;
  try {
    pipeline = await startLocalPipeline({
      accounts,
      exchangeUrl: simulator.url,
      settings: {
        cadenceMs,
        confirmDelayMs: 1_000,
        maxRetryDelayMs: 10_000,
        overdueConfirmMs: 30_000,
        ...options.settings,
      },
      ...(options.workerConcurrency === undefined ? {} : { workerConcurrency: options.workerConcurrency }),
      ...(options.logFile === undefined ? {} : { logFile: options.logFile }),
      ...(options.echo === undefined ? {} : { echo: options.echo }),
    });
    const running = pipeline;
    const market = new MarketDriver(
      simulator.admin,
      accounts.map((a) => a.id),
      { seed: options.seed, ...defaultMarket },
      (message) => running.sendToIngress(message),
    );
    await market.open();

    const startedAt = Date.now();
    const scheduler = new MinuteTimer((at) => running.runScheduler(at).then(() => undefined));
    await scheduler.start();
    const progress = () => {
      const truth = simulator.admin.groundTruth();
      const t = running.telemetry;
      return {
        elapsedMs: Date.now() - startedAt,
        checks: t.countOf(Metric.ChecksRun),
        suspects: t.countOf(Metric.SuspectsRaised),
        cleared: t.countOf(Metric.IncompleteResponsesObserved),
        cancels: t.countOf(Metric.CancelsExecuted),
        blocked: t.countOf(Metric.KeptForLackOfEvidence) + t.countOf(Metric.CapRefusals),
        waitingOrphans: truth.waitingOrphans.length,
        falseCancels: truth.falseCancels.length,
        unprotected: unprotectedAlarms(t.decisions).length,
      };
    };
    try {
      for (let cycle = 1; cycle <= options.cycles; cycle++) {
        await sleepUntil(startedAt + cycle * cadenceMs);
        await market.step();
        if (cycle % Math.max(1, Math.round(1_000 / cadenceMs)) === 0)
          options.onProgress?.({ ...progress(), phase: 'trading' });
      }
      // The market stops; what is judged is whether every orphan left behind gets cleaned.
      const settleUntil = Date.now() + (options.settleMs ?? 60_000);
      while (Date.now() < settleUntil && simulator.admin.groundTruth().waitingOrphans.length > 0) {
        await sleep(1_000);
        options.onProgress?.({ ...progress(), phase: 'settling' });
      }
    } finally {
      await scheduler.stop();
    }
    const wallMs = Date.now() - startedAt;

    const truth = simulator.admin.groundTruth();
    const cleaned = truth.orphans.filter((o) => o.end === 'cancelled');
    const t = running.telemetry;
    const exchangeRequests = Object.values(truth.requestCounts).reduce(
      (sum, perAccount) => sum + Object.values(perAccount).reduce((a, b) => a + b, 0),
      0,
    );
    const report: EmbeddedRunReport = {
      options,
      wallMs,
      market: market.stats,
      falseCancels: truth.falseCancels.length,
      orphans: truth.orphans.length,
      orphansCleaned: cleaned.length,
      orphansEndedOtherwise: truth.orphans.filter((o) => o.end !== undefined && o.end !== 'cancelled').length,
      orphansNeverCleaned: truth.waitingOrphans.length,
      cleanupDelaysSeconds: cleaned.map(delaySeconds).sort((a, b) => a - b),
      counts: Object.fromEntries(t.counts),
      checkLatencyMs: [...t.samplesOf(Metric.CheckDurationMs)].sort((a, b) => a - b),
      confirmLatencyMs: [...t.samplesOf(Metric.ConfirmDurationMs)].sort((a, b) => a - b),
      exchangeRequests,
      dynamoRequests: Object.fromEntries(running.dynamoRequests),
      sqsRequests: Object.fromEntries(running.sqsRequests),
      dynamoCapacity: {
        units: Object.fromEntries(running.dynamoCapacity.units),
        requests: Object.fromEntries(running.dynamoCapacity.requests),
        failedConditions: Object.fromEntries(running.dynamoCapacity.failedConditions),
      },
      workerBatches: { batches: running.worker.batches, records: running.worker.records },
      deadLettered: await queueDepth(running),
      alarms: [...t.alarms],
      protection: protectionAgainst(
        market.stats.openedWithoutStop,
        unprotectedAlarms(t.decisions),
        // Long enough to be judged: the grace, then 2 looks (a check every cadence).
        Math.ceil((defaultReconcileConfig.protectionGraceMs + 2 * cadenceMs) / cadenceMs),
      ),
    };
    // After the figures are taken, so that the burst's steady checks do not dilute them.
    await options.afterSettle?.(running, accounts, report);
    return report;
  } finally {
    await pipeline?.stop();
    await simulator.close();
  }
}

/** The audit's judgements that a live position lacks a (full) stop. */
function unprotectedAlarms(decisions: readonly DecisionLine[]): DecisionLine[] {
  return decisions.filter((d) => d.decision === 'unprotected' || d.decision === 'underprotected');
}

function protectionAgainst(
  openedWithoutStop: MarketStats['openedWithoutStop'],
  alarms: readonly DecisionLine[],
  ticksToJudge: number,
): EmbeddedRunReport['protection'] {
  const bare = new Set(openedWithoutStop.map((b) => b.position));
  const alarmed = new Set(alarms.map((a) => `${a.accountId} ${a.symbol}`));
  const lived = openedWithoutStop.filter((b) => b.ticksOpen >= ticksToJudge);
  return {
    openedWithoutStop: bare.size,
    livedPastGrace: lived.length,
    found: lived.filter((b) => alarmed.has(b.position)).length,
    falseAlarms: [...alarmed].filter((p) => !bare.has(p)).length,
    examples: alarms.slice(0, 2).map((a) => a.message),
  };
}

function delaySeconds(orphan: OrphanRecord): number {
  return ((orphan.cleanedAt ?? orphan.orphanedAt) - orphan.orphanedAt) / 1000;
}

async function queueDepth(pipeline: LocalPipeline): Promise<number> {
  const attributes = await pipeline.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: pipeline.queues.deadLetterQueueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return (
    Number(attributes.Attributes?.ApproximateNumberOfMessages ?? 0) +
    Number(attributes.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0)
  );
}

/**
 * Plays EventBridge's `rate(1 minute)`: once now, then every 60 s from then (a rate rule keeps the second
 * it was created at). Each tick gets its scheduled time, as the event's `time` carries it.
 */
export class MinuteTimer {
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> = Promise.resolve();
  private nextAt = 0;
  failures = 0;

  constructor(private readonly tick: (scheduledAt: number) => Promise<void>) {}

  async start(): Promise<void> {
    this.nextAt = Math.floor(Date.now() / 1_000) * 1_000;
    await this.fire();
    this.arm();
  }

  async stop(): Promise<void> {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    await this.inFlight;
  }

  private arm(): void {
    this.timer = setTimeout(
      () => {
        this.inFlight = this.fire();
        this.arm();
      },
      Math.max(0, this.nextAt - Date.now()),
    );
  }

  private async fire(): Promise<void> {
    const scheduledAt = this.nextAt;
    this.nextAt += 60_000;
    try {
      await this.tick(scheduledAt);
    } catch {
      // The failed run gave its minutes back: the next run takes the rest of its own minute with its next.
      this.failures++;
    }
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const sleepUntil = (at: number) => sleep(Math.max(0, at - Date.now()));
