import { afterEach, describe, expect, it, vi } from 'vitest';
import { VirtualClock } from '../../../src/core/clock';
import { EngineHost } from '../../../src/host/engineHost';
import { MemoryTokenStore } from '../../../src/upstream/cloudcode/oauth';

const MODELS = ['claude-sonnet-4-6', 'gemini-3-flash', 'gemini-3.1-pro-high'];
const ACCOUNTS = 40;

async function host(clock: VirtualClock): Promise<EngineHost> {
  const h = await EngineHost.create({
    clock,
    dataDir: null,
    tokenStore: new MemoryTokenStore(),
    // Nothing here reaches the network: quota reports are fed to the manager directly.
    oauth: {
      authorizeUrl: 'http://127.0.0.1:9/auth',
      tokenUrl: 'http://127.0.0.1:9/token',
      userinfoUrl: 'http://127.0.0.1:9/userinfo',
      clientId: 'test-client',
    },
    baseUrls: ['http://127.0.0.1:9'],
    proxy: { enabled: false, port: 0, key: 'qp-test-key-0123456789abcdef' },
  });
  for (let i = 0; i < ACCOUNTS; i++) {
    h.registry.upsert({
      id: `acct-${i}`,
      email: `user${i}@example.com`,
      label: `user${i}`,
      tier: 'PRO',
      status: { kind: 'active' },
    });
  }
  return h;
}

function report(clock: VirtualClock, i: number): Parameters<EngineHost['manager']['applyReport']>[0] {
  const now = clock.now();
  return {
    accountId: `acct-${i}`,
    fetchedAt: now,
    models: MODELS.map((model, j) => ({
      model,
      remainingFraction: ((i + j) % 10) / 10,
      resetTime: now + 3_600_000,
      source: 'models' as const,
      fetchedAt: now,
    })),
    buckets: [],
  };
}

describe('engine host: quota changes with many accounts', () => {
  let h: EngineHost | undefined;
  afterEach(async () => {
    await h?.dispose();
    h = undefined;
  });

  it('builds one coalesced snapshot per burst of changes, not one per account per change', async () => {
    const clock = new VirtualClock(Date.UTC(2026, 0, 5, 9));
    h = await host(clock);
    await clock.advanceAsync(250);
    const snapshots = vi.spyOn(h.state, 'snapshot');
    const fractions = vi.spyOn(h.ledger, 'noteProviderFraction');
    // A refresh cycle: every account's report arrives, 20 ms apart (800 ms in all).
    let resetOf7 = 0;
    for (let i = 0; i < ACCOUNTS; i++) {
      if (i === 7) resetOf7 = clock.now() + 3_600_000;
      h.manager.applyReport(report(clock, i));
      await clock.advanceAsync(20);
    }
    await clock.advanceAsync(250);
    // One snapshot per 250 ms window of changes; before, each change built a snapshot per account
    // (40 × 40 = 1,600), and then one per arrival.
    expect(snapshots.mock.calls.length).toBeLessThanOrEqual(5);
    expect(snapshots.mock.calls.length).toBeGreaterThanOrEqual(3);
    // The ledger still hears every account's fractions, once per report.
    expect(fractions).toHaveBeenCalledTimes(ACCOUNTS * MODELS.length);
    expect(fractions).toHaveBeenCalledWith('acct-7', 'gemini-3-flash', 0.8, resetOf7);
  });

  it('builds no snapshot while a burst of changes arrives, one when it has passed', async () => {
    const clock = new VirtualClock(Date.UTC(2026, 0, 5, 9));
    h = await host(clock);
    await clock.advanceAsync(250);
    const snapshots = vi.spyOn(h.state, 'snapshot');
    for (let i = 0; i < ACCOUNTS; i++) h.manager.applyReport(report(clock, i));
    expect(snapshots).not.toHaveBeenCalled();
    await clock.advanceAsync(249);
    expect(snapshots).not.toHaveBeenCalled();
    await clock.advanceAsync(1);
    expect(snapshots).toHaveBeenCalledTimes(1);
  });
});
