import { createHash } from 'node:crypto';
import { createBybitSession } from '#adapters/bybit/bybit-session.js';
import { trustedExchangeOrigin } from '#adapters/bybit/hosts.js';
import { SqsDeadLetters } from '#adapters/sqs/sqs-dead-letters.js';
import type { AccountRecord } from '#ports/accounts.js';
import { type CredentialsProvider, CredentialsUnavailableError } from '#ports/credentials.js';
import type { ExchangeSession } from '#ports/exchange.js';
import { EnvVar, required } from './environment.js';
import { type WiringInputs, wireCommon } from './shared-wiring.js';
import type { WorkerDeps } from './worker-handler.js';

/** The worker's dependencies: everything, with exchange sessions opened per account from its credentials. */
export function wireWorker(inputs: WiringInputs & { readonly credentials: CredentialsProvider }): WorkerDeps {
  const { environment, credentials } = inputs;
  const common = wireCommon(inputs);
  /** One session per account, with a fingerprint of everything it was built from. */
  const sessions = new Map<string, { fingerprint: string; session: ExchangeSession }>();
  const exchangeFor = async (account: AccountRecord): Promise<ExchangeSession> => {
    // An account's keys are exactly the secret named after it under the stack's prefix: a record
    // cannot point the worker at another account's secret (IAM confines it to the prefix too).
    const expectedRef = `${environment.secretPrefix}${account.accountId}`;
    if (account.credentialsRef !== expectedRef) {
      throw new CredentialsUnavailableError(
        `account ${account.accountId}: credentialsRef "${account.credentialsRef}" must be "${expectedRef}"`,
      );
    }
    const baseUrl = trustedExchangeOrigin(
      account.exchange.baseUrl ?? environment.bybitBaseUrl,
      environment.extraExchangeOrigins,
    );
    const keys = await credentials.get(account.credentialsRef);
    // Everything a session is built from is in its fingerprint: a rotated key or secret, or a changed
    // host or market, gets a new session at once (the credentials provider refreshes on its own TTL).
    const fingerprint = createHash('sha256')
      .update(
        JSON.stringify([
          account.accountId,
          baseUrl,
          keys.apiKey,
          keys.apiSecret,
          account.exchange.category,
          account.exchange.settleCoins,
        ]),
      )
      .digest('base64url');
    const cached = sessions.get(account.accountId);
    if (cached?.fingerprint === fingerprint) return cached.session;
    const session = createBybitSession({
      baseUrl,
      apiKey: keys.apiKey,
      apiSecret: keys.apiSecret,
      category: account.exchange.category,
      settleCoins: account.exchange.settleCoins,
      ids: common.ids,
      clock: common.clock,
    });
    sessions.set(account.accountId, { fingerprint, session });
    return session;
  };
  return {
    reconciler: {
      ...common,
      exchangeFor,
      forgetKeys: (account) => {
        credentials.forget?.(account.credentialsRef);
      },
    },
    deadLetters: new SqsDeadLetters(
      inputs.sqs,
      required(environment.deadLetterQueueUrl, EnvVar.deadLetterQueueUrl, 'the worker'),
    ),
  };
}
