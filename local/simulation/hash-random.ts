/**
 * Randomness keyed by *what* is being decided rather than drawn from a stream: the answer to "is
 * position X dropped from account A's list at time T?" depends only on (seed, A, T, X). Two strategies
 * that make different numbers of calls therefore still see the very same responses at the same
 * moments, which is what makes "naive vs stopguard over the same seeded responses" a fair comparison.
 */
export function hashUnit(seed: number, ...parts: readonly (number | string)[]): number {
  let h = (seed ^ 0x9e3779b9) >>> 0;
  for (const part of parts) {
    const text = typeof part === 'number' ? String(part) : part;
    for (let i = 0; i < text.length; i++) {
      h = Math.imul(h ^ text.charCodeAt(i), 0x85ebca6b);
      h ^= h >>> 13;
    }
    h = Math.imul(h ^ 0x2c, 0xc2b2ae35);
  }
  // final avalanche (murmur3 fmix32)
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / 4294967296;
}

/** A uniform integer in [min, max] keyed like `hashUnit`. */
export function hashInt(
  seed: number,
  min: number,
  max: number,
  ...parts: readonly (number | string)[]
): number {
  return min + Math.floor(hashUnit(seed, ...parts) * (max - min + 1));
}
