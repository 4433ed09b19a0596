/** The functions' roles hold exactly the permissions their jobs need, and the bot's grant only its own. */
import { Template } from 'aws-cdk-lib/assertions';
import { AccountRootPrincipal, ArnPrincipal, type IGrantable, Role } from 'aws-cdk-lib/aws-iam';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Keys } from '#adapters/dynamodb/table.js';
import { StopguardStack } from '#infra/stopguard-stack.js';
import {
  actionsOf,
  asList,
  logicalId,
  removeAssemblies,
  type Statement,
  type Synthesized,
  statementsOfRole,
  synthesize,
  testApp,
} from './synth.js';

// Permissions do not depend on the bundle: synthesized once, without esbuild.
let synth: Synthesized;
let template: Template;
let scheduler: Statement[];
let worker: Statement[];
let register: Statement[];

beforeAll(() => {
  synth = synthesize({ bundle: false });
  template = synth.template;
  scheduler = statementsOfRole(template, logicalId(synth.stack, synth.stack.stopguard.scheduler.role));
  worker = statementsOfRole(template, logicalId(synth.stack, synth.stack.stopguard.worker.role));
  register = statementsOfRole(template, logicalId(synth.stack, synth.stack.stopguard.register.role));
});

const queueArn = (queue: { node: { defaultChild?: unknown } }) => ({
  'Fn::GetAtt': [logicalId(synth.stack, queue), 'Arn'],
});
const sendTargets = (statements: readonly Statement[]) =>
  statements.filter((s) => asList(s.Action).includes('sqs:SendMessage')).flatMap((s) => asList(s.Resource));
afterAll(removeAssemblies);

