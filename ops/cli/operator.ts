import { randomUUID } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { documentClient } from '#adapters/dynamodb/document.js';
import { DynamoAccounts } from '#adapters/dynamodb/dynamo-accounts.js';
import { DynamoStore } from '#adapters/dynamodb/dynamo-store.js';
import { DAY_MS, Keys } from '#adapters/dynamodb/table.js';
import type { AccountRecord } from '#contracts/account-record.js';
import { positionIdOf } from '#core/keys.js';
import type { ProtectionWatch } from '#core/protection.js';
import type { PositionIdx, SuspectRecord, TrackedPosition } from '#core/types.js';
import { capWindowId } from '#ports/cap.js';
import type { AccountState } from '#ports/store.js';

/**
 * What an operator asks of a deployed (or local) stopguard, read from and written to its table: the
 * reads behind `npx stopguard status|explain|suspects` and the two actions `retry` and `forget`, each
 * audited with who ran it. No exchange call and no key: it sees what stopguard recorded.
 */

/** One line of a position's story: an audited decision, or an operator's action. */
export interface StoryLine {
  readonly at: number;
  readonly phase: string;
  readonly decision: string;
  readonly reason: string;
  readonly alarm: boolean;
  readonly message: string;
  readonly positionIdx: PositionIdx;
}

export interface AccountStatus {
  readonly account: AccountRecord;
  readonly state: AccountState;
  readonly tracked: readonly TrackedPosition[];
  readonly suspects: readonly SuspectRecord[];
  /** Positions judged short of a stop and not recovered. */
  readonly unprotected: readonly ProtectionWatch[];
  /** Audited decisions of the last hour, by kind. */
  readonly lastHour: Readonly<Record<string, number>>;
  /** Cancels taken from the account's cap in the current window (`capWindowMs`). */
  readonly capUsed: number;
}

/** A named thing the operator asked for does not exist: one clear line, exit 1. */
export class NotFoundError extends Error {
  override readonly name = 'NotFoundError';
}

export class OperatorConsole {
  private readonly doc: ReturnType<typeof documentClient>;
  private readonly store: DynamoStore;
  readonly accounts: DynamoAccounts;

  constructor(
    client: DynamoDBClient,
    private readonly tableName: string,
    private readonly now: () => number,
    /** Who runs the commands, for the audit trail. */
    private readonly operator: string,
    private readonly capWindowMs = 60_000,
  ) {
    this.doc = documentClient(client);
    this.store = new DynamoStore({ client, tableName });
    this.accounts = new DynamoAccounts({ client, tableName, onInvalidRecord: () => {} });
  }

  async account(accountId: string): Promise<AccountRecord> {
    const record = await this.accounts.get(accountId);
    if (record === undefined) throw new NotFoundError(`no account ${accountId} in ${this.tableName}`);
    return record;
  }

  async allAccounts(): Promise<AccountRecord[]> {
    const all: AccountRecord[] = [];
    for await (const record of this.accounts.listAll()) all.push(record);
    return all.sort((a, b) => a.accountId.localeCompare(b.accountId));
  }

  async status(accountId: string): Promise<AccountStatus> {
    const account = await this.account(accountId);
    const now = this.now();
    const [view, lastHour, capUsed] = await Promise.all([
      this.store.loadAccountView(accountId),
      this.story(accountId, now - 3_600_000),
      this.capUse(accountId, now),
    ]);
    const counts: Record<string, number> = {};
    for (const line of lastHour) counts[line.decision] = (counts[line.decision] ?? 0) + 1;
    return {
      account,
      state: view.state,
      tracked: view.tracked,
      suspects: view.suspects,
      unprotected: view.watches.filter((w) => w.alarmedAt !== undefined),
      lastHour: counts,
      capUsed,
    };
  }

  /** Audited decisions and operator actions for the account since `since`, oldest first, across days. */
  async story(accountId: string, since: number, symbol?: string, leg?: PositionIdx): Promise<StoryLine[]> {
    const now = this.now();
    const lines: StoryLine[] = [];
    for (let day = Math.floor(since / DAY_MS) * DAY_MS; day <= now; day += DAY_MS) {
      let startKey: Record<string, unknown> | undefined;
      do {
        const page = await this.doc.send(
          new QueryCommand({
            TableName: this.tableName,
            KeyConditionExpression: 'PK = :pk AND SK >= :from',
            ExpressionAttributeValues: {
              ':pk': Keys.auditPartition(accountId, day),
              ':from': new Date(Math.max(since, day)).toISOString(),
            },
            ExclusiveStartKey: startKey,
          }),
        );
        for (const item of page.Items ?? []) {
          if (symbol !== undefined && item.symbol !== symbol) continue;
          if (leg !== undefined && item.positionIdx !== leg) continue;
          lines.push({
            at: Number(item.at),
            phase: String(item.phase),
            decision: String(item.decision),
            reason: String(item.reason),
            alarm: item.alarm === true,
            message: String(item.message),
            positionIdx: Number(item.positionIdx) as PositionIdx,
          });
        }
        startKey = page.LastEvaluatedKey;
      } while (startKey !== undefined);
    }
    return lines.sort((a, b) => a.at - b.at);
  }

