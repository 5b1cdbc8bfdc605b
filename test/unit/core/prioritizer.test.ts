import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { rankAccounts } from '../../../src/core/prioritizer';
import type { RankCandidate } from '../../../src/core/prioritizer';
import type { Decision, DecisionKind, Tier } from '../../../src/core/types';
import { makeAccount } from '../../support/fakeProvider';

const M = 'claude-sonnet-4-6';
const NOW = 1_000_000_000;
const HOUR = 3_600_000;

function cand(
  id: string,
  opts: {
    tier?: Tier;
    kind?: DecisionKind;
    remaining?: number | null;
    resetIn?: number | null;
    cooldownUntil?: number | null;
    reserved?: number;
    failures?: number[];
    active?: boolean;
  } = {},
): RankCandidate {
  const decision: Decision = {
    kind: opts.kind ?? 'proceed',
    accountId: id,
    model: M,
    remainingFraction: opts.remaining === undefined ? 0.5 : opts.remaining,
    resetTime: opts.resetIn === undefined || opts.resetIn === null ? null : NOW + opts.resetIn,
    bindingSource: 'models',
    reason: 'x',
    degraded: false,
    freshness: 'fresh',
    cooldownUntil: opts.cooldownUntil ?? null,
  };
  return {
    account: makeAccount(id, {
      tier: opts.tier ?? 'PRO',
      status: opts.active === false ? { kind: 'disabled', reason: 'off' } : { kind: 'active' },
    }),
    decision,
    reservedFraction: opts.reserved,
    failures: opts.failures,
  };
}

const ids = (cs: RankCandidate[], options = {}) => rankAccounts(cs, M, NOW, options).map((r) => r.accountId);

