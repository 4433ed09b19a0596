/**
 * The only randomness the orchestration uses (retry jitter): Math.random on AWS and locally, a seeded
 * sequence in the simulation, so a seed replays exactly.
 */
export interface Random {
  /** A number in [0, 1). */
  next(): number;
}

export const systemRandom: Random = { next: () => Math.random() };
