import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  formatDelay,
  parseDuration,
  parseResetPhrase,
  parseRetryAfter,
  parseTimestamp,
} from '../../../src/upstream/cloudcode/duration';

describe('parseDuration', () => {
  it.each([
    ['2h1m1s', 7_261_000],
    ['510.79ms', 510.79],
    ['539420.18s', 539_420_180],
    ['1.5s', 1_500],
    ['0.5h', 1_800_000],
    ['149h50m20.18s', 149 * 3_600_000 + 50 * 60_000 + 20_180],
    ['3s', 3_000],
    ['0s', 0],
    ['250us', 0.25],
    [' 1m 30s ', 90_000],
  ])('parses %s', (text, ms) => {
    expect(parseDuration(text)).toBeCloseTo(ms, 6);
  });

  it.each(['', 's', '1', '-1s', '1x', '1h2', 'h1', '1.2.3s', 'abc', '1s junk'])('refuses %j', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });

  const parts = fc.record({
    h: fc.integer({ min: 0, max: 500 }),
    m: fc.integer({ min: 0, max: 59 }),
    s: fc.integer({ min: 0, max: 59 }),
    ms: fc.integer({ min: 0, max: 999 }),
  });
  const format = (p: { h: number; m: number; s: number; ms: number }): string =>
    `${p.h ? `${p.h}h` : ''}${p.m ? `${p.m}m` : ''}${p.s ? `${p.s}s` : ''}${p.ms || !(p.h || p.m || p.s) ? `${p.ms}ms` : ''}`;
  const total = (p: { h: number; m: number; s: number; ms: number }): number =>
    p.h * 3_600_000 + p.m * 60_000 + p.s * 1_000 + p.ms;

  it('round-trips any h/m/s/ms combination', () => {
    fc.assert(fc.property(parts, (p) => parseDuration(format(p)) === total(p)));
  });

  it('round-trips fractional seconds as protobuf writes them', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10_000_000 }), fc.integer({ min: 0, max: 99 }), (s, cs) => {
        const parsed = parseDuration(`${s}.${String(cs).padStart(2, '0')}s`) as number;
        return Math.abs(parsed - (s * 1_000 + cs * 10)) < 1e-6;
      }),
    );
  });

  it('is monotonic: more of any unit never parses to less', () => {
    fc.assert(
      fc.property(parts, parts, (a, b) => {
        const lo = {
          h: Math.min(a.h, b.h),
          m: Math.min(a.m, b.m),
          s: Math.min(a.s, b.s),
          ms: Math.min(a.ms, b.ms),
        };
        const hi = {
          h: Math.max(a.h, b.h),
          m: Math.max(a.m, b.m),
          s: Math.max(a.s, b.s),
          ms: Math.max(a.ms, b.ms),
        };
        return (parseDuration(format(lo)) as number) <= (parseDuration(format(hi)) as number);
      }),
    );
  });

  it('never throws and never returns a negative or non-finite number on arbitrary strings', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (text) => {
        const out = parseDuration(text);
        return out === undefined || (Number.isFinite(out) && out >= 0);
      }),
    );
  });
});

describe('parseTimestamp', () => {
  it('parses RFC 3339 with Z, offsets and long fractions', () => {
    expect(parseTimestamp('2026-08-08T17:54:07Z')).toBe(Date.UTC(2026, 7, 8, 17, 54, 7));
    expect(parseTimestamp('2026-08-08T19:54:07+02:00')).toBe(Date.UTC(2026, 7, 8, 17, 54, 7));
    expect(parseTimestamp('2026-08-08T17:54:07.123456789Z')).toBe(Date.UTC(2026, 7, 8, 17, 54, 7, 123));
    expect(parseTimestamp('1970-01-01T00:00:00Z')).toBe(0);
  });

  it.each(['2026-08-08', 'yesterday', '2026-13-01T00:00:00Z', '2026-08-08T17:54:07', ''])(
    'refuses %j',
    (t) => {
      expect(parseTimestamp(t)).toBeUndefined();
    },
  );

  it('round-trips any ISO instant and never throws', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 4_102_444_800_000 }),
        (ms) => parseTimestamp(new Date(ms).toISOString()) === ms,
      ),
    );
    fc.assert(
      fc.property(fc.string(), (s) => parseTimestamp(s) === undefined || Number.isFinite(parseTimestamp(s))),
    );
  });
});

describe('parseRetryAfter', () => {
  const now = Date.UTC(2026, 0, 5, 9, 0, 0);
  it('reads delta seconds and HTTP dates relative to now', () => {
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter('1.5', now)).toBe(1_500);
    expect(parseRetryAfter('Mon, 05 Jan 2026 09:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Mon, 05 Jan 2026 08:00:00 GMT', now)).toBe(0);
  });
  it('refuses junk', () => {
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter('-5', now)).toBeUndefined();
    fc.assert(fc.property(fc.string(), (s) => (parseRetryAfter(s, now) ?? 0) >= 0));
  });
});

describe('parseResetPhrase', () => {
  it.each([
    ['Quota exhausted. Resets in 149h50m20s.', 149 * 3_600_000 + 50 * 60_000 + 20_000],
    ['Your quota will reset after 2h1m1s', 7_261_000],
    ['resets in 30 seconds', 30_000],
    ['Resets in 2 hours, 5 minutes and 3 seconds.', 2 * 3_600_000 + 5 * 60_000 + 3_000],
    ['reset in 1.5s', 1_500],
  ])('finds the delay in %j', (text, ms) => {
    expect(parseResetPhrase(text)).toBeCloseTo(ms, 6);
  });
  it('returns undefined without a phrase and never throws', () => {
    expect(parseResetPhrase('Rate limit exceeded')).toBeUndefined();
    expect(parseResetPhrase('resets in a while')).toBeUndefined();
    fc.assert(
      fc.property(fc.string({ maxLength: 500 }), (s) => (parseResetPhrase(`resets in ${s}`) ?? 0) >= 0),
    );
  });
});

describe('formatDelay', () => {
  it('formats short and long delays', () => {
    expect(formatDelay(250)).toBe('250ms');
    expect(formatDelay(1_500)).toBe('1.5s');
    expect(formatDelay(303_000)).toBe('5m 3s');
    expect(formatDelay(149 * 3_600_000 + 50 * 60_000 + 20_000)).toBe('149h 50m');
  });
});
