import { createBybitSession } from '../adapters/bybit/bybit-session.js';
import { SqsDeadLetters } from '../adapters/sqs/sqs-dead-letters.js';
import type { AccountRecord } from '../ports/accounts.js';
import { type CredentialsProvider, CredentialsUnavailableError } from '../ports/credentials.js';
import type { ExchangeSession } from '../ports/exchange.js';
import { type WiringInputs, wireCommon } from './wiring.js';
import type { WorkerDeps } from './worker-handler.js';

/** The worker's dependencies: everything, with exchange sessions opened per account from its credentials. */
export function wireWorker(inputs: WiringInputs & { readonly credentials: CredentialsProvider }): WorkerDeps {
  const { environment, credentials } = inputs;
  const common = wireCommon(inputs);
  const sessions = new Map<string, { apiKey: string; session: ExchangeSession }>();
  const exchangeFor = async (account: AccountRecord): Promise<ExchangeSession> => {
    // IAM only lets the functions read secrets under the prefix; refusing here too gives a clear
    // error instead of an AccessDenied, and a record cannot point us at someone else's secret.
    if (!account.credentialsRef.startsWith(environment.secretPrefix)) {
      throw new CredentialsUnavailableError(
        `account ${account.accountId}: credentialsRef "${account.credentialsRef}" is not under the prefix "${environment.secretPrefix}"`,
      );
    }
    const keys = await credentials.get(account.credentialsRef);
    const baseUrl = account.exchange.baseUrl ?? environment.bybitBaseUrl;
    const cacheKey = `${account.accountId}\u0000${baseUrl}`;
    const cached = sessions.get(cacheKey);
    // A rotated key gets a new session (the credentials provider refreshes its cache on its own).
    if (cached !== undefined && cached.apiKey === keys.apiKey) return cached.session;
    const session = createBybitSession({
      baseUrl,
      apiKey: keys.apiKey,
      apiSecret: keys.apiSecret,
      category: account.exchange.category,
      settleCoins: account.exchange.settleCoins,
      ids: common.ids,
      clock: common.clock,
    });
    sessions.set(cacheKey, { apiKey: keys.apiKey, session });
    return session;
  };
  return {
    reconciler: { ...common, exchangeFor },
    deadLetters: new SqsDeadLetters(inputs.sqs, environment.deadLetterQueueUrl),
  };
}
