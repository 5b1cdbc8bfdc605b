import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../src/core/clock';
import { ConfigError } from '../../../src/core/errors';
import { ProviderError } from '../../../src/core/provider';
import { QuotaManager } from '../../../src/core/quotaManager';
import type { QuotaManagerChange } from '../../../src/core/quotaManager';
import { FakeProvider, makeAccount } from '../../support/fakeProvider';

const M = 'claude-sonnet-4-6';
const HOUR = 3_600_000;

function setup(ttlMs = 60_000) {
  const clock = new VirtualClock(1_000_000);
  const provider = new FakeProvider(clock);
  const manager = new QuotaManager({ clock, provider, ttlMs });
  return { clock, provider, manager, account: makeAccount('a1') };
}

describe('QuotaManager.check', () => {
  it('fetches on a miss, then answers from the cache', async () => {
    const { provider, manager, account } = setup();
    provider.setModels('a1', { [M]: { remaining: 0.6, resetInMs: HOUR } });
    const d = await manager.check(account, M);
    expect(d).toMatchObject({ kind: 'proceed', remainingFraction: 0.6, freshness: 'fresh', degraded: false });
    await manager.check(account, M);
    expect(provider.calls('a1')).toBe(1);
  });

  it('shares one fetch among 100 concurrent checks of one account', async () => {
    const { clock, provider, manager, account } = setup();
    provider.setModels('a1', { [M]: { remaining: 0.6 }, 'gemini-3-flash': { remaining: 0.2 } });
    provider.setDelay('a1', 500);
    const checks = Array.from({ length: 100 }, (_, i) =>
      manager.check(account, i % 2 ? M : 'gemini-3-flash'),
    );
    await clock.advanceAsync(500);
    const decisions = await Promise.all(checks);
    expect(provider.calls('a1')).toBe(1);
    expect(decisions.every((d) => d.freshness === 'fresh')).toBe(true);
  });

  it('answers a stale entry at once while one background refresh runs', async () => {
    const { clock, provider, manager, account } = setup(60_000);
    provider.setModels('a1', { [M]: { remaining: 0.6 } });
    await manager.check(account, M);
    clock.advance(60_000);
    provider.setModels('a1', { [M]: { remaining: 0.4 } });
    provider.setDelay('a1', 1_000);
    const stale = await manager.check(account, M);
    expect(stale).toMatchObject({ freshness: 'stale', remainingFraction: 0.6 });
    await manager.check(account, M);
    expect(manager.isRefreshing('a1')).toBe(true);
    await clock.advanceAsync(1_000);
    expect(provider.calls('a1')).toBe(2);
    expect(manager.decide(account, M)).toMatchObject({ freshness: 'fresh', remainingFraction: 0.4 });
  });

  it('when a fetch fails, decides on the last known data and says degraded', async () => {
    const { clock, provider, manager, account } = setup(60_000);
    provider.setModels('a1', { [M]: { remaining: 0.07 } });
    await manager.check(account, M);
    clock.advance(60_000);
    provider.failAlways('a1', new ProviderError('transient', 'upstream 503'));
    await manager.refresh(account).catch(() => undefined);
    const d = await manager.check(account, M);
    expect(d).toMatchObject({
      kind: 'low-quota',
      remainingFraction: 0.07,
      degraded: true,
      freshness: 'stale',
    });
    await manager.settled('a1'); // the stale check started a background refresh; it fails too
    expect(manager.fetchState('a1')).toMatchObject({
      failing: true,
      consecutiveFailures: 2,
      lastError: { message: 'upstream 503', kind: 'transient' },
    });
  });

  it('with no data and a failing fetch, proceeds with unknown remaining, degraded, missing', async () => {
    const { provider, manager, account } = setup();
    provider.failNext('a1', new ProviderError('transient', 'down'));
    const d = await manager.check(account, M);
    expect(d).toMatchObject({
      kind: 'proceed',
      remainingFraction: null,
      degraded: true,
      freshness: 'missing',
    });
  });

  it('a success after failures clears degraded', async () => {
    const { provider, manager, account } = setup();
    provider.setModels('a1', { [M]: { remaining: 0.5 } });
    provider.failNext('a1');
    await manager.check(account, M);
    await manager.refresh(account);
    expect(manager.decide(account, M).degraded).toBe(false);
    expect(manager.fetchState('a1').consecutiveFailures).toBe(0);
  });

  it('rejects reports that fail validation or answer for another account', async () => {
    const { provider, manager, account } = setup();
    provider.setReport('a1', (_a, now) => ({
      accountId: 'a1',
      fetchedAt: now,
      models: [{ model: M, remainingFraction: 2, resetTime: null, source: 'models', fetchedAt: now }],
      buckets: [],
    }));
    await expect(manager.refresh(account)).rejects.toThrow(/invalid report/);
    provider.setReport('a1', (_a, now) => ({ accountId: 'other', fetchedAt: now, models: [], buckets: [] }));
    await expect(manager.refresh(account)).rejects.toThrow(/answered for account "other"/);
    expect(manager.fetchState('a1').lastError?.kind).toBe('invalid-response');
  });

  it('does not fetch for inactive accounts and explains why', async () => {
    const { provider, manager } = setup();
    const account = makeAccount('a1', {
      status: { kind: 'needs-verification', reason: 'verify in a browser' },
    });
    const d = await manager.check(account, M);
    expect(d.kind).toBe('exhausted');
    expect(d.reason).toMatch(/needs-verification: verify in a browser/);
    expect(provider.calls()).toBe(0);
  });

  it('uses the minimum over sources (a weekly bucket binds over a full models reading)', async () => {
    const { provider, manager, account } = setup();
    provider.setModels('a1', {
      [M]: [
        { remaining: 1, source: 'models' },
        { remaining: 0.03, source: 'bucket-weekly', resetInMs: 5 * 24 * HOUR },
      ],
    });
    const d = await manager.check(account, M);
    expect(d).toMatchObject({ kind: 'exhausted', remainingFraction: 0.03, bindingSource: 'bucket-weekly' });
  });
});

