import { describe, expect, it } from 'vitest';
import { MemoryFleetGuard } from '#adapters/memory/memory-fleet.js';
import { MemoryTelemetry } from '#adapters/memory/memory-telemetry.js';
import { defaultSettings } from '#contracts/settings.js';
import type { SnapshotFailure } from '#core/types.js';
import { fleetSession, reportBan } from '#orchestration/fleet-access.js';
import type { ExchangeSession } from '#ports/exchange.js';
import { Metric } from '#ports/telemetry.js';
import { T0, tracked } from '#test/support/records.js';

const banned: SnapshotFailure = { reason: 'ip-banned', detail: 'HTTP 403', retryAt: T0 + 600_000 };

/** A session of our own port that records what reached it and answers every call with `failure`. */
function recordingSession(failure: SnapshotFailure = banned): { session: ExchangeSession; calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    session: {
      fetchOpenPositions: async () => {
        calls.push('list');
        return { status: 'unknown', snapshotId: 's', fetchedAt: T0, pages: 0, positions: [], failure };
      },
      recheckSymbol: async () => {
        calls.push('recheck');
        return { status: 'unknown', checkedAt: T0, open: [], failure };
      },
      fetchPositionChanges: async (positions) => {
        calls.push('history');
        return new Map(
          positions.map((p) => [
            `${p.symbol}#${p.positionIdx}`,
            { status: 'unknown', searchedFrom: T0, failure },
          ]),
        );
      },
      fetchProtectiveOrders: async () => {
        calls.push('orders');
        return { status: 'unknown', failure };
      },
      cancelOrder: async (_symbol, orderId) => {
        calls.push('cancel');
        return {
          status: 'failed',
          orderId,
          detail: failure.detail,
          reason: failure.reason,
          retryable: true,
          retryAt: T0 + 700_000,
        };
      },
      placeStop: async () => {
        calls.push('place');
        return { status: 'failed', detail: failure.detail, reason: failure.reason };
      },
    },
  };
}

const deps = (fleet = new MemoryFleetGuard()) => ({
  fleet,
  clock: { now: () => T0 },
  ids: { next: (p: string) => `${p}-1` },
});

async function everyCall(session: ExchangeSession) {
  return [
    await session.fetchOpenPositions(),
    await session.recheckSymbol('BTCUSDT'),
    ...(await session.fetchPositionChanges([tracked()])).values(),
    await session.fetchProtectiveOrders(),
    await session.cancelOrder('BTCUSDT', 'sl-1'),
  ];
}

describe('fleetSession', () => {
  it('sends nothing before heldUntil: every call is unknown, held back until then, never empty', async () => {
    const { session, calls } = recordingSession();
    const held = fleetSession(deps(), session, { heldUntil: T0 + 1_000 });
    const answers = await everyCall(held.session);
    expect(calls).toEqual([]);
    for (const answer of answers) {
      expect(answer.status === 'unknown' || answer.status === 'failed').toBe(true);
      expect(answer).toMatchObject(
        'failure' in answer
          ? { failure: { reason: 'held-back', retryAt: T0 + 1_000 } }
          : { reason: 'held-back', retryAt: T0 + 1_000, retryable: true },
      );
    }
    expect(held.bannedUntil()).toBeUndefined();
  });

  it('sends no look while the fleet is paused, even when the pass was admitted', async () => {
    const fleet = new MemoryFleetGuard();
    await fleet.pause(T0 + 600_000);
    const { session, calls } = recordingSession();
    const answers = await everyCall(fleetSession(deps(fleet), session, {}).session);
    // A cancel asks only what the session knows; with every look held back, no pass gets to one.
    expect(calls).toEqual(['cancel']);
    expect(answers[0]).toMatchObject({ failure: { reason: 'held-back', retryAt: T0 + 600_000 } });
  });

  it('passes every call through while no answer carries a ban', async () => {
    const { session, calls } = recordingSession({ reason: 'http-error', detail: 'HTTP 502' });
    const watched = fleetSession(deps(), session, {});
    await everyCall(watched.session);
    expect(calls).toEqual(['list', 'recheck', 'history', 'orders', 'cancel']);
    expect(watched.bannedUntil()).toBeUndefined();
  });

  it('sends nothing more once one of its own answers carried a ban', async () => {
    const { session, calls } = recordingSession();
    const watched = fleetSession(deps(), session, {});
    await watched.session.fetchOpenPositions();
    expect(await watched.session.recheckSymbol('BTCUSDT')).toMatchObject({
      status: 'unknown',
      failure: { reason: 'held-back', retryAt: T0 + 600_000 },
    });
    expect(await watched.session.cancelOrder('BTCUSDT', 'sl-1')).toMatchObject({
      status: 'failed',
      reason: 'held-back',
    });
    expect(calls).toEqual(['list']);
  });

  it('lets a cancel follow its last look without reading the fleet pause in between', async () => {
    const fleet = new MemoryFleetGuard();
    let reads = 0;
    const counting = Object.assign(Object.create(fleet) as MemoryFleetGuard, {
      pausedUntil: async (now: number) => {
        reads++;
        return fleet.pausedUntil(now);
      },
    });
    const { session } = recordingSession({ reason: 'http-error', detail: 'HTTP 502' });
    const watched = fleetSession(deps(counting), session, {});
    await watched.session.recheckSymbol('BTCUSDT');
    expect(reads).toBe(1);
    await watched.session.cancelOrder('BTCUSDT', 'sl-1');
    expect(reads).toBe(1);
  });

  it('notes nothing from failures that are not bans', async () => {
    const { session } = recordingSession({ reason: 'rate-limited', detail: '10006', retryAt: T0 + 1_000 });
    const watched = fleetSession(deps(), session, {});
    await watched.session.fetchOpenPositions();
    expect(watched.bannedUntil()).toBeUndefined();
  });
});

describe('reportBan', () => {
  it('without a shared address, pauses nobody else: only the account that met the 403 waits, loudly', async () => {
    const fleet = new MemoryFleetGuard();
    const telemetry = new MemoryTelemetry();
    await reportBan({ fleet, telemetry, settings: defaultSettings }, T0 + 600_000, 'acct-1');
    expect(await fleet.pausedUntil(T0)).toBeUndefined();
    expect(telemetry.countOf(Metric.IpBans)).toBe(1);
    expect(telemetry.lines[0]).toMatchObject({
      level: 'error',
      message: expect.stringMatching(
        /refused acct-1's requests with HTTP 403 .* this account waits; others go on/,
      ),
    });
  });

  const shared = { ...defaultSettings, sharedEgress: true };

  it('with a shared address, pauses the fleet and raises one alarm per ban, however many accounts saw it', async () => {
    const fleet = new MemoryFleetGuard();
    const telemetry = new MemoryTelemetry();
    await reportBan({ fleet, telemetry, settings: shared }, T0 + 600_000, 'acct-1');
    await reportBan({ fleet, telemetry, settings: shared }, T0 + 600_000, 'acct-2');
    await reportBan({ fleet, telemetry, settings: shared }, undefined, 'acct-3');
    expect(await fleet.pausedUntil(T0)).toBe(T0 + 600_000);
    expect(telemetry.countOf(Metric.IpBans)).toBe(1);
    expect(telemetry.lines.filter((l) => l.level === 'error')).toHaveLength(1);
    expect(telemetry.lines[0]?.message).toMatch(
      /banned the fleet's address until .* every account's checks and confirmations pause/,
    );
  });
});
