import { describe, expect, it } from 'vitest';
import {
  formatGoDuration,
  formatProtoDuration,
  formatTimestamp,
  formatWholeDuration,
} from '../../../src/simulator/durations';

describe('wire duration formats', () => {
  it('formats Go durations like the upstream', () => {
    expect(formatGoDuration(539_420_180)).toBe('149h50m20.18s');
    expect(formatGoDuration(2 * 3_600_000 + 60_000 + 1000)).toBe('2h1m1s');
    expect(formatGoDuration(3_600_000)).toBe('1h0m0s');
    expect(formatGoDuration(185_000)).toBe('3m5s');
    expect(formatGoDuration(12_500)).toBe('12.5s');
    expect(formatGoDuration(510.79)).toBe('510.79ms');
    expect(formatGoDuration(0)).toBe('0s');
    expect(formatGoDuration(-5)).toBe('0s');
  });

  it('formats whole-second messages, protobuf durations and timestamps', () => {
    expect(formatWholeDuration(539_420_180)).toBe('149h50m20s');
    expect(formatProtoDuration(539_420_180)).toBe('539420.18s');
    expect(formatProtoDuration(2000)).toBe('2s');
    expect(formatTimestamp(Date.UTC(2026, 7, 8, 17, 54, 7, 999))).toBe('2026-08-08T17:54:07Z');
  });
});
