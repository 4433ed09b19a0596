import type { ReconcileSettings } from '#contracts/settings.js';
import type { CapVerdict } from '#core/types.js';
import type { ReconcilerDeps } from './dependencies.js';

/**
 * One cap request for the whole pass (smaller ones if it no longer fits), its slots handed out in
 * the order the suspects were claimed.
 * Shadow mode cancels nothing, so it takes no slot from the budget live accounts share, and it
 * finishes in one go: the audit lists every order a live run would cancel. Otherwise never more than
 * a whole budget: a position with more orders is cleaned over several windows.
 */
export async function acquirePassCap(
  deps: Pick<ReconcilerDeps, 'cap' | 'clock'>,
  settings: ReconcileSettings,
  accountId: string,
  asked: readonly number[],
): Promise<CapVerdict[]> {
  const budget = Math.min(settings.capPerAccount, settings.capGlobal);
  const scope = settings.capPerAccount <= settings.capGlobal ? 'account' : 'global';
  if (settings.shadow) {
    // A zero budget cancels nothing live (and alarms): shadow must not claim otherwise.
    return asked.map((slots) =>
      budget === 0 && slots > 0
        ? { status: 'refused', windowId: 'shadow', scope, limit: 0 }
        : { status: 'granted', windowId: 'shadow', slots },
    );
  }
  const total = asked.reduce((a, b) => a + b, 0);
  const ask = (slots: number) => deps.cap.acquire(accountId, slots, deps.clock.now(), settings.capPerAccount);
  const first = await ask(Math.min(total, budget));
  let verdict = first;
  // A request is all or nothing: when the whole ask no longer fits, ask for half, and half again,
  // rather than take none, so that passes racing for one budget use most of it between them, in a
  // few requests however large the budget.
  for (let slots = Math.floor(Math.min(total, budget) / 2); verdict.status === 'refused' && slots > 0; ) {
    const smaller = await ask(slots);
    if (smaller.status === 'granted') verdict = smaller;
    else slots = Math.floor(slots / 2);
  }
  if (verdict.status === 'refused') {
    const refused = verdict;
    return asked.map(() => refused);
  }
  // A member left without a slot is told which budget fell short, as a refusal would have said.
  const short: CapVerdict =
    first.status === 'refused'
      ? first
      : {
          status: 'refused',
          windowId: verdict.windowId,
          scope: settings.capPerAccount <= settings.capGlobal ? 'account' : 'global',
          limit: budget,
        };
  let left = verdict.slots;
  return asked.map((slots) => {
    const mine = Math.min(slots, left);
    left -= mine;
    return mine === 0 && slots > 0 ? short : { status: 'granted', windowId: verdict.windowId, slots: mine };
  });
}
