import { describe, expect, it } from 'vitest';
import {
  formatAgo,
  formatCountdown,
  formatLocalTime,
  formatReset,
  formatRemaining,
} from '../../../src/shared/view/format';
import { NOW } from './fixtures';

const H = 3_600_000;

describe('countdowns and local times', () => {
  it('formats countdowns compactly', () => {
    expect(formatCountdown(NOW + 80 * 60_000, NOW)).toBe('in 1h20m');
    expect(formatCountdown(NOW + 3 * 24 * H + 4 * H, NOW)).toBe('in 3d4h');
    expect(formatCountdown(NOW - 1, NOW)).toBe('now');
    expect(formatCountdown(null, NOW)).toBe('unknown');
  });

  it('formats reset times in the given zone: today, tomorrow, this week, later', () => {
    const utc = { now: NOW, timeZone: 'UTC', locale: 'en-GB' };
    expect(formatLocalTime(NOW + 3 * H, utc)).toBe('15:00');
    expect(formatLocalTime(NOW + 22 * H, utc)).toBe('tomorrow 10:00');
    expect(formatLocalTime(NOW + 3 * 24 * H, utc)).toBe('Thu 12:00');
    expect(formatLocalTime(NOW + 10 * 24 * H, utc)).toBe('3 Dec 12:00');
  });

  it('uses the zone, not the host: the same instant is tomorrow in Tokyo', () => {
    const t = NOW + 13 * H; // 01:00 UTC next day
    expect(formatLocalTime(t, { now: NOW, timeZone: 'UTC', locale: 'en-GB' })).toBe('tomorrow 01:00');
    expect(formatLocalTime(t, { now: NOW, timeZone: 'America/New_York', locale: 'en-GB' })).toBe('20:00');
    expect(formatLocalTime(t, { now: NOW, timeZone: 'Asia/Tokyo', locale: 'en-GB' })).toBe('tomorrow 10:00');
  });

  it('combines countdown and local time, and says when unknown', () => {
    expect(formatReset(NOW + 2 * H, { now: NOW, timeZone: 'UTC' })).toBe('in 2h (14:00)');
    expect(formatReset(null, { now: NOW })).toBe('reset time unknown');
    expect(formatRemaining(null)).toBe('?');
    expect(formatRemaining(0.625)).toBe('63%');
    expect(formatAgo(NOW - 5 * 60_000, NOW)).toBe('5m ago');
    expect(formatAgo(null, NOW)).toBe('never');
  });
});
