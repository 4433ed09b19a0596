/**
 * What the alarm notifier reads and sends: the worker's logged decisions (each names its account and
 * symbol) and a message to the operators' alarm topic.
 */

/** One decision as the worker logged it. */
export interface LoggedDecision {
  readonly at: number;
  readonly accountId: string;
  readonly symbol: string;
  readonly positionIdx?: number;
  readonly decision: string;
  readonly message: string;
}

export interface DecisionLogSearch {
  /** The logged decisions of these kinds between `from` and `to` (epoch ms), newest first, at most `limit`. */
  decisions(kinds: readonly string[], from: number, to: number, limit: number): Promise<LoggedDecision[]>;
}

export interface OperatorNotifier {
  publish(subject: string, body: string): Promise<void>;
}
