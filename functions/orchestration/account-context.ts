import type { AccountRecord } from '#contracts/account-record.js';
import { applyOverrides, type ReconcileSettings } from '#contracts/settings.js';
import type { ReconcilerDeps } from './dependencies.js';

/**
 * The account a message names, read from the table, with its effective settings (the stack's, under
 * the record's own overrides); undefined, said in a log line, when it is gone or disabled. Every check
 * and every confirmation reads it afresh: a disable or a switch to shadow mode made a moment ago is
 * obeyed by the very next look.
 */
export async function loadEnabledAccount(
  deps: Pick<ReconcilerDeps, 'accounts' | 'settings' | 'telemetry'>,
  accountId: string,
): Promise<{ account: AccountRecord; settings: ReconcileSettings } | undefined> {
  const account = await deps.accounts.get(accountId);
  if (account === undefined || !account.enabled) {
    deps.telemetry.log('info', `account ${accountId} is ${account ? 'disabled' : 'unknown'}; nothing to do`, {
      accountId,
    });
    return undefined;
  }
  return { account, settings: applyOverrides(deps.settings, account.settings, `account ${accountId}`) };
}