/** IAM `StringLike`: `*` is any run of characters, `?` any one. */
function like(pattern: string, value: string): boolean {
  const regex = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${regex}$`).test(value);
}

/**
 * Whether some statement allows `action` on a partition key (LeadingKeys) of the table, as IAM would
 * evaluate it. A statement on an index names the index's resource and does not reach the table's items.
 */
function allows(statements: readonly Statement[], action: string, partitionKey: string): boolean {
  return statements.some((s) => {
    if (s.Effect !== 'Allow' || !asList(s.Action).includes(action)) return false;
    if (JSON.stringify(s.Resource).includes('/index/')) return false;
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

  it('names its resources: no statement on "*" but the one action IAM authorises on nothing else', () => {
    for (const s of everyStatement()) {
      // logs:GetQueryResults takes no resource (the alarm notifier reads its own query's results).
      if (s.Action === 'logs:GetQueryResults') continue;
      expect(asList(s.Resource as unknown[]), JSON.stringify(s)).not.toContain('*');
    }
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
    for (const forbidden of ['dynamodb:DeleteItem', 'dynamodb:BatchWriteItem', 'dynamodb:Scan']) {
      expect(actions).not.toContain(forbidden);
    }
    const consuming = [
      'sqs:ReceiveMessage',
      'sqs:ChangeMessageVisibility',
      'sqs:GetQueueUrl',
      'sqs:DeleteMessage',
    ];
    expect(new Set(actions)).toEqual(
      new Set([
        'dynamodb:Query',
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:UpdateItem',
        'sqs:SendMessage',
        ...consuming,
        'sqs:GetQueueAttributes',
        'logs:CreateLogStream',
        'logs:PutLogEvents',
      ]),
    );
    // It consumes its own queue only: never the work queue, whose checks and confirms are the worker's.
    const consumed = scheduler
      .filter((s) => asList(s.Action).some((a) => consuming.includes(a)))
      .flatMap((s) => asList(s.Resource));
    expect(consumed).toEqual([queueArn(synth.stack.stopguard.scheduleQueue)]);
  });

  it('reads account records and the fleet pause, keeps shard-minutes, nothing else in the table', () => {
    expect(allows(scheduler, 'dynamodb:GetItem', Keys.fleetPause.PK)).toBe(true);
    expect(allows(scheduler, 'dynamodb:UpdateItem', Keys.fleetPause.PK)).toBe(false);
    expect(allows(scheduler, 'dynamodb:GetItem', Keys.fleetBudget('1').PK)).toBe(false);
    expect(allows(scheduler, 'dynamodb:Query', Keys.accountsPartition)).toBe(true);
    const shardMinute = Keys.scheduleShard(29_000_000, 3, 8).PK;
    for (const action of ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:Query']) {
      expect(allows(scheduler, action, shardMinute)).toBe(true);
    }
    expect(allows(scheduler, 'dynamodb:DeleteItem', shardMinute)).toBe(false);
    expect(allows(scheduler, 'dynamodb:DeleteItem', Keys.accountsPartition)).toBe(false);
    expect(allows(scheduler, 'dynamodb:DeleteItem', Keys.suspect('acc-1', 'BTCUSDT', 0).PK)).toBe(false);
    expect(allows(scheduler, 'dynamodb:PutItem', Keys.accountsPartition)).toBe(false);
    expect(allows(scheduler, 'dynamodb:Query', Keys.accountPartition('acc-1'))).toBe(false);
    expect(allows(scheduler, 'dynamodb:PutItem', Keys.state('acc-1').PK)).toBe(false);
    expect(allows(scheduler, 'dynamodb:GetItem', Keys.suspect('acc-1', 'BTCUSDT', 0).PK)).toBe(false);
  });

  it('may give an account record its schedule bucket and write no other attribute of it', () => {
    const indexing = scheduler.filter(
      (s) =>
        asList(s.Action).includes('dynamodb:UpdateItem') &&
        JSON.stringify(s).includes(Keys.accountsPartition),
    );
    expect(indexing).toHaveLength(1);
    expect(indexing[0]?.Condition?.['ForAllValues:StringEquals']?.['dynamodb:Attributes']).toEqual([
      'PK',
      'SK',
      'scheduleBucket',
    ]);
    // The index it lists shards by: Query only.
    const onIndex = scheduler.filter((s) => JSON.stringify(s.Resource).includes('/index/schedule'));
    expect(actionsOf(onIndex)).toEqual(['dynamodb:Query']);
  });

  it('sends only to the work queue and its own queues', () => {
    const targets = sendTargets(scheduler);
    expect(targets).toHaveLength(3);
    expect(targets).toEqual(
      expect.arrayContaining([
        queueArn(synth.stack.stopguard.scheduleQueue),
        queueArn(synth.stack.stopguard.scheduleDeadLetterQueue),
        queueArn(synth.stack.stopguard.queue),
      ]),
    );
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

  it('keeps ledger, suspects, state, caps, the fleet guard and audit, and only reads account records', () => {
    const account = 'acc-1';
    const tracked = Keys.tracked(account, 'BTCUSDT', 1).PK;
    expect(allows(worker, 'dynamodb:Query', Keys.accountPartition(account))).toBe(true);
    expect(allows(worker, 'dynamodb:BatchWriteItem', tracked)).toBe(true);
    expect(allows(worker, 'dynamodb:DeleteItem', tracked)).toBe(true);
    // The claim renewal's transaction checks the tracked position it renews a suspect against.
    expect(allows(worker, 'dynamodb:ConditionCheckItem', tracked)).toBe(true);
    expect(allows(worker, 'dynamodb:UpdateItem', Keys.suspect(account, 'ETHUSDT', 0).PK)).toBe(true);
    expect(allows(worker, 'dynamodb:PutItem', Keys.state(account).PK)).toBe(true);
    expect(allows(worker, 'dynamodb:UpdateItem', Keys.capAccount('28000000', account).PK)).toBe(true);
    expect(allows(worker, 'dynamodb:UpdateItem', Keys.capGlobal('28000000').PK)).toBe(true);
    expect(allows(worker, 'dynamodb:PutItem', Keys.audit(account, Date.now(), 'x').PK)).toBe(true);
    expect(allows(worker, 'dynamodb:GetItem', Keys.accountsPartition)).toBe(true);
    expect(allows(worker, 'dynamodb:GetItem', Keys.fleetPause.PK)).toBe(true);
    expect(allows(worker, 'dynamodb:UpdateItem', Keys.fleetPause.PK)).toBe(true);
    expect(allows(worker, 'dynamodb:UpdateItem', Keys.fleetBudget('1796065240').PK)).toBe(true);

    expect(allows(worker, 'dynamodb:DeleteItem', Keys.fleetPause.PK)).toBe(false);
    expect(allows(worker, 'dynamodb:PutItem', Keys.accountsPartition)).toBe(false);
    expect(allows(worker, 'dynamodb:UpdateItem', Keys.accountsPartition)).toBe(false);
    expect(allows(worker, 'dynamodb:PutItem', Keys.scheduleShard(1, 0, 1).PK)).toBe(false);
    expect(allows(worker, 'dynamodb:DeleteItem', Keys.capGlobal('1').PK)).toBe(false);
    expect(allows(worker, 'dynamodb:ConditionCheckItem', Keys.accountsPartition)).toBe(false);
    expect(actionsOf(worker)).not.toContain('dynamodb:Scan');
  });

  it('only appends to the audit trail: PutItem, no batch write, update, delete or read there', () => {
    const audit = Keys.audit('acc-1', Date.now(), 'audit-x').PK;
    expect(allows(worker, 'dynamodb:PutItem', audit)).toBe(true);
    for (const action of [
      'dynamodb:BatchWriteItem',
      'dynamodb:UpdateItem',
      'dynamodb:DeleteItem',
      'dynamodb:GetItem',
      'dynamodb:Query',
      'dynamodb:BatchGetItem',
      'dynamodb:ConditionCheckItem',
    ]) {
      expect(allows(worker, action, audit), action).toBe(false);
    }
    const [statement, ...others] = worker.filter((s) => s.Sid === 'WriteAuditTrail');
    expect(others).toEqual([]);
    expect(statement?.Action).toBe('dynamodb:PutItem');
    // Not even a Put's return values may read what is there.
    expect(statement?.Condition?.StringEqualsIfExists).toEqual({ 'dynamodb:ReturnValues': 'NONE' });
  });

  it('sends confirms to the work queue and malformed messages to the dead-letter queue, nothing else', () => {
    const { stopguard } = synth.stack;
    expect(new Set(sendTargets(worker).map((r) => JSON.stringify(r)))).toEqual(
      new Set([queueArn(stopguard.queue), queueArn(stopguard.deadLetterQueue)].map((r) => JSON.stringify(r))),
    );
  });
});

describe('register role', () => {
  it('reads account records, registers positions, dead-letters refusals: nothing more', () => {
    expect(new Set(actionsOf(register))).toEqual(
      new Set([
        'dynamodb:GetItem',
        'dynamodb:UpdateItem',
        'dynamodb:DeleteItem',
        'sqs:SendMessage',
        // Its event source: receive from the register queue and delete what was handled.
        'sqs:ReceiveMessage',
        'sqs:DeleteMessage',
        'sqs:ChangeMessageVisibility',
        'sqs:GetQueueAttributes',
        'sqs:GetQueueUrl',
        'logs:CreateLogStream',
        'logs:PutLogEvents',
      ]),
    );
  });

  it('holds no secret and cannot enqueue work: it sends only to its own dead-letter queue', () => {
    expect(actionsOf(register).filter((a) => a.startsWith('secretsmanager:'))).toEqual([]);
    expect(sendTargets(register)).toEqual([queueArn(synth.stack.stopguard.registerDeadLetterQueue)]);
    const consumed = register
      .filter((s) => asList(s.Action).includes('sqs:ReceiveMessage'))
      .flatMap((s) => asList(s.Resource));
    expect(consumed).toEqual([queueArn(synth.stack.stopguard.registerQueue)]);
  });

  it('writes positions and ends suspects in account partitions; no caps, claims, audit or records', () => {
    const account = 'acc-1';
    expect(allows(register, 'dynamodb:GetItem', Keys.accountsPartition)).toBe(true);
    expect(allows(register, 'dynamodb:UpdateItem', Keys.tracked(account, 'BTCUSDT', 0).PK)).toBe(true);
    expect(allows(register, 'dynamodb:DeleteItem', Keys.suspect(account, 'BTCUSDT', 0).PK)).toBe(true);

    expect(allows(register, 'dynamodb:UpdateItem', Keys.accountsPartition)).toBe(false);
    expect(allows(register, 'dynamodb:DeleteItem', Keys.accountsPartition)).toBe(false);
    expect(allows(register, 'dynamodb:GetItem', Keys.accountPartition(account))).toBe(false);
    expect(allows(register, 'dynamodb:UpdateItem', Keys.capAccount('1', account).PK)).toBe(false);
    expect(allows(register, 'dynamodb:UpdateItem', Keys.capGlobal('1').PK)).toBe(false);
    expect(allows(register, 'dynamodb:DeleteItem', Keys.scheduleShard(1, 0, 1).PK)).toBe(false);
    expect(allows(register, 'dynamodb:DeleteItem', Keys.audit(account, Date.now(), 'x').PK)).toBe(false);
    for (const action of ['dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:BatchWriteItem', 'dynamodb:Scan']) {
      expect(actionsOf(register)).not.toContain(action);
    }
  });
});

describe('grantRegister', () => {
  /** A fresh stack in which `makeGrantee` (the bot) was given `grantRegister`. */
  function granted<G extends IGrantable>(makeGrantee: (stack: StopguardStack) => G) {
    const stack = new StopguardStack(testApp({ bundle: false }), 'Granted');
    const grantee = makeGrantee(stack);
    stack.stopguard.grantRegister(grantee);
    return { stack, grantee, template: Template.fromStack(stack) };
  }

  it("gives a producer's role sqs:SendMessage on the register queue, and nothing on the work queue", () => {
    const { stack, grantee, template } = granted(
      (s) => new Role(s, 'Bot', { assumedBy: new AccountRootPrincipal() }),
    );
    const bot = statementsOfRole(template, logicalId(stack, grantee));
    expect(bot).toEqual([
      expect.objectContaining({
        Effect: 'Allow',
        Action: 'sqs:SendMessage',
        Resource: { 'Fn::GetAtt': [logicalId(stack, stack.stopguard.registerQueue), 'Arn'] },
      }),
    ]);
  });

  it('grants a principal of another account through the register queue policy, SendMessage only', () => {
    const botArn = 'arn:aws:iam::111122223333:role/trading-bot';
    const { stack, template } = granted(() => new ArnPrincipal(botArn));
    const policies = Object.values(template.findResources('AWS::SQS::QueuePolicy'));
    const allowed = policies.flatMap((p) =>
      (p.Properties.PolicyDocument.Statement as Statement[])
        .filter((s) => s.Effect === 'Allow')
        .map((s) => ({ queues: p.Properties.Queues, statement: s })),
    );
    expect(allowed).toHaveLength(1);
    expect(allowed[0]?.queues).toEqual([{ Ref: logicalId(stack, stack.stopguard.registerQueue) }]);
    expect(allowed[0]?.statement).toMatchObject({ Action: 'sqs:SendMessage', Principal: { AWS: botArn } });
  });
});