describe('QuotaManager reset times', () => {
  it('a reading past its reset time stops binding: the next source binds, or the quota is unknown', async () => {
    const { clock, provider, manager, account } = setup(10 * HOUR);
    provider.setModels('a1', {
      [M]: [
        { remaining: 0.01, resetInMs: HOUR, source: 'bucket-5h' },
        { remaining: 0.5, resetInMs: 5 * 24 * HOUR, source: 'bucket-weekly' },
      ],
      'gemini-3-flash': { remaining: 0, resetInMs: HOUR },
    });
    await manager.check(account, M);
    expect(manager.decide(account, M)).toMatchObject({ kind: 'exhausted', bindingSource: 'bucket-5h' });
    clock.advance(HOUR - 1);
    expect(manager.decide(account, M).kind).toBe('exhausted');
    clock.advance(1);
    expect(manager.decide(account, M)).toMatchObject({
      kind: 'proceed',
      remainingFraction: 0.5,
      bindingSource: 'bucket-weekly',
      freshness: 'stale',
    });
    const flash = manager.decide(account, 'gemini-3-flash');
    expect(flash).toMatchObject({ kind: 'proceed', remainingFraction: null, freshness: 'stale' });
    expect(flash.reason).toMatch(/has reset since the last reading/);
    // A check on such an entry refreshes it in the background.
    provider.setModels('a1', {
      [M]: { remaining: 1 },
      'gemini-3-flash': { remaining: 0.9, resetInMs: 5 * HOUR },
    });
    await manager.check(account, 'gemini-3-flash');
    await manager.settled('a1');
    expect(provider.calls('a1')).toBe(2);
    expect(manager.decide(account, 'gemini-3-flash')).toMatchObject({
      remainingFraction: 0.9,
      freshness: 'fresh',
    });
  });
});

describe('QuotaManager thresholds', () => {
  it('defaults to warn 10% / floor 5% and validates changes', () => {
    const { manager } = setup();
    expect(manager.thresholds).toEqual({ warn: 0.1, floor: 0.05 });
    expect(() => manager.setThresholds({ warn: 0.05, floor: 0.2 })).toThrow(ConfigError);
    expect(() => manager.setThresholds({ warn: 0.05, floor: 0.2 })).toThrow(
      /floor \(20%\).*warn threshold \(5%\)/,
    );
    expect(manager.thresholds).toEqual({ warn: 0.1, floor: 0.05 });
    manager.setThresholds({ warn: 0.3, floor: 0.2 });
    manager.applyReport({
      accountId: 'a1',
      fetchedAt: 1_000_000,
      models: [
        { model: M, remainingFraction: 0.25, resetTime: null, source: 'models', fetchedAt: 1_000_000 },
      ],
      buckets: [],
    });
    expect(manager.decide(makeAccount('a1'), M).kind).toBe('low-quota');
  });

  it('rejects bad thresholds at construction', () => {
    const clock = new VirtualClock(0);
    expect(
      () =>
        new QuotaManager({ clock, provider: new FakeProvider(clock), thresholds: { warn: 0.1, floor: 0.1 } }),
    ).toThrow(ConfigError);
  });
});

