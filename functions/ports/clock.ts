/** The only way orchestration code learns the time: a real clock on AWS, a virtual one in simulation. */
export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
