import { describe, expect, it } from 'vitest';
import type { SettingKey } from '../../../src/shared/settings';
import { SETTINGS, parseSettings } from '../../../src/shared/settings';

const from = (values: Partial<Record<SettingKey, unknown>>) => (key: SettingKey) => values[key];

describe('parseSettings', () => {
  it('gives the defaults when nothing is set', () => {
    const { settings, problems } = parseSettings(from({}));
    expect(problems).toEqual([]);
    expect(settings['proxy.port']).toBe(8383);
    expect(settings['ledger.alertThresholds']).toEqual([50, 80, 90]);
    expect(settings.logLevel).toBe('info');
  });

  it('accepts valid values', () => {
    const { settings, problems } = parseSettings(
      from({
        'proxy.port': 9000,
        'ledger.timeZone': 'Europe/Berlin',
        modelMapping: { 'gpt-4o': 'gemini-3-flash' },
      }),
    );
    expect(problems).toEqual([]);
    expect(settings['proxy.port']).toBe(9000);
    expect(settings['ledger.timeZone']).toBe('Europe/Berlin');
    expect(settings.modelMapping).toEqual({ 'gpt-4o': 'gemini-3-flash' });
  });

  it.each<[SettingKey, unknown, RegExp]>([
    [
      'proxy.port',
      80,
      /quotaPilot\.proxy\.port = 80 is invalid: must be 0 \(any free port\) or 1024–65535.*default 8383/,
    ],
    ['refreshIntervalSeconds', 5, /refreshIntervalSeconds = 5 is invalid/],
    ['ledger.alertThresholds', [90, 50], /ascending/],
    ['ledger.limits', [{ window: 'hourly', requests: 5 }], /unknown window "hourly"/],
    ['ledger.timeZone', 'Mars/Olympus', /IANA time zone/],
    ['statusBar.format', '{nope}', /Unknown placeholder \{nope\}/],
    ['upstream.baseUrls', ['ftp://x'], /at 0: must start with http/],
    ['logLevel', 'loud', /logLevel = "loud" is invalid/],
    ['modelMapping', { 'gpt-4o': '' }, /modelMapping .* is invalid at gpt-4o/],
  ])('rejects %s = %j with a clear message and falls back to the default', (key, value, message) => {
    const { settings, problems } = parseSettings(from({ [key]: value }));
    expect(problems).toHaveLength(1);
    expect(problems[0]!.key).toBe(`quotaPilot.${key}`);
    expect(problems[0]!.message).toMatch(message);
    expect(settings[key]).toEqual(SETTINGS[key].default);
  });

  it('enforces floor < warn and says so', () => {
    const { settings, problems } = parseSettings(
      from({ 'thresholds.warnPercent': 5, 'thresholds.floorPercent': 8 }),
    );
    expect(problems[0]!.message).toMatch(/floorPercent \(8\) must be lower than .*warnPercent \(5\)/);
    expect([settings['thresholds.warnPercent'], settings['thresholds.floorPercent']]).toEqual([10, 5]);
  });
});
