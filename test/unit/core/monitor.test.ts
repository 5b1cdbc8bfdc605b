import { describe, expect, it } from 'vitest';
import { AccountRegistry } from '../../../src/core/accountRegistry';
import { VirtualClock } from '../../../src/core/clock';
import { ConfigError } from '../../../src/core/errors';
import { QuotaMonitor } from '../../../src/core/monitor';
import type { MonitorOptions } from '../../../src/core/monitor';
import { ProviderError } from '../../../src/core/provider';
import { QuotaManager } from '../../../src/core/quotaManager';
import { FakeProvider, makeAccount } from '../../support/fakeProvider';

const M = 'claude-sonnet-4-6';
const T0 = 1_000_000;

function setup(accounts = ['a1'], opts: Partial<MonitorOptions> = {}) {
  const clock = new VirtualClock(T0);
  const provider = new FakeProvider(clock);
  for (const id of accounts) provider.setModels(id, { [M]: { remaining: 0.5 } });
  const manager = new QuotaManager({ clock, provider, ttlMs: 600_000 });
  const registry = new AccountRegistry(accounts.map((id) => makeAccount(id)));
  const monitor = new QuotaMonitor({ clock, manager, registry, random: () => 0.5, ...opts });
  return { clock, provider, manager, registry, monitor };
}

const gaps = (times: number[]) => times.slice(1).map((t, i) => t - (times[i] as number));