describe('QuotaManager cooldowns', () => {
  it('a per-model cooldown forces exhausted for that model only, and expires', async () => {
    const { clock, provider, manager, account } = setup(10 * HOUR);
    provider.setModels('a1', { [M]: { remaining: 0.9 }, 'gemini-3-flash': { remaining: 0.9 } });
    await manager.check(account, M);
    manager.setCooldown({
      accountId: 'a1',
      model: M,
      until: clock.now() + 30_000,
      kind: 'rate-limited',
      reason: '429 rate limit',
    });
    expect(manager.decide(account, M)).toMatchObject({
      kind: 'exhausted',
      cooldownUntil: clock.now() + 30_000,
    });
    expect(manager.decide(account, 'gemini-3-flash').kind).toBe('proceed');
    expect(manager.listCooldowns('a1')).toHaveLength(1);
    clock.advance(29_999);
    expect(manager.decide(account, M).kind).toBe('exhausted');
    clock.advance(1);
    expect(manager.decide(account, M).kind).toBe('proceed');
    expect(manager.listCooldowns()).toEqual([]);
  });

  it('a whole-account cooldown covers every model; clear removes it', async () => {
    const { clock, manager, account } = setup();
    manager.setCooldown({
      accountId: 'a1',
      until: clock.now() + HOUR,
      kind: 'auth',
      reason: 'token refresh failed',
    });
    expect(manager.decide(account, M).kind).toBe('exhausted');
    expect(manager.decide(account, 'anything').reason).toMatch(/auth, account/);
    expect(manager.clearCooldown('a1')).toBe(true);
    expect(manager.decide(account, M).kind).toBe('proceed');
  });

  it('keeps the later-ending cooldown unless told to replace', () => {
    const { clock, manager } = setup();
    const now = clock.now();
    manager.setCooldown({
      accountId: 'a1',
      model: M,
      until: now + 5 * HOUR,
      kind: 'quota-exhausted',
      reason: 'out',
    });
    manager.setCooldown({
      accountId: 'a1',
      model: M,
      until: now + 5_000,
      kind: 'rate-limited',
      reason: 'short',
    });
    expect(manager.activeCooldown('a1', M)?.kind).toBe('quota-exhausted');
    manager.setCooldown({
      accountId: 'a1',
      model: M,
      until: now + 5_000,
      kind: 'manual',
      reason: 'user',
      replace: true,
    });
    expect(manager.activeCooldown('a1', M)?.kind).toBe('manual');
  });

  it("a quota-exhausted cooldown covers the model's whole quota pool; others only the model", () => {
    const { clock, manager, account } = setup();
    const until = clock.now() + HOUR;
    manager.setCooldown({
      accountId: 'a1',
      model: 'claude-sonnet-4-6',
      until,
      kind: 'quota-exhausted',
      reason: 'out',
    });
    expect(manager.decide(account, 'claude-opus-4-6-thinking')).toMatchObject({
      kind: 'exhausted',
      cooldownUntil: until,
    });
    expect(manager.decide(account, 'gpt-oss-120b-medium').kind).toBe('proceed');
    manager.setCooldown({
      accountId: 'a1',
      model: 'gemini-3-pro-high',
      until,
      kind: 'rate-limited',
      reason: 'slow down',
    });
    expect(manager.decide(account, 'gemini-3-pro-low').kind).toBe('proceed');
    manager.setCooldown({
      accountId: 'a1',
      model: 'gemini-3-pro-high',
      until,
      kind: 'capacity',
      reason: 'x',
      pool: true,
    });
    expect(manager.decide(account, 'gemini-pro-agent').kind).toBe('exhausted');
    manager.setCooldown({
      accountId: 'a1',
      model: 'custom-model',
      until,
      kind: 'quota-exhausted',
      reason: 'x',
    });
    expect(manager.listCooldowns('a1').filter((c) => c.model === 'custom-model')).toHaveLength(1);
  });

  it('validates cooldowns', () => {
    const { manager } = setup();
    expect(() => manager.setCooldown({ accountId: '', until: 1, kind: 'manual', reason: 'x' })).toThrow(
      /Invalid cooldown/,
    );
  });

  it('a quota cooldown ends early when a refresh shows the quota back', async () => {
    const { clock, provider, manager, account } = setup();
    manager.setCooldown({
      accountId: 'a1',
      model: M,
      until: clock.now() + 100 * HOUR,
      kind: 'quota-exhausted',
      reason: 'QUOTA_EXHAUSTED',
    });
    manager.setCooldown({
      accountId: 'a1',
      model: 'gemini-3-flash',
      until: clock.now() + 100 * HOUR,
      kind: 'quota-exhausted',
      reason: 'QUOTA_EXHAUSTED',
    });
    manager.setCooldown({
      accountId: 'a1',
      model: 'gemini-3-pro-high',
      until: clock.now() + HOUR,
      kind: 'capacity',
      reason: 'no capacity',
    });
    clock.advance(1_000);
    provider.setModels('a1', {
      [M]: { remaining: 0.8 },
      'gemini-3-flash': { remaining: 0.01 },
      'gemini-3-pro-high': { remaining: 0.9 },
    });
    const events: QuotaManagerChange[] = [];
    manager.onChange((e) => events.push(e));
    await manager.refresh(account);
    expect(manager.decide(account, M).kind).toBe('proceed');
    expect(manager.decide(account, 'gemini-3-flash').cooldownUntil).not.toBeNull();
    // Only quota cooldowns end on quota news; a capacity cooldown is not about quota.
    expect(manager.decide(account, 'gemini-3-pro-high').kind).toBe('exhausted');
    expect(events.some((e) => e.kind === 'cooldown')).toBe(true);
  });

  it('an old report (fetched before the cooldown) does not end it', () => {
    const { clock, manager, account } = setup();
    const before = clock.now();
    clock.advance(5_000);
    manager.setCooldown({
      accountId: 'a1',
      model: M,
      until: clock.now() + HOUR,
      kind: 'quota-exhausted',
      reason: 'out',
    });
    manager.applyReport({
      accountId: 'a1',
      fetchedAt: before,
      models: [{ model: M, remainingFraction: 1, resetTime: null, source: 'models', fetchedAt: before }],
      buckets: [],
    });
    expect(manager.decide(account, M).kind).toBe('exhausted');
  });
});

