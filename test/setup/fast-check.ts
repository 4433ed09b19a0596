import fc from 'fast-check';

/**
 * Property tests run from a fixed seed, so CI is reproducible. For a deeper search with fresh random
 * inputs, run with STOPGUARD_PROPERTY_SEED=random (and STOPGUARD_PROPERTY_RUNS=400 for more runs);
 * a failure prints the seed and path to replay it.
 */
const seedSetting = process.env.STOPGUARD_PROPERTY_SEED;
if (seedSetting !== 'random')
  fc.configureGlobal({ seed: seedSetting === undefined ? 20261125 : Number(seedSetting) });
