import { beforeEach, describe, expect, it } from 'vitest';
import { AccountRegistry } from '../../../src/core/accountRegistry';
import { VirtualClock } from '../../../src/core/clock';
import { UsageLedger } from '../../../src/core/ledger/ledger';
import type { Lease } from '../../../src/core/pool/accountPool';
import { AccountPool, NoAccountCanServeError } from '../../../src/core/pool/accountPool';
import { ProviderError } from '../../../src/core/provider';
import { QuotaManager } from '../../../src/core/quotaManager';
import { FakeProvider, makeAccount } from '../../support/fakeProvider';

const MODEL = 'claude-sonnet-4-6';
const H = 3_600_000;

let clock: VirtualClock;
let provider: FakeProvider;
let registry: AccountRegistry;
let manager: QuotaManager;
let ledger: UsageLedger;
let pool: AccountPool;
let logs: string[];

async function setup(
  accounts: Array<[id: string, remaining: number, tier?: 'FREE' | 'PRO' | 'ULTRA']>,
  limits: unknown[] = [],
) {
  clock = new VirtualClock(Date.UTC(2026, 10, 23, 9));
  provider = new FakeProvider(clock);
  registry = new AccountRegistry();
  manager = new QuotaManager({ clock, provider });
  ledger = new UsageLedger({ clock, config: { limits } });
  logs = [];
  pool = new AccountPool({
    clock,
    registry,
    manager,
    ledger,
    logger: { info: (m) => logs.push(m), warn: (m) => logs.push(`WARN ${m}`) },
  });
  for (const [id, remaining, tier] of accounts) {
    registry.add(makeAccount(id, { tier: tier ?? 'PRO' }));
    provider.setModels(id, { [MODEL]: { remaining, resetInMs: 5 * H } });
  }
  await Promise.all(registry.list().map((a) => manager.refresh(a)));
}

const ok = (lease: Lease, tokens = 100) =>
  pool.release(lease, { kind: 'success', usage: { inputTokens: tokens, outputTokens: tokens } });