  /** What the table holds about one position now: ledger entry, suspect, protection watch. */
  async position(accountId: string, symbol: string, leg: PositionIdx) {
    const view = await this.store.loadAccountView(accountId);
    const id = positionIdOf({ symbol, positionIdx: leg });
    return {
      tracked: view.tracked.find((t) => positionIdOf(t) === id),
      suspect: view.suspects.find((s) => positionIdOf(s) === id),
      watch: view.watches.find((w) => positionIdOf(w) === id),
    };
  }

  /** Every suspect of every account (`stuckOnly`: those stuck). */
  async suspects(stuckOnly: boolean): Promise<SuspectRecord[]> {
    const all: SuspectRecord[] = [];
    for (const account of await this.allAccounts()) {
      const view = await this.store.loadAccountView(account.accountId);
      all.push(...view.suspects.filter((s) => !stuckOnly || s.stuckSince !== undefined));
    }
    return all;
  }

  /**
   * Look again now: the suspect is made due at once and long enough overdue that the account's next
   * check re-sends its confirmation (no queue access needed); a stuck one starts afresh. Refused while a
   * confirmation holds it.
   */
  async retry(accountId: string, symbol: string, leg: PositionIdx): Promise<SuspectRecord> {
    await this.account(accountId);
    const key = { accountId, symbol, positionIdx: leg };
    const current = await this.store.getSuspect(key);
    if (current === undefined) throw new NotFoundError(`no suspect of ${symbol}#${leg} on ${accountId}`);
    const now = this.now();
    if (current.claimedUntil !== undefined && current.claimedUntil >= now) {
      throw new NotFoundError(
        `a confirmation of ${symbol}#${leg} on ${accountId} is running; try again in a minute`,
      );
    }
    const { stuckSince: _fresh, ...rest } = current;
    // Overdue by more than any overdue bound (at most an hour): the next check re-sends it.
    const next: SuspectRecord = {
      ...rest,
      nextAttemptAt: now - 3_600_001,
      // The stuck bounds count afresh from here: its next looks are minute-apart again.
      ...(current.stuckSince === undefined
        ? {}
        : { stuckCountFrom: { attempts: current.attempts, at: now } }),
    };
    if (!(await this.store.updateSuspect(next, current))) {
      throw new NotFoundError(`${symbol}#${leg} on ${accountId} changed meanwhile; look at it again`);
    }
    await this.audit(
      key,
      'operator-retry',
      `retry requested by ${this.operator}: the next check looks at it again${current.stuckSince === undefined ? '' : ', and it is no longer stuck'}`,
    );
    return next;
  }

  /**
   * Stop tracking: the suspect and the ledger entry go, the orders stay where they are. A position the
   * exchange still lists is tracked again by the next check.
   */
  async forget(accountId: string, symbol: string, leg: PositionIdx): Promise<void> {
    await this.account(accountId);
    const key = { accountId, symbol, positionIdx: leg };
    const { tracked, suspect, watch } = await this.position(accountId, symbol, leg);
    if (tracked === undefined && suspect === undefined && watch === undefined) {
      throw new NotFoundError(`stopguard tracks nothing of ${symbol}#${leg} on ${accountId}`);
    }
    await Promise.all([
      suspect === undefined ? undefined : this.store.deleteSuspect(key),
      tracked === undefined ? undefined : this.store.removeTracked(key),
      watch === undefined ? undefined : this.store.saveWatches([], [key]),
    ]);
    await this.audit(
      key,
      'operator-forget',
      `forgotten by ${this.operator}: no longer tracked, no order touched; the next list that shows it open tracks it again`,
    );
  }

  private async capUse(accountId: string, now: number): Promise<number> {
    const result = await this.doc.send(
      new GetCommand({
        TableName: this.tableName,
        Key: Keys.capAccount(capWindowId(now, this.capWindowMs), accountId),
      }),
    );
    return Number(result.Item?.count ?? 0);
  }

  private async audit(
    key: { accountId: string; symbol: string; positionIdx: PositionIdx },
    decision: string,
    message: string,
  ): Promise<void> {
    const at = this.now();
    await this.doc.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          ...Keys.audit(key.accountId, at, `op-${randomUUID()}`),
          kind: 'audit',
          accountId: key.accountId,
          at,
          phase: 'operator',
          shadow: false,
          symbol: key.symbol,
          positionIdx: key.positionIdx,
          decision,
          reason: 'operator',
          message,
          alarm: false,
          operator: this.operator,
        },
        ConditionExpression: 'attribute_not_exists(PK)',
      }),
    );
  }
}
