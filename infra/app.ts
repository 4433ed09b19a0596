/**
 * The CDK app behind `cdk synth` and `cdk deploy`: one StopguardStack, configured from context and
 * checked by cdk-nag.
 */
import { App, Duration } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { addChecks } from './checks.js';
import type { LogLevel, StopguardProps } from './stopguard-props.js';
import { StopguardStack } from './stopguard-stack.js';

/**
 * Settings come from context: cdk.json's `context`, or `-c key=value` (which arrives as a string, hence
 * the parsing). Example: `npx cdk deploy -c shadow=false -c alarmEmail=ops@example.com`.
 */
const app = new App();

function context(key: string): unknown {
  const value: unknown = app.node.tryGetContext(key);
  return value === '' ? undefined : value;
}

function numberContext(key: string): number | undefined {
  const value = context(key);
  if (value === undefined) return undefined;
  const parsed = typeof value === 'number' ? value : Number(value);
  if (!Number.isFinite(parsed)) throw new Error(`context ${key} must be a number, got ${String(value)}`);
  return parsed;
}

/** `fixedEgressNatGateways`: 1 or 2 NAT gateways (and addresses) for the worker; absent, no VPC. */
function natGatewaysContext(): { natGateways: 1 | 2 } | undefined {
  const natGateways = numberContext('fixedEgressNatGateways');
  if (natGateways === undefined) return undefined;
  if (natGateways !== 1 && natGateways !== 2)
    throw new Error(`context fixedEgressNatGateways must be 1 or 2, got ${natGateways}`);
  return { natGateways };
}

function booleanContext(key: string): boolean | undefined {
  const value = context(key);
  if (value === undefined || typeof value === 'boolean') return value;
  if (value === 'true' || value === 'false') return value === 'true';
  throw new Error(`context ${key} must be true or false, got ${String(value)}`);
}

function stringContext(key: string): string | undefined {
  const value = context(key);
  return value === undefined ? undefined : String(value);
}

/** A comma-separated string (`-c key=a,b`) or an array (cdk.json). */
function listContext(key: string): string[] | undefined {
  const value = context(key);
  if (value === undefined) return undefined;
  const items = Array.isArray(value) ? value.map(String) : String(value).split(',');
  const list = items.map((item) => item.trim()).filter((item) => item !== '');
  return list.length === 0 ? undefined : list;
}

function oneOf<T extends string | number>(key: string, value: unknown, allowed: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  const found = allowed.find((a) => String(a) === String(value));
  if (found === undefined) throw new Error(`context ${key} must be one of ${allowed.join(', ')}`);
  return found;
}

function durationContext(key: string, unit: (amount: number) => Duration): Duration | undefined {
  const amount = numberContext(key);
  return amount === undefined ? undefined : unit(amount);
}

const candidates: { [K in keyof StopguardProps]: StopguardProps[K] | undefined } = {
  cadence: durationContext('cadenceSeconds', Duration.seconds),
  confirmDelay: durationContext('confirmDelaySeconds', Duration.seconds),
  capPerAccount: numberContext('capPerAccount'),
  capGlobal: numberContext('capGlobal'),
  capWindow: durationContext('capWindowSeconds', Duration.seconds),
  claimLease: durationContext('claimLeaseSeconds', Duration.seconds),
  fleetRequestsPer5s: numberContext('fleetRequestsPer5s'),
  fixedEgress: natGatewaysContext(),
  shadow: booleanContext('shadow'),
  alarmEmail: stringContext('alarmEmail'),
  logLevel: oneOf<LogLevel>('logLevel', context('logLevel'), ['DEBUG', 'INFO', 'WARN', 'ERROR']),
  bybitBaseUrl: stringContext('bybitBaseUrl'),
  secretPrefix: stringContext('secretPrefix'),
  extraExchangeOrigins: listContext('extraExchangeOrigins'),
  staleAfter: durationContext('staleAfterMinutes', Duration.minutes),
  auditRetentionDays: numberContext('auditRetentionDays'),
  logRetention: oneOf(
    'logRetentionDays',
    context('logRetentionDays'),
    Object.values(RetentionDays).filter((v): v is RetentionDays => typeof v === 'number'),
  ),
};
// exactOptionalPropertyTypes: leave unset props out rather than passing undefined.
const stopguard = Object.fromEntries(
  Object.entries(candidates).filter(([, v]) => v !== undefined),
) as StopguardProps;

// No `env`: the stack is environment-agnostic (account and region stay tokens), so synth needs no
// credentials and performs no lookups; deploy picks the account and region from the CLI's profile.
new StopguardStack(app, stringContext('stackName') ?? 'Stopguard', {
  description: 'stopguard: reconciliation that never strips the stop-loss off a live position',
  stopguard,
});
addChecks(app);