describe('QuotaMonitor', () => {
  it('refreshes every account at start, then every interval', async () => {
    const { clock, provider, monitor } = setup(['a1', 'a2'], { intervalSeconds: 300 });
    monitor.start();
    await clock.advanceAsync(1_000_000);
    expect(provider.log.filter((l) => l.accountId === 'a1').map((l) => l.at - T0)).toEqual([
      0, 300_000, 600_000, 900_000,
    ]);
    const h = monitor.health();
    expect(h).toMatchObject({ running: true, successes: 8, failures: 0, cycles: 4 });
    expect(h.accounts[0]?.lastSuccessAt).toBe(T0 + 900_000);
    await monitor.stop();
  });

  it('backs off exponentially on failure up to the cap, and recovers to the interval', async () => {
    const { clock, provider, monitor } = setup(['a1'], {
      intervalSeconds: 300,
      backoffBaseMs: 30_000,
      backoffMaxMs: 240_000,
    });
    provider.failAlways('a1', new ProviderError('transient', 'upstream 503'));
    monitor.start();
    await clock.advanceAsync(30_000 + 60_000 + 120_000 + 240_000 + 240_000);
    expect(gaps(provider.log.map((l) => l.at))).toEqual([30_000, 60_000, 120_000, 240_000, 240_000]);
    expect(monitor.health()).toMatchObject({ failures: 6, successes: 0 });
    expect(monitor.health().accounts[0]).toMatchObject({ consecutiveFailures: 6, lastError: 'upstream 503' });
    provider.recover('a1');
    await clock.advanceAsync(240_000 + 300_000);
    expect(gaps(provider.log.map((l) => l.at)).slice(-2)).toEqual([240_000, 300_000]);
    expect(monitor.health().accounts[0]?.consecutiveFailures).toBe(0);
    await monitor.stop();
  });

  it('jitters delays within ±10%', () => {
    let r = 0;
    const { monitor } = setup(['a1'], { intervalSeconds: 300, random: () => r });
    const seen: number[] = [];
    for (r = 0; r < 1; r += 0.01) seen.push(monitor.nextIntervalMs());
    expect(Math.min(...seen)).toBe(270_000);
    expect(Math.max(...seen)).toBeLessThanOrEqual(330_000);
    expect(Math.max(...seen)).toBeGreaterThan(325_000);
    r = 0.999999;
    expect(monitor.backoffMs(100)).toBeLessThanOrEqual(30 * 60_000 * 1.1);
  });

  it('never runs more refreshes at once than the concurrency bound', async () => {
    const ids = Array.from({ length: 10 }, (_, i) => `a${i}`);
    const { clock, provider, monitor } = setup(ids, { concurrency: 3 });
    for (const id of ids) provider.setDelay(id, 1_000);
    monitor.start();
    await clock.advanceAsync(500);
    expect(provider.inFlight).toBe(3);
    await clock.advanceAsync(10_000);
    expect(provider.maxConcurrent).toBe(3);
    expect(provider.calls()).toBe(10);
    await monitor.stop();
  });

  it('stop() waits for refreshes in flight and schedules nothing after', async () => {
    const { clock, provider, monitor } = setup(['a1']);
    provider.setDelay('a1', 5_000);
    monitor.start();
    await clock.advanceAsync(1_000);
    let stopped = false;
    const stopping = monitor.stop().then(() => (stopped = true));
    await clock.advanceAsync(3_000);
    expect(stopped).toBe(false);
    await clock.advanceAsync(1_000);
    await stopping;
    expect(stopped).toBe(true);
    expect(monitor.health().successes).toBe(1);
    await clock.advanceAsync(3_600_000);
    expect(provider.calls()).toBe(1);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('stop() skips the refreshes still queued behind the concurrency limit', async () => {
    const ids = Array.from({ length: 12 }, (_, i) => `a${i}`);
    const { clock, provider, monitor } = setup(ids, { concurrency: 4 });
    for (const id of ids) provider.setDelay(id, 5_000);
    monitor.start();
    await clock.advanceAsync(1_000);
    let stopped = false;
    const stopping = monitor.stop().then(() => (stopped = true));
    // The four running finish; the eight queued would have taken two more rounds of 5 s.
    await clock.advanceAsync(5_000);
    await stopping;
    expect(stopped).toBe(true);
    expect(provider.calls()).toBe(4);
    expect(monitor.health().successes).toBe(4);
  });

  it('never refreshes one account twice at once (monitor, refreshNow, check share one fetch)', async () => {
    const { clock, provider, manager, registry, monitor } = setup(['a1']);
    provider.setDelay('a1', 2_000);
    monitor.start();
    await clock.advanceAsync(10);
    const now1 = monitor.refreshNow('a1');
    const now2 = monitor.refreshNow();
    const check = manager.check(registry.get('a1') ?? makeAccount('a1'), 'gemini-3-flash');
    monitor.nudge('a1');
    await clock.advanceAsync(2_000);
    await Promise.all([now1, now2, check]);
    expect(provider.calls('a1')).toBe(1);
    expect(provider.maxConcurrent).toBe(1);
    await monitor.stop();
  });

  it('nudge refreshes soon after a success, but not while backing off', async () => {
    const { clock, provider, monitor } = setup(['a1'], { nudgeDelayMs: 2_000, backoffBaseMs: 60_000 });
    monitor.start();
    await clock.advanceAsync(10_000);
    monitor.nudge('a1');
    monitor.nudge('a1');
    await clock.advanceAsync(2_000);
    expect(provider.log.map((l) => l.at - T0)).toEqual([0, 12_000]);
    provider.failNext('a1');
    monitor.nudge('a1');
    await clock.advanceAsync(2_000);
    expect(provider.calls()).toBe(3);
    monitor.nudge('a1'); // failing: backoff stands
    await clock.advanceAsync(10_000);
    expect(provider.calls()).toBe(3);
    await clock.advanceAsync(50_000);
    expect(provider.calls()).toBe(4);
    await monitor.stop();
  });

  it('refreshes just after the reset of an exhausted model instead of waiting a whole interval', async () => {
    const { clock, provider, monitor } = setup(['a1'], { intervalSeconds: 3600, nudgeDelayMs: 2_000 });
    provider.setModels('a1', {
      [M]: { remaining: 0, resetInMs: 600_000 },
      other: { remaining: 0.9, resetInMs: 60_000 },
    });
    monitor.start();
    await clock.advanceAsync(1);
    provider.setModels('a1', { [M]: { remaining: 1, resetInMs: 5 * 3_600_000 } });
    await clock.advanceAsync(3_600_000);
    expect(provider.log.map((l) => l.at - T0)).toEqual([0, 602_000]);
    await monitor.stop();
  });

  it('pause holds the schedule; resume runs what became due', async () => {
    const { clock, provider, monitor } = setup(['a1'], { intervalSeconds: 60 });
    monitor.start();
    await clock.advanceAsync(1);
    monitor.pause();
    await clock.advanceAsync(600_000);
    expect(provider.calls()).toBe(1);
    expect(monitor.health().paused).toBe(true);
    monitor.resume();
    await clock.advanceAsync(1);
    expect(provider.calls()).toBe(2);
    await monitor.stop();
  });

  it('refreshNow works when stopped and resolves after the fetch; failures do not reject', async () => {
    const { clock, provider, monitor } = setup(['a1', 'a2']);
    provider.failNext('a2');
    const done = monitor.refreshNow();
    await clock.advanceAsync(0);
    await done;
    expect(provider.calls()).toBe(2);
    expect(monitor.health()).toMatchObject({ successes: 1, failures: 1, running: false });
  });

  it('follows the registry: new accounts refresh soon, removed ones stop', async () => {
    const { clock, provider, registry, monitor } = setup(['a1'], { intervalSeconds: 60 });
    monitor.start();
    await clock.advanceAsync(1_000);
    provider.setModels('a2', { [M]: { remaining: 1 } });
    registry.add(makeAccount('a2'));
    await clock.advanceAsync(1);
    expect(provider.calls('a2')).toBe(1);
    registry.remove('a1');
    await clock.advanceAsync(600_000);
    expect(provider.calls('a1')).toBe(1);
    await monitor.stop();
  });

  it('takes accounts out of rotation on verification-required and forbidden', async () => {
    const { clock, provider, registry, monitor } = setup(['a1', 'a2']);
    provider.failNext(
      'a1',
      new ProviderError('verification-required', 'Verify this account', {
        url: 'https://example.com/verify',
      }),
    );
    provider.failNext('a2', new ProviderError('forbidden', 'Terms of Service'));
    monitor.start();
    await clock.advanceAsync(3_600_000);
    expect(registry.get('a1')?.status).toEqual({
      kind: 'needs-verification',
      reason: 'Verify this account',
      url: 'https://example.com/verify',
    });
    expect(registry.get('a2')?.status.kind).toBe('restricted');
    expect(provider.calls()).toBe(2);
    await monitor.stop();
  });

  it('validates settings with the allowed range', () => {
    expect(() => setup(['a1'], { intervalSeconds: 10 })).toThrow(ConfigError);
    expect(() => setup(['a1'], { intervalSeconds: 4000 })).toThrow(/30–3600 seconds/);
    expect(() => setup(['a1'], { backoffBaseMs: 60_000, backoffMaxMs: 10_000 })).toThrow(/backoffMaxMs/);
    const { monitor } = setup();
    expect(() => monitor.configure({ concurrency: 0 })).toThrow(ConfigError);
    expect(monitor.configure({ intervalSeconds: 30 }).intervalSeconds).toBe(30);
  });

  it('dispose stops and refuses to start again', async () => {
    const { monitor } = setup();
    monitor.dispose();
    expect(() => monitor.start()).toThrow(/disposed/);
  });
});
