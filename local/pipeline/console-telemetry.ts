import { appendFileSync } from 'node:fs';
import type { MetricName, Telemetry } from '#ports/telemetry.js';

export interface DecisionLine {
  readonly at: number;
  readonly accountId: string;
  readonly symbol: string;
  readonly phase: string;
  readonly decision: string;
  readonly reason: string;
  readonly alarm: boolean;
  readonly message: string;
}

/** Why a position list could not be trusted, as the check's account-level line says it. */
export interface ListFailure {
  readonly reason: string;
  readonly detail: string;
}

/** What the account-level lines of the checks said about one account (complete lists log nothing). */
export interface AccountLists {
  unknown: number;
  distrusted: number;
  lastFailure?: ListFailure;
}

/**
 * Local telemetry: counts metrics for the progress line and the final report, keeps every gauge
 * sample (latencies), writes every log line as JSON to a file, and echoes alarming (error-level)
 * lines to the console where a person sees them.
 */
export class ConsoleTelemetry implements Telemetry {
  readonly counts = new Map<string, number>();
  readonly samples = new Map<string, number[]>();
  readonly alarms: string[] = [];
  /** Every audited decision, in order: the report of a run against a real exchange lists them all. */
  readonly decisions: DecisionLine[] = [];
  /** Per account, from the check's account-level lines: unknown and distrusted lists, the last failure. */
  readonly lists = new Map<string, AccountLists>();
  private secrets: readonly string[] = [];

  constructor(
    private readonly logFile: string | undefined,
    private readonly echo: (line: string) => void,
  ) {}

  /**
   * Strings blanked from every line this writes, echoes or keeps. The adapters already redact keys
   * from what they report; this is the last net before a file or the console.
   */
  redactSecrets(secrets: readonly string[]): void {
    this.secrets = [...new Set(secrets.filter((s) => s.length > 0))].sort((a, b) => b.length - a.length);
  }

  count(metric: MetricName, value = 1, dimensions?: Readonly<Record<string, string>>): void {
    this.counts.set(metric, (this.counts.get(metric) ?? 0) + value);
    if (dimensions !== undefined) {
      const key = `${metric}{${Object.entries(dimensions)
        .map(([k, v]) => `${k}=${v}`)
        .join(',')}}`;
      this.counts.set(key, (this.counts.get(key) ?? 0) + value);
    }
  }

  gauge(metric: MetricName, value: number): void {
    let list = this.samples.get(metric);
    if (list === undefined) {
      list = [];
      this.samples.set(metric, list);
    }
    list.push(value);
  }

  log(
    level: 'debug' | 'info' | 'warn' | 'error',
    rawMessage: string,
    rawFields?: Readonly<Record<string, unknown>>,
  ): void {
    const message = this.redact(rawMessage);
    const fields =
      rawFields === undefined ? undefined : (this.redactDeep(rawFields) as Record<string, unknown>);
    if (this.logFile !== undefined) {
      appendFileSync(
        this.logFile,
        `${JSON.stringify({ time: new Date().toISOString(), level, message, ...fields })}\n`,
      );
    }
    if (typeof fields?.decision === 'string') {
      this.decisions.push({
        at: Date.now(),
        accountId: String(fields.accountId),
        symbol: String(fields.symbol),
        phase: String(fields.phase),
        decision: fields.decision,
        reason: String(fields.reason),
        alarm: fields.alarm === true,
        message,
      });
    }
    if (typeof fields?.accountId === 'string' && typeof fields.trust === 'string') {
      this.noteList(fields.accountId, fields.trust, message, fields.failure);
    }
    if (level === 'error') {
      this.alarms.push(message);
      this.echo(`  ALARM ${message}`);
    }
  }

  countOf(metric: MetricName): number {
    return this.counts.get(metric) ?? 0;
  }

  samplesOf(metric: MetricName): readonly number[] {
    return this.samples.get(metric) ?? [];
  }

  private noteList(accountId: string, trust: string, message: string, failure: unknown): void {
    let lists = this.lists.get(accountId);
    if (lists === undefined) {
      lists = { unknown: 0, distrusted: 0 };
      this.lists.set(accountId, lists);
    }
    if (trust === 'unknown') {
      lists.unknown++;
      lists.lastFailure = listFailureOf(message, failure);
    } else if (trust === 'distrusted' || trust === 'mass-absence-believed') {
      lists.distrusted++;
    }
  }

  private redact(text: string): string {
    return this.secrets.reduce((out, secret) => out.split(secret).join('[redacted]'), text);
  }

  private redactDeep(value: unknown): unknown {
    if (this.secrets.length === 0) return value;
    if (typeof value === 'string') return this.redact(value);
    if (Array.isArray(value)) return value.map((v) => this.redactDeep(v));
    if (value !== null && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [this.redact(k), this.redactDeep(v)]));
    }
    return value;
  }
}

/**
 * The failure behind an unknown list: a structured `failure` field when the line carries one, else
 * read back from the sentence `describeTrust` writes ("… is incomplete (reason: detail); concluded …").
 */
export function listFailureOf(message: string, failure: unknown): ListFailure {
  if (failure !== null && typeof failure === 'object') {
    const { reason, detail } = failure as Record<string, unknown>;
    if (typeof reason === 'string' && typeof detail === 'string') return { reason, detail };
  }
  const said = /is incomplete \(([\w-]+): ([\s\S]*)\); concluded nothing/.exec(message);
  return said?.[1] !== undefined && said[2] !== undefined
    ? { reason: said[1], detail: said[2] }
    : { reason: 'unknown', detail: message };
}
