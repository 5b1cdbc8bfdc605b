import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dayWindow, isValidTimeZone, localDateKey } from '../../../src/core/ledger/timeWindows';

const H = 3_600_000;
const iso = (t: number): string => new Date(t).toISOString();

describe('dayWindow', () => {
  it('in UTC, a day runs from midnight to midnight', () => {
    const w = dayWindow(Date.UTC(2026, 0, 5, 9, 30), 'UTC');
    expect(w).toEqual({ key: '2026-01-05', start: Date.UTC(2026, 0, 5), end: Date.UTC(2026, 0, 6) });
  });

  it('the last millisecond before midnight belongs to the old day, midnight to the new one', () => {
    expect(dayWindow(Date.UTC(2026, 0, 5, 23, 59, 59, 999), 'UTC').key).toBe('2026-01-05');
    expect(dayWindow(Date.UTC(2026, 0, 6), 'UTC').key).toBe('2026-01-06');
  });

  it('in New York, the spring-forward day is 23 hours and resets at 04:00 UTC', () => {
    const w = dayWindow(Date.UTC(2026, 2, 8, 12), 'America/New_York');
    expect(w.key).toBe('2026-03-08');
    expect(iso(w.start)).toBe('2026-03-08T05:00:00.000Z');
    expect(iso(w.end)).toBe('2026-03-09T04:00:00.000Z');
    expect(w.end - w.start).toBe(23 * H);
  });

  it('in New York, the fall-back day is 25 hours', () => {
    const w = dayWindow(Date.UTC(2026, 10, 1, 12), 'America/New_York');
    expect(iso(w.start)).toBe('2026-11-01T04:00:00.000Z');
    expect(w.end - w.start).toBe(25 * H);
  });

  it('handles half-hour offsets (Asia/Kolkata)', () => {
    const w = dayWindow(Date.UTC(2026, 2, 29, 12), 'Asia/Kolkata');
    expect(iso(w.start)).toBe('2026-03-28T18:30:00.000Z');
    expect(w.end - w.start).toBe(24 * H);
  });

  it('for any instant and zone, the window contains it and starts exactly at a date change', () => {
    const zones = [
      'UTC',
      'America/New_York',
      'Europe/Paris',
      'Australia/Lord_Howe',
      'America/Santiago',
      'Asia/Kathmandu',
      'Pacific/Kiritimati',
      'Pacific/Pago_Pago',
    ];
    fc.assert(
      fc.property(
        fc.integer({ min: Date.UTC(2020, 0, 1), max: Date.UTC(2032, 0, 1) }),
        fc.constantFrom(...zones),
        (t, zone) => {
          const w = dayWindow(t, zone);
          expect(w.start).toBeLessThanOrEqual(t);
          expect(t).toBeLessThan(w.end);
          expect(localDateKey(w.start, zone)).toBe(w.key);
          expect(localDateKey(w.start - 1, zone) < w.key).toBe(true);
          expect(localDateKey(w.end, zone) > w.key).toBe(true);
          expect(localDateKey(w.end - 1, zone)).toBe(w.key);
          expect(w.end - w.start).toBeGreaterThanOrEqual(22 * H);
          expect(w.end - w.start).toBeLessThanOrEqual(26 * H);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('isValidTimeZone', () => {
  it('accepts IANA names and rejects others', () => {
    expect(isValidTimeZone('Europe/Paris')).toBe(true);
    expect(isValidTimeZone('UTC')).toBe(true);
    expect(isValidTimeZone('Mars/Olympus')).toBe(false);
    expect(isValidTimeZone('')).toBe(false);
  });
});
