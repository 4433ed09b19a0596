import type { InitializeMiddleware, MetadataBearer } from '@smithy/types';

/** AWS SDK requests by command name ("PutItem", "SendMessageBatch"), for cost figures. */
export type RequestCounts = Map<string, number>;

type AddMiddleware = (
  middleware: InitializeMiddleware<object, MetadataBearer>,
  options: { step: 'initialize'; name: string },
) => void;

/** Counts every request `client` sends from now on (SDK retries of one request count once). */
export function countRequests(client: object): RequestCounts {
  const counts: RequestCounts = new Map();
  const counter: InitializeMiddleware<object, MetadataBearer> = (next, context) => async (args) => {
    const name = String(context.commandName ?? 'unknown').replace(/Command$/, '');
    counts.set(name, (counts.get(name) ?? 0) + 1);
    return next(args);
  };
  (client as { middlewareStack: { add: AddMiddleware } }).middlewareStack.add(counter, {
    step: 'initialize',
    name: 'stopguardRequestCounter',
  });
  return counts;
}

/** DynamoDB capacity as billed, by command: units consumed, and conditional writes that failed. */
export interface CapacityTally {
  /** Request units by command name ("Query": read units, "PutItem": write units). */
  readonly units: Map<string, number>;
  /** Requests by command that reported their units. */
  readonly requests: Map<string, number>;
  /** Writes refused by their condition (billed on AWS, reported by no response): by command. */
  readonly failedConditions: Map<string, number>;
}

/**
 * Asks DynamoDB for the capacity of every request `client` sends (`ReturnConsumedCapacity: TOTAL`,
 * which changes nothing else) and adds it up. DynamoDB Local reports units as DynamoDB bills them.
 */
export function tallyCapacity(client: object): CapacityTally {
  const tally: CapacityTally = { units: new Map(), requests: new Map(), failedConditions: new Map() };
  const add = (map: Map<string, number>, name: string, n: number) => map.set(name, (map.get(name) ?? 0) + n);
  const middleware: InitializeMiddleware<object, MetadataBearer> = (next, context) => async (args) => {
    const name = String(context.commandName ?? 'unknown').replace(/Command$/, '');
    const input = args.input as Record<string, unknown>;
    if ('TableName' in input || 'RequestItems' in input || 'TransactItems' in input) {
      input.ReturnConsumedCapacity = 'TOTAL';
    }
    try {
      const result = await next(args);
      const consumed = (result.output as { ConsumedCapacity?: unknown }).ConsumedCapacity;
      const list = Array.isArray(consumed) ? consumed : consumed === undefined ? [] : [consumed];
      const units = list.reduce(
        (sum: number, c) => sum + Number((c as { CapacityUnits?: number }).CapacityUnits ?? 0),
        0,
      );
      if (list.length > 0) {
        add(tally.units, name, units);
        add(tally.requests, name, 1);
      }
      return result;
    } catch (error) {
      const code = (error as { name?: string }).name;
      if (code === 'ConditionalCheckFailedException' || code === 'TransactionCanceledException') {
        add(tally.failedConditions, name, 1);
      }
      throw error;
    }
  };
  (client as { middlewareStack: { add: AddMiddleware } }).middlewareStack.add(middleware, {
    step: 'initialize',
    name: 'stopguardCapacityTally',
  });
  return tally;
}
