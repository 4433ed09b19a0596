/**
 * A local stand-in server cannot be started on this machine. The message says what is missing and
 * how to get it, so a developer or CI log reader does not have to decode a spawn error.
 */
export class StandInUnavailableError extends Error {
  override readonly name = 'StandInUnavailableError';
  constructor(
    readonly standIn: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
