import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { AccountRegistry } from '../../../src/core/accountRegistry';
import { VirtualClock } from '../../../src/core/clock';
import { ConfigError } from '../../../src/core/errors';
import { QuotaMonitor } from '../../../src/core/monitor';
import { QuotaManager } from '../../../src/core/quotaManager';
import { EngineSnapshotSchema, StateStore } from '../../../src/core/stateStore';
import type { EngineSnapshot } from '../../../src/core/stateStore';
import { FakeProvider, makeAccount } from '../../support/fakeProvider';

const M = 'claude-sonnet-4-6';

function setup(coalesceMs = 0) {
  const clock = new VirtualClock(1_000_000);
  const provider = new FakeProvider(clock);
  provider.setModels('a1', { [M]: { remaining: 0.6, resetInMs: 3_600_000 } });
  const manager = new QuotaManager({ clock, provider, ttlMs: 60_000 });
  const registry = new AccountRegistry([makeAccount('a1')]);
  const monitor = new QuotaMonitor({ clock, manager, registry, random: () => 0.5 });
  const store = new StateStore({ clock, registry, manager, monitor, coalesceMs, models: [M] });
  const events: EngineSnapshot[] = [];
  store.onChange((s) => events.push(s));
  return { clock, provider, manager, registry, monitor, store, events };
}

