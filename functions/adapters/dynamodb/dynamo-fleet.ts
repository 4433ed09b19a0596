import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { FleetBudget, FleetGuard } from '#ports/fleet.js';
import {
  conditionalWrite,
  type DynamoTableConfig,
  documentClient,
  type OperationCounts,
} from './document.js';
import { DAY_MS, Keys, TTL_ATTRIBUTE, ttlSeconds } from './table.js';

/**
 * The fleet guard on DynamoDB: one pause item every function reads, and one counter per budget window
 * taken from with a conditional ADD, so that concurrent workers never admit more than the budget.
 *
 * The pause is read at most once per `pauseCacheMs` per container: a ban lasts ten minutes, and a few
 * seconds of requests from containers that have not yet seen it cost less than a read per check.
 */
export class DynamoFleetGuard implements FleetGuard {
  readonly ops: OperationCounts = { reads: 0, writes: 0 };
  private readonly doc: DynamoDBDocumentClient;
  private readonly tableName: string;
  private cached: { readonly until: number | undefined; readonly readAt: number } | undefined;

  constructor(
    config: DynamoTableConfig,
    private readonly budget: FleetBudget,
    private readonly pauseCacheMs = 5_000,
  ) {
    this.doc = documentClient(config.client);
    this.tableName = config.tableName;
  }

  async pausedUntil(now: number): Promise<number | undefined> {
    if (this.cached === undefined || now - this.cached.readAt >= this.pauseCacheMs) {
      const answer = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: Keys.fleetPause }));
      this.ops.reads++;
      const until = answer.Item?.until;
      this.cached = { until: typeof until === 'number' ? until : undefined, readAt: now };
    }
    const { until } = this.cached;
    return until !== undefined && until > now ? until : undefined;
  }

  async pause(until: number): Promise<boolean> {
    const extended = await conditionalWrite(this.ops, () =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: Keys.fleetPause,
          UpdateExpression: 'SET #until = :until, #ttl = :ttl',
          // Only ever later: two workers that saw the same ban must not shorten each other's pause.
          ConditionExpression: 'attribute_not_exists(#until) OR #until < :until',
          ExpressionAttributeNames: { '#until': 'until', '#ttl': TTL_ATTRIBUTE },
          ExpressionAttributeValues: { ':until': until, ':ttl': ttlSeconds(until + DAY_MS) },
        }),
      ),
    );
    // Whoever set it, the pause now reaches at least `until`: read it afresh next time.
    this.cached = undefined;
    return extended;
  }

  async admit(requests: number, now: number): Promise<number> {
    const { windowMs } = this.budget;
    if (this.budget.requests <= 0 || requests <= 0) return now;
    const window = Math.floor(now / windowMs);
    // More than a whole window's budget is admitted alone in an untouched window, or it never would be.
    const alone = requests > this.budget.requests;
    const admitted = await conditionalWrite(this.ops, () =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: Keys.fleetBudget(String(window)),
          UpdateExpression: 'SET #ttl = :ttl ADD #used :n',
          ConditionExpression: alone
            ? 'attribute_not_exists(#used)'
            : 'attribute_not_exists(#used) OR #used <= :room',
          ExpressionAttributeNames: { '#used': 'used', '#ttl': TTL_ATTRIBUTE },
          ExpressionAttributeValues: {
            ':n': requests,
            ':ttl': ttlSeconds((window + 1) * windowMs + DAY_MS),
            ...(alone ? {} : { ':room': this.budget.requests - requests }),
          },
        }),
      ),
    );
    return admitted ? now : (window + 1) * windowMs;
  }
}
