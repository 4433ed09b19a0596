import type { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Keys } from '../../functions/adapters/dynamodb/table.js';
import {
  actionsOf,
  asList,
  logicalId,
  removeAssemblies,
  type Statement,
  type Synthesized,
  statementsOfRole,
  synthesize,
} from './synth.js';

// Permissions do not depend on the bundle: synthesized once, without esbuild.
let synth: Synthesized;
let template: Template;
let scheduler: Statement[];
let worker: Statement[];

beforeAll(() => {
  synth = synthesize({ bundle: false });
  template = synth.template;
  scheduler = statementsOfRole(template, logicalId(synth.stack, synth.stack.stopguard.scheduler.role));
  worker = statementsOfRole(template, logicalId(synth.stack, synth.stack.stopguard.worker.role));
});
afterAll(removeAssemblies);

/** IAM `StringLike`: `*` is any run of characters, `?` any one. */
function like(pattern: string, value: string): boolean {
  const regex = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${regex}$`).test(value);
}

/** Whether some statement allows `action` on a partition key (LeadingKeys), as IAM would evaluate it. */
function allows(statements: readonly Statement[], action: string, partitionKey: string): boolean {
  return statements.some((s) => {
    if (s.Effect !== 'Allow' || !asList(s.Action).includes(action)) return false;
    const patterns = s.Condition?.['ForAllValues:StringLike']?.['dynamodb:LeadingKeys'];
    return patterns === undefined || asList(patterns).some((p) => like(p, partitionKey));
  });
}

describe('every policy', () => {
  const everyStatement = (): Statement[] => {
    const statements: Statement[] = [];
    for (const role of Object.values(template.findResources('AWS::IAM::Role'))) {
      for (const inline of role.Properties.Policies ?? [])
        statements.push(...inline.PolicyDocument.Statement);
    }
    for (const policy of Object.values(template.findResources('AWS::IAM::Policy'))) {
      statements.push(...policy.Properties.PolicyDocument.Statement);
    }
    return statements;
  };

  it('names its actions: no wildcard anywhere in an action', () => {
    const statements = everyStatement();
    expect(statements.length).toBeGreaterThan(5);
    for (const action of actionsOf(statements)) expect(action).not.toContain('*');
    for (const s of statements) expect(s).not.toHaveProperty('NotAction');
  });

  it('names its resources: no statement on "*"', () => {
    for (const s of everyStatement())
      expect(asList(s.Resource as unknown[]), JSON.stringify(s)).not.toContain('*');
  });

  it('attaches no managed policies (no AWSLambdaBasicExecutionRole)', () => {
    for (const role of Object.values(template.findResources('AWS::IAM::Role'))) {
      expect(role.Properties.ManagedPolicyArns ?? []).toEqual([]);
    }
  });
});

describe('scheduler role', () => {
  it('holds no secret and cannot change or delete state', () => {
    const actions = actionsOf(scheduler);
    expect(actions.filter((a) => a.startsWith('secretsmanager:'))).toEqual([]);
    for (const forbidden of [
      'dynamodb:UpdateItem',
      'dynamodb:BatchWriteItem',
      'dynamodb:Scan',
      'sqs:DeleteMessage',
    ]) {
      expect(actions).not.toContain(forbidden);
    }
    expect(new Set(actions)).toEqual(
      new Set([
        'dynamodb:Query',
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:DeleteItem',
        'sqs:SendMessage',
        'logs:CreateLogStream',
        'logs:PutLogEvents',
      ]),
    );
  });

  it('reads account records and writes (or gives back) schedule claims, nothing else in the table', () => {
    expect(allows(scheduler, 'dynamodb:Query', Keys.accountsPartition)).toBe(true);
    expect(allows(scheduler, 'dynamodb:PutItem', Keys.scheduleClaim('acc-1', '29000000').PK)).toBe(true);
    // releaseScheduleWindow after a failed send: only a claim can be deleted, never state or a record.
    expect(allows(scheduler, 'dynamodb:DeleteItem', Keys.scheduleClaim('acc-1', '29000000').PK)).toBe(true);
    expect(allows(scheduler, 'dynamodb:DeleteItem', Keys.accountsPartition)).toBe(false);
    expect(allows(scheduler, 'dynamodb:DeleteItem', Keys.suspect('acc-1', 'BTCUSDT', 0).PK)).toBe(false);
    expect(allows(scheduler, 'dynamodb:PutItem', Keys.accountsPartition)).toBe(false);
    expect(allows(scheduler, 'dynamodb:Query', Keys.accountPartition('acc-1'))).toBe(false);
    expect(allows(scheduler, 'dynamodb:PutItem', Keys.state('acc-1').PK)).toBe(false);
    expect(allows(scheduler, 'dynamodb:GetItem', Keys.suspect('acc-1', 'BTCUSDT', 0).PK)).toBe(false);
  });

  it('sends only to the work queue', () => {
    const send = scheduler.filter((s) => asList(s.Action).includes('sqs:SendMessage'));
    expect(send.flatMap((s) => asList(s.Resource))).toEqual([
      { 'Fn::GetAtt': [logicalId(synth.stack, synth.stack.stopguard.queue), 'Arn'] },
    ]);
  });
});

describe('worker role', () => {
  it('reads only secrets under the prefix', () => {
    const secrets = worker.filter((s) => actionsOf([s]).some((a) => a.startsWith('secretsmanager:')));
    expect(actionsOf(secrets)).toEqual(['secretsmanager:GetSecretValue']);
    const resource = JSON.stringify(secrets.flatMap((s) => asList(s.Resource)));
    expect(resource).toContain(':secretsmanager:');
    expect(resource).toContain(':secret:stopguard/*');
  });

  it('keeps ledger, suspects, state, caps and audit, and only reads account records', () => {
    const account = 'acc-1';
    const tracked = Keys.tracked(account, 'BTCUSDT', 1).PK;
    expect(allows(worker, 'dynamodb:Query', Keys.accountPartition(account))).toBe(true);
    expect(allows(worker, 'dynamodb:BatchWriteItem', tracked)).toBe(true);
    expect(allows(worker, 'dynamodb:DeleteItem', tracked)).toBe(true);
    expect(allows(worker, 'dynamodb:UpdateItem', Keys.suspect(account, 'ETHUSDT', 0).PK)).toBe(true);
    expect(allows(worker, 'dynamodb:PutItem', Keys.state(account).PK)).toBe(true);
    expect(allows(worker, 'dynamodb:UpdateItem', Keys.capAccount('28000000', account).PK)).toBe(true);
    expect(allows(worker, 'dynamodb:UpdateItem', Keys.capGlobal('28000000').PK)).toBe(true);
    expect(allows(worker, 'dynamodb:BatchWriteItem', Keys.audit(account, Date.now(), 'x').PK)).toBe(true);
    expect(allows(worker, 'dynamodb:GetItem', Keys.accountsPartition)).toBe(true);

    expect(allows(worker, 'dynamodb:PutItem', Keys.accountsPartition)).toBe(false);
    expect(allows(worker, 'dynamodb:UpdateItem', Keys.accountsPartition)).toBe(false);
    expect(allows(worker, 'dynamodb:PutItem', Keys.scheduleClaim(account, '1').PK)).toBe(false);
    expect(allows(worker, 'dynamodb:DeleteItem', Keys.capGlobal('1').PK)).toBe(false);
    expect(allows(worker, 'dynamodb:DeleteItem', Keys.audit(account, Date.now(), 'x').PK)).toBe(false);
    expect(actionsOf(worker)).not.toContain('dynamodb:Scan');
  });

  it('sends confirms to the work queue and malformed messages to the dead-letter queue', () => {
    const send = worker.filter((s) => asList(s.Action).includes('sqs:SendMessage'));
    const { stopguard } = synth.stack;
    expect(send.flatMap((s) => asList(s.Resource))).toEqual(
      expect.arrayContaining([
        { 'Fn::GetAtt': [logicalId(synth.stack, stopguard.queue), 'Arn'] },
        { 'Fn::GetAtt': [logicalId(synth.stack, stopguard.deadLetterQueue), 'Arn'] },
      ]),
    );
  });
});