describe('AccountPool', () => {
  beforeEach(() => setup([]));

  it('picks the best account by the prioritizer when there is no session or pin', async () => {
    await setup([
      ['a', 0.3],
      ['b', 0.9],
      ['c', 0.6],
    ]);
    const lease = pool.acquire(MODEL, null);
    expect(lease.account.id).toBe('b');
    expect(lease.reservationId).toBeTruthy();
    expect(ledger.reservedFor('b', MODEL).count).toBe(1);
  });

  it('keeps a session on its account, also when it is low, and rebinds when it is exhausted', async () => {
    await setup([
      ['a', 0.9],
      ['b', 0.5],
    ]);
    const first = pool.acquire(MODEL, 's1');
    expect(first.account.id).toBe('a');
    ok(first);
    // a drops to low (below warn, above floor): the session stays, with a warning.
    provider.setModels('a', { [MODEL]: { remaining: 0.08, resetInMs: 5 * H } });
    await manager.refresh(registry.get('a')!);
    const second = pool.acquire(MODEL, 's1');
    expect(second).toMatchObject({ reason: 'session' });
    expect(second.account.id).toBe('a');
    expect(logs.some((l) => l.startsWith('WARN pool: session stays on a with low quota'))).toBe(true);
    ok(second);
    // a is exhausted: the session moves to b and stays there.
    provider.setModels('a', { [MODEL]: { remaining: 0.01, resetInMs: 5 * H } });
    await manager.refresh(registry.get('a')!);
    const third = pool.acquire(MODEL, 's1');
    expect(third.account.id).toBe('b');
    ok(third);
    expect(pool.acquire(MODEL, 's1')).toMatchObject({ reason: 'session', account: { id: 'b' } });
  });

  it('holds a pin unless the pinned account cannot serve', async () => {
    await setup([
      ['a', 0.2],
      ['b', 0.9],
    ]);
    pool.pin('a');
    expect(pool.acquire(MODEL, null)).toMatchObject({ reason: 'pinned', account: { id: 'a' } });
    pool.release(pool.acquire(MODEL, null), {
      kind: 'error',
      error: new ProviderError('quota-exhausted', 'out', { resetTime: clock.now() + 3 * H }),
    });
    expect(pool.acquire(MODEL, null).account.id).toBe('b');
    expect(() => pool.pin('nope')).toThrow(/no such account/);
  });

  it('sets a quota cooldown until the reset on a 429, even days away, and feeds the cache', async () => {
    await setup([
      ['a', 0.9],
      ['b', 0.5],
    ]);
    const lease = pool.acquire(MODEL, null);
    const reset = clock.now() + 3 * 24 * H;
    pool.release(lease, {
      kind: 'error',
      error: new ProviderError('quota-exhausted', 'out', { resetTime: reset }),
    });
    const cd = manager.activeCooldown('a', MODEL);
    expect(cd?.until).toBe(reset);
    expect(manager.decide(registry.get('a')!, MODEL).kind).toBe('exhausted');
    // The pool shares quota: other Claude models of a are out too.
    expect(manager.decide(registry.get('a')!, 'claude-opus-4-6-thinking').kind).toBe('exhausted');
    expect(pool.acquire(MODEL, null).account.id).toBe('b');
  });

  it('uses short, escalating cooldowns for rate limits and counts simultaneous 429s once', async () => {
    await setup([
      ['a', 0.9],
      ['b', 0.5],
    ]);
    pool.pin('a');
    const t0 = clock.now();
    const leases = [pool.acquire(MODEL, null), pool.acquire(MODEL, null)];
    expect(leases.map((l) => l.account.id)).toEqual(['a', 'a']);
    for (const l of leases)
      pool.release(l, { kind: 'error', error: new ProviderError('rate-limited', 'slow down') });
    expect(manager.activeCooldown('a', MODEL)!.until - t0).toBe(1_000);
    // While a cools down, the pin yields to b.
    expect(pool.acquire(MODEL, null).account.id).toBe('b');
    await clock.advanceAsync(5_000);
    pool.release(pool.acquire(MODEL, null), {
      kind: 'error',
      error: new ProviderError('rate-limited', 'slow down'),
    });
    expect(manager.activeCooldown('a', MODEL)!.until - clock.now()).toBe(2_000);
    // A delay given by the upstream wins.
    await clock.advanceAsync(5_000);
    pool.release(pool.acquire(MODEL, null), {
      kind: 'error',
      error: new ProviderError('rate-limited', 'slow down', { retryAfterMs: 7_000 }),
    });
    expect(manager.activeCooldown('a', MODEL)!.until - clock.now()).toBe(7_000);
  });

  it('takes an account out of rotation on VALIDATION_REQUIRED or a ban, with reason and URL', async () => {
    await setup([
      ['a', 0.9],
      ['b', 0.5],
      ['c', 0.4],
    ]);
    pool.release(pool.acquire(MODEL, null), {
      kind: 'error',
      error: new ProviderError('verification-required', 'Verify your account', {
        url: 'https://example.com/v',
      }),
    });
    expect(registry.get('a')!.status).toEqual({
      kind: 'needs-verification',
      reason: 'Verify your account',
      url: 'https://example.com/v',
    });
    pool.release(pool.acquire(MODEL, null), {
      kind: 'error',
      error: new ProviderError('forbidden', 'Terms of Service'),
    });
    expect(registry.get('b')!.status.kind).toBe('restricted');
    expect(pool.acquire(MODEL, null).account.id).toBe('c');
  });

  it('throws NoAccountCanServe with the earliest time an account serves again', async () => {
    await setup([
      ['a', 0.9],
      ['b', 0.5],
    ]);
    const now = clock.now();
    pool.release(pool.acquire(MODEL, null), {
      kind: 'error',
      error: new ProviderError('quota-exhausted', 'x', { resetTime: now + 4 * H }),
    });
    pool.release(pool.acquire(MODEL, null), {
      kind: 'error',
      error: new ProviderError('quota-exhausted', 'x', { resetTime: now + 2 * H }),
    });
    let caught: unknown;
    try {
      pool.acquire(MODEL, 's');
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(NoAccountCanServeError);
    expect((caught as NoAccountCanServeError).availableAt).toBe(now + 2 * H);
    expect((caught as Error).message).toMatch(/No account can serve claude-sonnet-4-6 now \(a: .*; b: .*\)/);
  });

  it('keeps accounts in rotation after 5xx, resets and 401s, lowering their priority instead', async () => {
    await setup([
      ['a', 0.9],
      ['b', 0.5],
    ]);
    for (const error of [
      new ProviderError('transient', 'the upstream failed with 500', { status: 500 }),
      new ProviderError('transient', 'network error ECONNRESET'),
      new ProviderError('auth-expired', 'rejected again after a refresh (401)', { status: 401 }),
      new ProviderError('invalid-response', 'generateContent answered with an unexpected shape'),
    ]) {
      const lease = pool.acquire(MODEL, null);
      expect(lease.account.id).toBe('a');
      pool.release(lease, { kind: 'error', error });
      expect(manager.listCooldowns()).toEqual([]);
      // a has the better quota but just failed: b comes first now, and a is still there behind it.
      const next = pool.acquire(MODEL, null);
      expect(next.account.id).toBe('b');
      expect(pool.acquire(MODEL, null, { exclude: new Set(['b']) }).account.id).toBe('a');
      ok(next);
      // A success on a clears its failures.
      ok(pool.acquire(MODEL, null, { exclude: new Set(['b']) }));
    }
    // A 503 that says when to come back keeps the account out that long, no longer.
    const lease = pool.acquire(MODEL, null);
    pool.release(lease, {
      kind: 'error',
      error: new ProviderError('transient', '503', { status: 503, retryAfterMs: 3_000 }),
    });
    expect(manager.listCooldowns().map((c) => [c.accountId, c.kind, c.until - clock.now()])).toEqual([
      ['a', 'transient', 3_000],
    ]);
  });

  it('says why no account can serve: quota, rate limit, verification, sign-in, limits', async () => {
    await setup([
      ['a', 0.9],
      ['b', 0.5],
    ]);
    const now = clock.now();
    const why = (): NoAccountCanServeError => {
      try {
        pool.acquire(MODEL, null);
      } catch (e) {
        if (e instanceof NoAccountCanServeError) return e;
        throw e;
      }
      throw new Error('an account was granted');
    };
    const url = 'https://accounts.example.com/verify?x=1';
    registry.update('a', { status: { kind: 'needs-verification', reason: 'Verify it', url } });
    registry.update('b', { status: { kind: 'needs-verification', reason: 'Verify it' } });
    expect(why()).toMatchObject({ why: 'needs-verification', availableAt: null, verificationUrl: url });
    registry.update('b', { status: { kind: 'disabled', reason: 'sign in again' } });
    expect(why()).toMatchObject({ why: 'needs-verification' });
    registry.update('a', { status: { kind: 'disabled', reason: 'disabled by you' } });
    expect(why()).toMatchObject({ why: 'needs-sign-in', availableAt: null });
    registry.update('b', { status: { kind: 'disabled', reason: 'disabled by you' } });
    expect(why()).toMatchObject({ why: 'disabled' });
    // A quota-exhausted account beside a disabled one: a 429-kind reason with the reset.
    registry.update('a', { status: { kind: 'active' } });
    manager.setCooldown({
      accountId: 'a',
      model: MODEL,
      until: now + H,
      kind: 'quota-exhausted',
      reason: 'q',
    });
    expect(why()).toMatchObject({ why: 'quota', availableAt: now + H });
    registry.update('b', { status: { kind: 'active' } });
    manager.setCooldown({
      accountId: 'b',
      model: MODEL,
      until: now + 5_000,
      kind: 'rate-limited',
      reason: 'r',
    });
    expect(why()).toMatchObject({ why: 'rate-limited', availableAt: now + 5_000 });
    manager.clearCooldowns();
    manager.setCooldown({
      accountId: 'a',
      model: MODEL,
      until: now + 9_000,
      kind: 'transient',
      reason: 'stalled',
    });
    manager.setCooldown({
      accountId: 'b',
      model: MODEL,
      until: now + 7_000,
      kind: 'transient',
      reason: 'stalled',
    });
    expect(why()).toMatchObject({ why: 'upstream-failing', availableAt: now + 7_000 });
  });

  it('says "limit" when the user limits refuse every account', async () => {
    await setup([['a', 0.9]], [{ account: 'a', window: 'daily', requests: 1 }]);
    ok(pool.acquire(MODEL, null));
    expect(() => pool.acquire(MODEL, null)).toThrow(expect.objectContaining({ why: 'limit' }));
  });

  it('serves below the floor as the last resort, most remaining first, unless the floor is strict', async () => {
    await setup([
      ['a', 0.02],
      ['b', 0.04],
      ['c', 0],
    ]);
    const lease = pool.acquire(MODEL, null);
    expect(lease.account.id).toBe('b');
    expect(lease.reason).toMatch(/last resort below the floor/);
    const strict = new AccountPool({ clock, registry, manager, ledger, strictFloor: true });
    expect(() => strict.acquire(MODEL, null)).toThrow(NoAccountCanServeError);
  });

  it('gives a reservation the lifetime asked for', async () => {
    await setup([['a', 0.9]]);
    pool.acquire(MODEL, null, { ttlMs: 1_000 });
    expect(ledger.reservedFor('a', MODEL).count).toBe(1);
    clock.advance(1_500);
    expect(ledger.reservedFor('a', MODEL).count).toBe(0);
  });

  it('spreads parallel acquires over accounts by their reservations', async () => {
    await setup([
      ['a', 0.5],
      ['b', 0.5],
      ['c', 0.5],
      ['d', 0.5],
    ]);
    const pool2 = new AccountPool({ clock, registry, manager, ledger, requestFraction: 0.05 });
    const leases = Array.from({ length: 20 }, () => pool2.acquire(MODEL, null));
    const counts = new Map<string, number>();
    for (const l of leases) counts.set(l.account.id, (counts.get(l.account.id) ?? 0) + 1);
    expect([...counts.values()].sort()).toEqual([5, 5, 5, 5]);
    // Releasing gives the quota back to the ranking.
    for (const l of leases) pool2.release(l, { kind: 'aborted' });
    expect(['a', 'b', 'c', 'd'].map((id) => ledger.reservedFor(id, MODEL).count)).toEqual([0, 0, 0, 0]);
  });

  it('skips an account whose reservation a user limit refuses', async () => {
    await setup(
      [
        ['a', 0.9],
        ['b', 0.5],
      ],
      [{ account: 'a', window: 'daily', requests: 1 }],
    );
    ok(pool.acquire(MODEL, null));
    const next = pool.acquire(MODEL, null);
    expect(next.account.id).toBe('b');
    expect(logs.some((l) => /a skipped for claude-sonnet-4-6: .*limit/i.test(l))).toBe(true);
  });

  it('records usage and releases the reservation on success, and reports the current account', async () => {
    await setup([['a', 0.9]]);
    const lease = pool.acquire(MODEL, null);
    ok(lease, 250);
    expect(ledger.reservedFor('a', MODEL).count).toBe(0);
    expect(ledger.usage('a', MODEL)).toMatchObject({ requests: 1, inputTokens: 250, outputTokens: 250 });
    expect(pool.current()).toEqual({ accountId: 'a', model: MODEL });
  });

  it('fails over with an exclude set and forgets removed accounts', async () => {
    await setup([
      ['a', 0.9],
      ['b', 0.5],
    ]);
    const first = pool.acquire(MODEL, 's');
    pool.release(first, { kind: 'error', error: new ProviderError('transient', '503') });
    const second = pool.acquire(MODEL, 's', { exclude: new Set(['a']) });
    expect(second.account.id).toBe('b');
    pool.pin('b');
    pool.forget('b');
    expect(pool.pinned()).toBeNull();
  });

  it('lets sessions expire after their TTL', async () => {
    await setup([
      ['a', 0.5],
      ['b', 0.9],
    ]);
    const p = new AccountPool({ clock, registry, manager, ledger, sessionTtlMs: 60_000 });
    p.pin('a');
    ok(p.acquire(MODEL, 's'));
    p.pin(null);
    expect(p.acquire(MODEL, 's').account.id).toBe('a');
    await clock.advanceAsync(61_000);
    expect(p.acquire(MODEL, 's').account.id).toBe('b');
  });
});