describe('StateStore', () => {
  it('builds a plain snapshot that its zod schema accepts and JSON round-trips', async () => {
    const { manager, registry, store, clock } = setup();
    await manager.refresh(registry.get('a1') ?? makeAccount('a1'));
    manager.setCooldown({
      accountId: 'a1',
      model: 'x',
      until: clock.now() + 1_000,
      kind: 'manual',
      reason: 'test',
    });
    const snap = store.snapshot();
    expect(EngineSnapshotSchema.parse(snap)).toEqual(snap);
    expect(JSON.parse(JSON.stringify(snap))).toEqual(snap);
    expect(snap.accounts[0]?.models.map((m) => m.model)).toEqual([M]);
    expect(snap.accounts[0]?.models[0]?.decision).toMatchObject({ kind: 'proceed', remainingFraction: 0.6 });
    expect(snap.cooldowns).toHaveLength(1);
    expect(snap.monitor).toMatchObject({ running: false, successes: 0 });
    expect(snap.thresholds).toEqual({ warn: 0.1, floor: 0.05 });
  });

  it('lists models without readings as missing, and snapshots do not count cache hits', () => {
    const { store, manager } = setup();
    const snap = store.snapshot();
    expect(snap.accounts[0]?.models[0]?.decision).toMatchObject({
      freshness: 'missing',
      remainingFraction: null,
    });
    expect(manager.cache.stats().hits + manager.cache.stats().misses).toBe(0);
  });

  it('coalesces many changes in one tick into one event', async () => {
    const { clock, manager, registry, store, events } = setup();
    for (let i = 0; i < 50; i++) {
      manager.setCooldown({
        accountId: 'a1',
        model: `m${i}`,
        until: clock.now() + 60_000,
        kind: 'manual',
        reason: 'r',
      });
    }
    registry.add(makeAccount('a2'));
    manager.setThresholds({ warn: 0.2, floor: 0.1 });
    expect(events).toHaveLength(0);
    clock.advance(0);
    expect(events).toHaveLength(1);
    expect(events[0]?.accounts).toHaveLength(2);
    expect(events[0]?.revision).toBe(store.currentRevision);
    clock.advance(0);
    expect(events).toHaveLength(1);
  });

  it('coalesces over a configurable delay', () => {
    const { clock, manager, events } = setup(100);
    manager.setCooldown({ accountId: 'a1', until: clock.now() + 10_000, kind: 'manual', reason: 'r' });
    clock.advance(50);
    manager.clearCooldown('a1');
    clock.advance(49);
    expect(events).toHaveLength(0);
    clock.advance(1);
    expect(events).toHaveLength(1);
  });

  it('emits when only time changes the picture: a cooldown ends, a reading turns stale', async () => {
    const { clock, manager, registry, events } = setup();
    await manager.refresh(registry.get('a1') ?? makeAccount('a1'));
    manager.setCooldown({
      accountId: 'a1',
      model: M,
      until: clock.now() + 5_000,
      kind: 'manual',
      reason: 'r',
    });
    clock.advance(0);
    expect(events.at(-1)?.accounts[0]?.models[0]?.decision.kind).toBe('exhausted');
    const n = events.length;
    clock.advance(5_000);
    expect(events.length).toBe(n + 1);
    expect(events.at(-1)?.accounts[0]?.models[0]?.decision.kind).toBe('proceed');
    clock.advance(55_000);
    expect(events.at(-1)?.accounts[0]?.models[0]?.decision.freshness).toBe('stale');
  });

  it('emits when a reading passes its reset time', async () => {
    const { clock, provider, manager, registry, events } = setup();
    provider.setModels('a1', { [M]: { remaining: 0, resetInMs: 30_000 } });
    await manager.refresh(registry.get('a1') ?? makeAccount('a1'));
    clock.advance(0);
    expect(events.at(-1)?.accounts[0]?.models[0]?.decision.kind).toBe('exhausted');
    clock.advance(30_000);
    expect(events.at(-1)?.accounts[0]?.models[0]?.decision).toMatchObject({
      kind: 'proceed',
      freshness: 'stale',
    });
  });

  it('follows the monitor', async () => {
    const { clock, monitor, events } = setup();
    monitor.start();
    await clock.advanceAsync(10);
    expect(events.at(-1)?.monitor).toMatchObject({ running: true, successes: 1 });
    await monitor.stop();
  });

  it('includes registered sections, validated, and isolates a failing one', () => {
    const { clock, store, events } = setup();
    let used = 3;
    const usage = store.registerSection(
      'usage',
      () => ({ requests: used }),
      z.object({ requests: z.number() }),
    );
    store.registerSection('broken', () => {
      throw new Error('ledger unavailable');
    });
    expect(store.snapshot().sections).toEqual({
      usage: { requests: 3 },
      broken: { error: 'ledger unavailable' },
    });
    used = 4;
    store.notify();
    clock.advance(0);
    expect(events.at(-1)?.sections.usage).toEqual({ requests: 4 });
    expect(() => store.registerSection('usage', () => 1)).toThrow(ConfigError);
    expect(() => store.registerSection('Bad Name', () => 1)).toThrow(/invalid/);
    usage.dispose();
    expect(store.snapshot().sections.usage).toBeUndefined();
  });

  it('dispose stops events and timers', () => {
    const { clock, manager, store, events } = setup();
    manager.setCooldown({ accountId: 'a1', until: clock.now() + 10_000, kind: 'manual', reason: 'r' });
    store.dispose();
    clock.advance(20_000);
    expect(events).toHaveLength(0);
  });

  it("rebuilds only the changed account's part; time, thresholds and age rebuild the rest", async () => {
    const clock = new VirtualClock(1_000_000);
    const provider = new FakeProvider(clock);
    const ids = Array.from({ length: 20 }, (_, i) => `a${i}`);
    for (const id of ids) provider.setModels(id, { [M]: { remaining: 0.6, resetInMs: 3_600_000 } });
    const manager = new QuotaManager({ clock, provider, ttlMs: 600_000 });
    const registry = new AccountRegistry(ids.map((id) => makeAccount(id)));
    const store = new StateStore({ clock, registry, manager, models: [M] });
    for (const a of registry.list()) await manager.refresh(a);
    const first = store.snapshot();
    let decided = 0;
    const decideOriginal = manager.decide.bind(manager);
    manager.decide = (...args) => {
      decided++;
      return decideOriginal(...args);
    };
    provider.setModels('a3', { [M]: { remaining: 0.2, resetInMs: 3_600_000 } });
    await manager.refresh(registry.get('a3') ?? makeAccount('a3'));
    const second = store.snapshot();
    // Before, every snapshot decided every account's every model: 20 calls here.
    expect(decided).toBe(1);
    expect(second.accounts[3]?.models[0]?.decision.remainingFraction).toBe(0.2);
    expect(second.accounts[4]).toBe(first.accounts[4]);
    expect(second).toEqual({ ...first, accounts: second.accounts, generatedAt: second.generatedAt });
    // A cooldown that ends changes its account's part at that instant, with no event.
    manager.setCooldown({ accountId: 'a5', until: clock.now() + 1_000, kind: 'manual', reason: 'test' });
    expect(store.snapshot().accounts[5]?.models[0]?.decision.kind).toBe('exhausted');
    decided = 0;
    await clock.advanceAsync(1_000); // the store emits at that instant
    expect(store.snapshot().accounts[5]?.models[0]?.decision.kind).toBe('proceed');
    expect(decided).toBe(1);
    // Thresholds change every decision.
    decided = 0;
    manager.setThresholds({ warn: 0.7, floor: 0.1 });
    expect(store.snapshot().accounts[0]?.models[0]?.decision.kind).toBe('low-quota');
    expect(decided).toBe(20);
    // Reasons carry relative times: an unchanged part is rebuilt after a minute.
    await clock.advanceAsync(0);
    decided = 0;
    await clock.advanceAsync(60_000);
    store.snapshot();
    expect(decided).toBe(20);
    // Removed accounts leave the snapshot.
    registry.remove('a7');
    expect(store.snapshot().accounts.map((a) => a.account.id)).not.toContain('a7');
    store.dispose();
  });
});