describe('QuotaManager reports', () => {
  it('applyReport replaces the account; merge keeps other sources and models', () => {
    const { clock, manager, account } = setup();
    const t = clock.now();
    const r = (model: string, remainingFraction: number, source: 'models' | 'response' = 'models') => ({
      model,
      remainingFraction,
      resetTime: null,
      source,
      fetchedAt: t,
    });
    manager.applyReport({ accountId: 'a1', fetchedAt: t, models: [r(M, 0.9), r('x', 0.5)], buckets: [] });
    manager.mergeReadings('a1', [r(M, 0.02, 'response')]);
    expect(manager.decide(account, M)).toMatchObject({ kind: 'exhausted', bindingSource: 'response' });
    expect(manager.cache.peek('a1', M)?.readings).toHaveLength(2);
    expect(manager.decide(account, 'x').remainingFraction).toBe(0.5);
    manager.applyReport({ accountId: 'a1', fetchedAt: t, models: [r(M, 0.7)], buckets: [] });
    expect(manager.cache.peek('a1', 'x')).toBeUndefined();
    expect(manager.decide(account, M).remainingFraction).toBe(0.7);
  });

  it('rejects an invalid report with the offending field', () => {
    const { manager } = setup();
    expect(() => manager.applyReport({ accountId: 'a1', fetchedAt: -1, models: [], buckets: [] })).toThrow(
      /fetchedAt/,
    );
  });

  it('keeps buckets per account and forgets everything on request', async () => {
    const { provider, manager, account } = setup();
    provider.setModels('a1', { [M]: { remaining: 0.5 } });
    provider.setBuckets('a1', [
      {
        id: '3p-5h',
        window: '5h',
        group: 'Claude and GPT models',
        remainingFraction: 0.5,
        resetTime: null,
        models: [M],
      },
    ]);
    await manager.refresh(account);
    expect(manager.bucketsOf('a1')).toHaveLength(1);
    manager.forget('a1');
    expect(manager.bucketsOf('a1')).toHaveLength(0);
    expect(manager.cache.size).toBe(0);
    expect(manager.fetchState('a1').lastFetchAt).toBeNull();
  });

  it('decide with peek does not count cache hits', async () => {
    const { provider, manager, account } = setup();
    provider.setModels('a1', { [M]: { remaining: 0.5 } });
    await manager.refresh(account);
    const before = manager.cache.stats().hits;
    manager.decide(account, M, { peek: true });
    expect(manager.cache.stats().hits).toBe(before);
    manager.decide(account, M);
    expect(manager.cache.stats().hits).toBe(before + 1);
  });
});
