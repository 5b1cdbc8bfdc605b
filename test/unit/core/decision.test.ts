import { describe, expect, it } from 'vitest';
import {
  decide,
  effectiveQuota,
  formatDuration,
  formatPercent,
  UNKNOWN_QUOTA,
  validateThresholds,
} from '../../../src/core/decision';
import type { DecideInput } from '../../../src/core/decision';
import { ConfigError } from '../../../src/core/errors';
import { DEFAULT_THRESHOLDS } from '../../../src/core/types';
import { makeAccount } from '../../support/fakeProvider';

const base = (over: Partial<DecideInput>): DecideInput => ({
  account: makeAccount('a'),
  model: 'm',
  quota: { remainingFraction: 0.5, resetTime: null, bindingSource: 'models' },
  freshness: 'fresh',
  degraded: false,
  cooldown: undefined,
  thresholds: DEFAULT_THRESHOLDS,
  now: 0,
  ...over,
});

const q = (r: number | null, resetTime: number | null = null) => ({
  remainingFraction: r,
  resetTime,
  bindingSource: r === null ? null : ('models' as const),
});

describe('decide', () => {
  it('applies warn and floor as strict lower bounds', () => {
    expect(decide(base({ quota: q(0.1) })).kind).toBe('proceed');
    expect(decide(base({ quota: q(0.0999) })).kind).toBe('low-quota');
    expect(decide(base({ quota: q(0.05) })).kind).toBe('low-quota');
    expect(decide(base({ quota: q(0.0499) })).kind).toBe('exhausted');
    expect(decide(base({ quota: q(0) })).kind).toBe('exhausted');
  });

  it('says why, with the reset time', () => {
    const d = decide(base({ quota: q(0.62, 80 * 60_000) }));
    expect(d.reason).toBe('62% left of m, resets in 1h20m');
    expect(decide(base({ quota: q(0.02) })).reason).toMatch(/2% left of m, below the 5% floor/);
  });

  it('unknown remaining proceeds (not blocked) with the freshness it was given, and says so', () => {
    const d = decide(base({ quota: UNKNOWN_QUOTA, freshness: 'missing' }));
    expect(d).toMatchObject({
      kind: 'proceed',
      remainingFraction: null,
      freshness: 'missing',
      degraded: false,
    });
    expect(d.reason).toMatch(/not known yet/);
    expect(decide(base({ quota: UNKNOWN_QUOTA, freshness: 'missing', degraded: true })).reason).toMatch(
      /last fetch failed/,
    );
  });

  it('inactive accounts are exhausted with the status reason', () => {
    const account = makeAccount('a', { status: { kind: 'disabled', reason: 'sign in again' } });
    const d = decide(base({ account, quota: q(1) }));
    expect(d.kind).toBe('exhausted');
    expect(d.reason).toMatch(/disabled: sign in again/);
  });

  it('a cooldown in force wins over plenty of quota; an expired one does not', () => {
    const cooldown = {
      accountId: 'a',
      model: 'm',
      until: 5_000,
      kind: 'rate-limited' as const,
      reason: '429',
      setAt: 0,
    };
    const d = decide(base({ quota: q(0.9), cooldown, now: 1_000 }));
    expect(d).toMatchObject({ kind: 'exhausted', cooldownUntil: 5_000 });
    expect(d.reason).toMatch(/Cooling down \(rate-limited, m\) for 4s: 429/);
    expect(decide(base({ quota: q(0.9), cooldown, now: 5_000 })).kind).toBe('proceed');
  });

  it('marks degraded and stale in the reason', () => {
    expect(decide(base({ degraded: true })).reason).toMatch(/last refresh failed/);
    expect(decide(base({ freshness: 'stale' })).reason).toMatch(/refreshing/);
  });
});

describe('effectiveQuota', () => {
  it('is the minimum over readings with a value; ties bind to the later reset', () => {
    const r = (
      remainingFraction: number | null,
      resetTime: number | null,
      source: 'models' | 'bucket-5h',
    ) => ({
      model: 'm',
      remainingFraction,
      resetTime,
      source,
      fetchedAt: 0,
    });
    expect(effectiveQuota([r(0.4, 10, 'models'), r(0.4, 20, 'bucket-5h')])).toEqual({
      remainingFraction: 0.4,
      resetTime: 20,
      bindingSource: 'bucket-5h',
    });
    expect(effectiveQuota([])).toEqual(UNKNOWN_QUOTA);
  });
});

describe('validateThresholds', () => {
  it('accepts floor < warn', () => {
    expect(validateThresholds({ warn: 0.2, floor: 0.1 })).toEqual({ warn: 0.2, floor: 0.1 });
  });

  it('rejects floor >= warn naming both values', () => {
    expect(() => validateThresholds({ warn: 0.05, floor: 0.05 })).toThrow(ConfigError);
    expect(() => validateThresholds({ warn: 0.05, floor: 0.1 })).toThrow(
      /floor \(10%\).*warn threshold \(5%\)/,
    );
  });

  it('rejects out-of-range and missing values with guidance', () => {
    expect(() => validateThresholds({ warn: 10, floor: 5 })).toThrow(/fractions between 0 and 1/);
    expect(() => validateThresholds({ warn: 0.1 })).toThrow(/floor/);
  });
});

describe('formatters', () => {
  it('formats durations and percentages compactly', () => {
    expect(formatDuration(0)).toBe('now');
    expect(formatDuration(45_000)).toBe('45s');
    expect(formatDuration(12 * 60_000)).toBe('12m');
    expect(formatDuration(3_600_000)).toBe('1h');
    expect(formatDuration(80 * 60_000)).toBe('1h20m');
    expect(formatDuration(100 * 3_600_000)).toBe('4d4h');
    expect(formatPercent(0.625)).toBe('63%');
    expect(formatPercent(0.045)).toBe('4.5%');
    expect(formatPercent(0)).toBe('0%');
  });
});
