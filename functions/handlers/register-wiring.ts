import { bybitMarketRules } from '#adapters/bybit/symbols.js';
import { SqsDeadLetters } from '#adapters/sqs/sqs-dead-letters.js';
import { EnvVar, required } from './environment.js';
import type { RegisterHandlerDeps } from './register-handler.js';
import { type WiringInputs, wireTable } from './shared-wiring.js';

/**
 * The register function's dependencies: account records to validate against, the ledger and suspects
 * to write, Bybit's instrument naming, and the ingress's own dead-letter queue. No exchange, no work
 * queue, no cap: the bot's ingress can only add to what stopguard tracks.
 */
export function wireRegister(inputs: WiringInputs): RegisterHandlerDeps {
  const { environment, sqs } = inputs;
  const deadLetterQueueUrl = required(
    environment.registerDeadLetterQueueUrl,
    EnvVar.registerDeadLetterQueueUrl,
    'the register function',
  );
  return {
    register: { ...wireTable(inputs), market: bybitMarketRules },
    deadLetters: new SqsDeadLetters(sqs, deadLetterQueueUrl),
  };
}
