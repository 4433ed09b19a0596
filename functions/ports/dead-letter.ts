/**
 * Where a message that can never be processed goes, with the reason, instead of being retried until
 * the queue gives up on it (or, worse, silently dropped).
 */
export interface DeadLetters {
  send(body: string, reason: string): Promise<void>;
}