describe('rankAccounts', () => {
  it('excludes exhausted, cooling-down, inactive and other-model candidates', () => {
    const other = cand('other');
    other.decision = { ...other.decision, model: 'gemini-3-flash' };
    const out = ids([
      cand('ok'),
      cand('ex', { kind: 'exhausted', remaining: 0.01 }),
      cand('cool', { cooldownUntil: NOW + 1 }),
      cand('cool-over', { cooldownUntil: NOW }),
      cand('off', { active: false }),
      other,
    ]);
    expect(out).toEqual(['cool-over', 'ok']);
  });

  it('puts every proceed account before any low-quota one', () => {
    expect(
      ids([
        cand('low', { kind: 'low-quota', remaining: 0.08, tier: 'ULTRA' }),
        cand('fine', { remaining: 0.11, tier: 'FREE' }),
      ]),
    ).toEqual(['fine', 'low']);
  });

  it('prefers more remaining, then tier as a factor', () => {
    expect(ids([cand('a', { remaining: 0.3 }), cand('b', { remaining: 0.6 })])).toEqual(['b', 'a']);
    expect(
      ids([cand('free', { tier: 'FREE', remaining: 0.5 }), cand('ultra', { tier: 'ULTRA', remaining: 0.5 })]),
    ).toEqual(['ultra', 'free']);
    // A factor, not a gate: much more quota on FREE beats a little on ULTRA.
    expect(
      ids([cand('ultra', { tier: 'ULTRA', remaining: 0.2 }), cand('free', { tier: 'FREE', remaining: 0.9 })]),
    ).toEqual(['free', 'ultra']);
  });

  it('spends quota that resets soon before quota that must last a week', () => {
    const out = ids([
      cand('weekly', { remaining: 0.9, resetIn: 7 * 24 * HOUR }),
      cand('soon', { remaining: 0.6, resetIn: 80 * 60_000 }),
    ]);
    expect(out).toEqual(['soon', 'weekly']);
    // Without reset boost the plain remaining decides.
    expect(
      ids(
        [
          cand('weekly', { remaining: 0.9, resetIn: 7 * 24 * HOUR }),
          cand('soon', { remaining: 0.6, resetIn: HOUR }),
        ],
        { resetBoost: 0 },
      ),
    ).toEqual(['weekly', 'soon']);
  });

  it('subtracts reservations so parallel requests spread', () => {
    expect(ids([cand('a', { remaining: 0.5, reserved: 0.3 }), cand('b', { remaining: 0.4 })])).toEqual([
      'b',
      'a',
    ]);
    const r = rankAccounts([cand('a', { remaining: 0.2, reserved: 0.5 })], M, NOW);
    expect(r[0]?.available).toBe(0);
  });

  it('penalises recent failures only inside the window', () => {
    const recent = [NOW - 60_000, NOW - 120_000];
    expect(ids([cand('a', { remaining: 0.6, failures: recent }), cand('b', { remaining: 0.4 })])).toEqual([
      'b',
      'a',
    ]);
    const old = [NOW - 11 * 60_000];
    expect(ids([cand('a', { remaining: 0.6, failures: old }), cand('b', { remaining: 0.4 })])).toEqual([
      'a',
      'b',
    ]);
  });

  it('ranks unknown remaining below healthy known quota but above a low one', () => {
    expect(
      ids([
        cand('unknown', { remaining: null }),
        cand('known', { remaining: 0.8 }),
        cand('meh', { remaining: 0.3 }),
      ]),
    ).toEqual(['known', 'unknown', 'meh']);
  });

  it('breaks ties by account id and explains each entry', () => {
    const out = rankAccounts([cand('b'), cand('a'), cand('c')], M, NOW);
    expect(out.map((r) => r.accountId)).toEqual(['a', 'b', 'c']);
    const one = rankAccounts(
      [cand('x', { tier: 'PRO', remaining: 0.62, resetIn: 80 * 60_000, failures: [NOW - 1], reserved: 0.1 })],
      M,
      NOW,
    )[0];
    expect(one?.reason).toBe('PRO, 62% left (10% reserved), resets in 1h20m, 1 recent failure');
    expect(
      rankAccounts([cand('y', { kind: 'low-quota', remaining: 0.07, tier: 'FREE' })], M, NOW)[0]?.reason,
    ).toBe('FREE, 7% left, low');
  });

  it('honours limit', () => {
    expect(ids([cand('a'), cand('b'), cand('c')], { limit: 2 })).toEqual(['a', 'b']);
    expect(ids([cand('a')], { limit: 0 })).toEqual([]);
  });

  const arbCandidate = fc.record({
    id: fc.string({ minLength: 1, maxLength: 6 }),
    tier: fc.constantFrom<Tier>('FREE', 'PRO', 'ULTRA', 'UNKNOWN'),
    kind: fc.constantFrom<DecisionKind>('proceed', 'low-quota', 'exhausted'),
    remaining: fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { nil: null }),
    resetIn: fc.option(fc.integer({ min: -HOUR, max: 8 * 24 * HOUR }), { nil: null }),
    cooldown: fc.option(fc.integer({ min: -HOUR, max: HOUR }), { nil: null }),
    reserved: fc.double({ min: 0, max: 1, noNaN: true }),
    failures: fc.array(fc.integer({ min: -HOUR, max: 0 }), { maxLength: 3 }),
    active: fc.boolean(),
  });

  it('property: the ranking is a permutation of the usable candidates, stable under shuffling', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(arbCandidate, { selector: (c) => c.id, maxLength: 30 }),
        fc.integer(),
        (specs, seed) => {
          const cs = specs.map((s) =>
            cand(s.id, {
              tier: s.tier,
              kind: s.kind,
              remaining: s.remaining,
              resetIn: s.resetIn,
              cooldownUntil: s.cooldown === null ? null : NOW + s.cooldown,
              reserved: s.reserved,
              failures: s.failures.map((f) => NOW + f),
              active: s.active,
            }),
          );
          const ranked = ids(cs);
          const usable = cs
            .filter(
              (c) =>
                c.account.status.kind === 'active' &&
                c.decision.kind !== 'exhausted' &&
                !(c.decision.cooldownUntil !== null && c.decision.cooldownUntil > NOW),
            )
            .map((c) => c.account.id);
          expect([...ranked].sort()).toEqual([...usable].sort());
          // Deterministic shuffle from the seed.
          const shuffled = [...cs];
          let x = seed | 0 || 1;
          for (let i = shuffled.length - 1; i > 0; i--) {
            x ^= x << 13;
            x ^= x >>> 17;
            x ^= x << 5;
            const j = Math.abs(x) % (i + 1);
            [shuffled[i], shuffled[j]] = [shuffled[j] as RankCandidate, shuffled[i] as RankCandidate];
          }
          expect(ids(shuffled)).toEqual(ranked);
          // Every proceed entry precedes every low-quota entry.
          const kinds = rankAccounts(cs, M, NOW).map((r) => r.decision.kind);
          expect(
            kinds.indexOf('low-quota') === -1 || kinds.lastIndexOf('proceed') < kinds.indexOf('low-quota'),
          ).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('property: the top-k fast path returns exactly the first k of the full ranking', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(arbCandidate, { selector: (c) => c.id, minLength: 65, maxLength: 150 }),
        fc.integer({ min: 0, max: 16 }),
        (specs, k) => {
          const cs = specs.map((s) =>
            cand(s.id, {
              tier: s.tier,
              kind: s.kind === 'exhausted' ? 'proceed' : s.kind,
              remaining: s.remaining,
              resetIn: s.resetIn,
              reserved: s.reserved,
              failures: s.failures.map((f) => NOW + f),
            }),
          );
          expect(ids(cs, { limit: k })).toEqual(ids(cs).slice(0, k));
        },
      ),
      { numRuns: 100 },
    );
  });
});
