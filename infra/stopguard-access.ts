/**
 * What each stopguard function may do, and what a producer outside stopguard may do: one IAM policy
 * statement per purpose, each on named resources and, on the table, confined by `dynamodb:LeadingKeys`
 * to the partitions that purpose needs. The statements go onto the functions' own roles.
 */
import { ArnFormat, Stack } from 'aws-cdk-lib';
import type { Table } from 'aws-cdk-lib/aws-dynamodb';
import { Grant, type IGrantable, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import {
  Keys,
  PARTITION_KEY,
  SCHEDULE_BUCKET_ATTRIBUTE,
  SCHEDULE_INDEX,
  SORT_KEY,
} from '#adapters/dynamodb/table.js';
import { acknowledge } from './acknowledge.js';
import type { StopguardFunction } from './stopguard-function.js';

/**
 * The grant behind `Stopguard.grantRegister`: `sqs:SendMessage` on the register queue, nothing else.
 * No key grant: the queues use SQS-managed encryption.
 */
export function grantRegister(registerQueue: Queue, grantee: IGrantable): Grant {
  return Grant.addToPrincipalOrResource({
    grantee,
    actions: ['sqs:SendMessage'],
    resourceArns: [registerQueue.queueArn],
    resource: registerQueue,
  });
}

/**
 * The scheduler reads account records and the fleet's pause, claims and runs shard-minutes, and
 * enqueues checks. Nothing else: no secrets, no positions, suspects or caps (it holds no credentials and cannot cancel anything).
 * `dynamodb:LeadingKeys` confines each statement to its partitions of the single table.
 */
export function allowScheduling(
  fn: StopguardFunction,
  on: { table: Table; queue: Queue; scheduleQueue: Queue; scheduleDeadLetterQueue: Queue },
): void {
  fn.allow(
    new PolicyStatement({
      sid: 'ReadAccountRecords',
      actions: ['dynamodb:Query', 'dynamodb:GetItem'],
      resources: [on.table.tableArn],
      conditions: leadingKeysLike([Keys.accountsPartition]),
    }),
  );
  fn.allow(
    new PolicyStatement({
      // The sparse schedule index holds account records only (nothing else carries a bucket).
      sid: 'ListAccountShards',
      actions: ['dynamodb:Query'],
      resources: [`${on.table.tableArn}/index/${SCHEDULE_INDEX}`],
    }),
  );
  fn.allow(
    new PolicyStatement({
      // Gives a record stored before the index its bucket, and can write no other attribute of it.
      sid: 'IndexAccountRecords',
      actions: ['dynamodb:UpdateItem'],
      resources: [on.table.tableArn],
      conditions: {
        ...leadingKeysLike([Keys.accountsPartition]),
        'ForAllValues:StringEquals': {
          'dynamodb:Attributes': [PARTITION_KEY, SORT_KEY, SCHEDULE_BUCKET_ATTRIBUTE],
        },
      },
    }),
  );
  fn.allow(
    new PolicyStatement({
      // Each shard-minute is claimed (PutItem), moved along its states (UpdateItem) and read back by
      // the next runs (Query), only in the schedule partitions.
      sid: 'ClaimScheduleShards',
      actions: ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:Query'],
      resources: [on.table.tableArn],
      conditions: leadingKeysLike([Keys.schedulePartition('*')]),
    }),
  );
  fn.allow(
    new PolicyStatement({
      // The fan-out's shard-minutes, and a malformed one parked with its reason.
      sid: 'EnqueueShards',
      actions: ['sqs:SendMessage'],
      resources: [on.scheduleQueue.queueArn, on.scheduleDeadLetterQueue.queueArn],
    }),
  );
  fn.allow(
    new PolicyStatement({
      // Slots inside a fleet-wide pause (an address ban) are not sent at all.
      sid: 'ReadFleetPause',
      actions: ['dynamodb:GetItem'],
      resources: [on.table.tableArn],
      conditions: leadingKeysLike([Keys.fleetPause.PK]),
    }),
  );
  fn.allow(
    new PolicyStatement({
      sid: 'EnqueueChecks',
      actions: ['sqs:SendMessage'],
      resources: [on.queue.queueArn],
    }),
  );
}

/**
 * The worker keeps each account's ledger, suspects and state, counts cancels against the cap and its
 * requests against the fleet's budget, and writes the audit trail. It reads account records but cannot change them, and cannot touch schedule
 * claims. One statement per purpose, each confined by `dynamodb:LeadingKeys` to its partitions and
 * holding only the calls the DynamoDB adapters make there. It sends confirms to its own queue and
 * malformed messages to the dead-letter queue, and reads exchange credentials only from secrets under
 * the prefix.
 */
export function allowReconciling(
  fn: StopguardFunction,
  on: { table: Table; queue: Queue; deadLetterQueue: Queue; secretPrefix: string },
): void {
  const stack = Stack.of(fn);
  const secrets = stack.formatArn({
    service: 'secretsmanager',
    resource: 'secret',
    resourceName: `${on.secretPrefix}*`,
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });
  fn.allow(
    new PolicyStatement({
      sid: 'ReadAccountRecords',
      actions: ['dynamodb:GetItem'],
      resources: [on.table.tableArn],
      conditions: leadingKeysLike([Keys.accountsPartition]),
    }),
  );
  fn.allow(
    new PolicyStatement({
      sid: 'KeepAccountState',
      actions: [
        'dynamodb:Query',
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:UpdateItem',
        'dynamodb:DeleteItem',
        'dynamodb:BatchWriteItem',
        // The claim renewal before a cancel: a transaction of a suspect Put and a ConditionCheck on
        // the tracked position, each item authorised as its own action.
        'dynamodb:ConditionCheckItem',
      ],
      resources: [on.table.tableArn],
      conditions: leadingKeysLike([Keys.accountPartition('*')]),
    }),
  );
  // The cap's both-or-neither acquire is a TransactWriteItems of two updates. IAM has no action for the
  // transaction itself: each item in it is authorised as the UpdateItem it is.
  fn.allow(
    new PolicyStatement({
      sid: 'CountCancelsUnderCap',
      actions: ['dynamodb:UpdateItem'],
      resources: [on.table.tableArn],
      conditions: leadingKeysLike([Keys.capAccount('*', '*').PK, Keys.capGlobal('*').PK]),
    }),
  );
  // The fleet guard: the pause every worker reads and extends when the exchange bans the address,
  // and the per-second request budget counters (conditional ADDs).
  fn.allow(
    new PolicyStatement({
      sid: 'ShareFleetPauseAndBudget',
      actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
      resources: [on.table.tableArn],
      conditions: leadingKeysLike([Keys.fleetPause.PK, Keys.fleetBudget('*').PK]),
    }),
  );
  fn.allow(
    new PolicyStatement({
      // Append-only in effect: PutItem and nothing else, so the worker can neither read, list,
      // update nor delete an entry. An entry's key carries a random id and the worker cannot read or
      // list audit partitions, so it cannot aim a Put at an existing entry (short of one it has just
      // written itself); the adapter's attribute_not_exists condition refuses a collision.
      // ReturnValues is pinned to NONE so a Put cannot read back what it would replace either.
      sid: 'WriteAuditTrail',
      actions: ['dynamodb:PutItem'],
      resources: [on.table.tableArn],
      conditions: {
        ...leadingKeysLike([auditPartitionPattern()]),
        StringEqualsIfExists: { 'dynamodb:ReturnValues': 'NONE' },
      },
    }),
  );
  fn.allow(
    new PolicyStatement({
      sid: 'SendConfirmsAndDeadLetters',
      actions: ['sqs:SendMessage'],
      resources: [on.queue.queueArn, on.deadLetterQueue.queueArn],
    }),
  );
  fn.allow(
    new PolicyStatement({
      sid: 'ReadExchangeCredentials',
      actions: ['secretsmanager:GetSecretValue'],
      resources: [secrets],
    }),
  );
  acknowledge(
    fn.role,
    `AwsSolutions-IAM5[Resource::${flatArn(stack, secrets)}]`,
    "Secret ARNs end in a random six-character suffix, so a secret's ARN is only known with a '*' " +
      "after its name. The name part is a literal prefix ending in '/' (validated at synth), so the " +
      'wildcard covers the secrets under the prefix and nothing else, one action, read only.',
  );
}

/**
 * The register function validates a registration against the account record, adds the position to
 * the ledger and stores what the bot says of its stop (conditional UpdateItems), ends a suspect raised
 * on an older state (a conditional DeleteItem), and dead-letters what it refuses. It holds no secret, cannot enqueue work, and
 * cannot touch caps, schedule claims or the audit trail. IAM confines by partition only: within
 * `ACCOUNT#<id>` the code, not the policy, limits it to the position, intent and suspect items.
 */
export function allowRegistering(
  fn: StopguardFunction,
  on: { table: Table; registerDeadLetterQueue: Queue },
): void {
  fn.allow(
    new PolicyStatement({
      sid: 'ReadAccountRecords',
      actions: ['dynamodb:GetItem'],
      resources: [on.table.tableArn],
      conditions: leadingKeysLike([Keys.accountsPartition]),
    }),
  );
  fn.allow(
    new PolicyStatement({
      sid: 'RegisterPositions',
      actions: ['dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
      resources: [on.table.tableArn],
      conditions: leadingKeysLike([Keys.accountPartition('*')]),
    }),
  );
  fn.allow(
    new PolicyStatement({
      sid: 'DeadLetterRefusedRegistrations',
      actions: ['sqs:SendMessage'],
      resources: [on.registerDeadLetterQueue.queueArn],
    }),
  );
}

/** Partition-key patterns for `dynamodb:LeadingKeys`: every key a request touches must match one. */
export function leadingKeysLike(patterns: readonly string[]): Record<string, unknown> {
  return { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [...patterns] } };
}

/** Audit partitions are `AUDIT#<account>#<day>`: any account, any day. */
function auditPartitionPattern(): string {
  const sample = Keys.auditPartition('*', 0);
  return `${sample.slice(0, sample.lastIndexOf('#'))}#*`;
}

/** An ARN as cdk-nag spells it in a finding id: pseudo parameters as `<AWS::Region>` and so on. */
function flatArn(stack: Stack, arn: string): string {
  const resolved: unknown = stack.resolve(arn);
  if (typeof resolved === 'string') return resolved;
  const [delimiter, parts] = (resolved as { 'Fn::Join': [string, unknown[]] })['Fn::Join'];
  return parts
    .map((part) => (typeof part === 'string' ? part : `<${(part as { Ref: string }).Ref}>`))
    .join(delimiter);
}
