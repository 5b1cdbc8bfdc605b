import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/core/errors';
import { parseLedgerConfig, parseLimits, parseThresholds } from '../../../src/core/ledger/schema';

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('ledger settings validation', () => {
  it('defaults: UTC, 50/80/90, no limits', () => {
    const c = parseLedgerConfig({});
    expect(c.timeZone).toBe('UTC');
    expect(c.thresholds).toEqual([50, 80, 90]);
    expect(c.limits).toEqual([]);
  });

  it('accepts global, per-account, per-group and account × group limits', () => {
    const limits = parseLimits([
      { window: 'daily', requests: 1000 },
      { account: 'a@x', window: '5h', tokens: 2_000_000 },
      { pool: 'claude', window: 'weekly', requests: 500, tokens: 9_000_000 },
      { account: 'a@x', pool: 'gemini-pro', window: 'daily', requests: 10 },
    ]);
    expect(limits).toHaveLength(4);
  });

  it('says what is wrong with a negative number', () => {
    const m = errorOf(() => parseLimits([{ window: 'daily', requests: -5 }]));
    expect(m).toContain('0.requests');
    expect(m).toContain('greater than 0');
  });

  it('names the allowed windows for an unknown one', () => {
    const m = errorOf(() => parseLimits([{ window: 'monthly', requests: 5 }]));
    expect(m).toContain('unknown window "monthly"');
    expect(m).toContain('"daily", "5h" or "weekly"');
  });

  it('rejects an empty limit with an example', () => {
    const m = errorOf(() => parseLimits([{ window: 'daily' }]));
    expect(m).toContain('needs "requests" and/or "tokens"');
  });

  it('rejects unknown keys (a typo would otherwise silently mean "no limit")', () => {
    expect(errorOf(() => parseLimits([{ window: 'daily', request: 5 }]))).toMatch(/request/);
  });

  it('rejects fractional counts and empty pools', () => {
    expect(errorOf(() => parseLimits([{ window: 'daily', tokens: 1.5 }]))).toContain('whole number');
    expect(errorOf(() => parseLimits([{ window: 'daily', pool: '', tokens: 1 }]))).toContain(
      'pool must not be empty',
    );
  });

  it('thresholds must ascend within (0, 100]', () => {
    expect(parseThresholds([25, 75, 100])).toEqual([25, 75, 100]);
    expect(parseThresholds([])).toEqual([]);
    expect(errorOf(() => parseThresholds([80, 50]))).toContain('ascending');
    expect(errorOf(() => parseThresholds([50, 50]))).toContain('ascending');
    expect(errorOf(() => parseThresholds([0, 50]))).toContain('above 0%');
    expect(errorOf(() => parseThresholds([50, 120]))).toContain('at most 100%');
  });

  it('rejects an unknown time zone with an example of a good one', () => {
    expect(errorOf(() => parseLedgerConfig({ timeZone: 'Moon/Base' }))).toContain('IANA name');
  });
});
