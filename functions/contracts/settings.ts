import * as z from 'zod';
import { defaultReconcileConfig, type ReconcileConfig } from '#core/config.js';
import { formatIssues } from './issues.js';

/** Everything tunable, with validated defaults. Read from the environment, overridable per account. */
export interface ReconcileSettings extends ReconcileConfig {
  /** How often each account is checked (the scheduler fans a minute out into slots). */
  readonly cadenceMs: number;
  /** Most orders cancelled per account per cap window. */
  readonly capPerAccount: number;
  /** Most orders cancelled across all accounts per cap window. */
  readonly capGlobal: number;
  readonly capWindowMs: number;
  /** Record decisions but cancel nothing. */
  readonly shadow: boolean;
  /** How long a claimed confirmation may run before the next check treats it as lost. */
  readonly claimLeaseMs: number;
  /** Ledger entries are rewritten when the position changes, or at least this often. */
  readonly ledgerRefreshMs: number;
  /**
   * Exchange requests the whole fleet may make per 5 s (0: no budget). For a fleet that sends from one
   * address, as behind a NAT: Bybit allows 600 per 5 s per address and bans it for 10 minutes beyond;
   * set at most 5/6 of that limit (ports/fleet.ts `fleetBudgetOf` says why).
   */
  readonly fleetRequestsPer5s: number;
  /**
   * Whether every worker sends from the same address(es) (fixed egress, a NAT): then a ban of the
   * address (HTTP 403) pauses the whole fleet. Otherwise only the account that met it waits: a 403 can
   * also be a region block of one account's host, which must not stop everyone else.
   */
  readonly sharedEgress: boolean;
  /** Most stops replace mode places per account per cap window: a budget of its own, apart from cancels. */
  readonly placementCapPerAccount: number;
  /** Most stops replace mode places across all accounts per cap window. */
  readonly placementCapGlobal: number;
}

export const defaultSettings: ReconcileSettings = {
  ...defaultReconcileConfig,
  cadenceMs: 10_000,
  capPerAccount: 10,
  capGlobal: 50,
  capWindowMs: 60_000,
  shadow: false,
  claimLeaseMs: 60_000,
  ledgerRefreshMs: 300_000,
  fleetRequestsPer5s: 0,
  sharedEgress: false,
  placementCapPerAccount: 5,
  placementCapGlobal: 20,
};

/** A whole number in [min, max], from a number or an environment string: durations and counts alike. */
const boundedInt = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const bool = z.union([z.boolean(), z.enum(['true', 'false']).transform((v) => v === 'true')]);

/** Overrides as stored on an account record or given in the environment: each optional, each bounded. */
export const settingsOverridesSchema = z.strictObject({
  confirmDelayMs: boundedInt(1_000, 900_000).optional(),
  evidenceGraceMs: boundedInt(0, 3_600_000).optional(),
  distrustFraction: z.coerce.number().min(0.05).max(1).optional(),
  distrustMinMissing: boundedInt(1, 10_000).optional(),
  massAbsenceConfirmations: boundedInt(1, 1_000).optional(),
  overdueConfirmMs: boundedInt(10_000, 3_600_000).optional(),
  maxRetryDelayMs: boundedInt(1_000, 900_000).optional(),
  protectionGraceMs: boundedInt(0, 86_400_000).optional(),
  stuckAfterAttempts: boundedInt(1, 10_000).optional(),
  stuckAfterMs: boundedInt(60_000, 7 * 86_400_000).optional(),
  stuckLookMs: boundedInt(60_000, 900_000).optional(),
  cadenceMs: boundedInt(1_000, 60_000)
    .refine((v) => 60_000 % v === 0, 'must divide a minute')
    .optional(),
  capPerAccount: boundedInt(0, 10_000).optional(),
  capGlobal: boundedInt(0, 100_000).optional(),
  capWindowMs: boundedInt(1_000, 3_600_000).optional(),
  shadow: bool.optional(),
  claimLeaseMs: boundedInt(1_000, 900_000).optional(),
  ledgerRefreshMs: boundedInt(0, 3_600_000).optional(),
  fleetRequestsPer5s: boundedInt(0, 100_000)
    .refine((v) => v === 0 || v >= 5, 'must be 0 (no budget) or at least 5 (one per second)')
    .optional(),
  sharedEgress: bool.optional(),
  placementCapPerAccount: boundedInt(0, 1_000).optional(),
  placementCapGlobal: boundedInt(0, 10_000).optional(),
});

export type SettingsOverrides = z.infer<typeof settingsOverridesSchema>;

/**
 * What an account record may override: everything but the shared cap budget and its window and the
 * fleet's request budget and egress, which bound all accounts together, and the claim lease, which must outlast a whole worker invocation (the
 * stack sizes the worker timeout and the queue's visibility timeout to it): a shorter lease on one
 * account would let a second delivery retake a confirmation that is still running. These come from the
 * environment only. Naming them on an account is an error, not silently ignored.
 */
export const accountSettingsOverridesSchema = settingsOverridesSchema.omit({
  capGlobal: true,
  capWindowMs: true,
  claimLeaseMs: true,
  fleetRequestsPer5s: true,
  sharedEgress: true,
  placementCapGlobal: true,
});

export class InvalidSettingsError extends Error {
  override readonly name = 'InvalidSettingsError';
}

export function applyOverrides(
  base: ReconcileSettings,
  overrides: unknown,
  source: string,
): ReconcileSettings {
  const parsed = settingsOverridesSchema.safeParse(overrides ?? {});
  if (!parsed.success) {
    const why = formatIssues(parsed.error.issues);
    throw new InvalidSettingsError(`invalid settings in ${source}: ${why}`);
  }
  const defined = Object.fromEntries(Object.entries(parsed.data).filter(([, v]) => v !== undefined));
  return { ...base, ...defined };
}

/** Environment variable for each setting: STOPGUARD_CONFIRM_DELAY_MS, STOPGUARD_SHADOW, … */
export function envName(setting: keyof ReconcileSettings): string {
  return `STOPGUARD_${setting.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;
}

export function settingsFromEnv(env: Readonly<Record<string, string | undefined>>): ReconcileSettings {
  const overrides: Record<string, string> = {};
  for (const key of Object.keys(defaultSettings) as (keyof ReconcileSettings)[]) {
    const value = env[envName(key)];
    if (value !== undefined && value !== '') overrides[key] = value;
  }
  return applyOverrides(defaultSettings, overrides, 'environment');
}
