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
