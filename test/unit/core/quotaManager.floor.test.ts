import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../src/core/clock';
import { QuotaManager } from '../../../src/core/quotaManager';
import { FakeProvider, makeAccount } from '../../support/fakeProvider';

describe('QuotaManager with a floor of 0', () => {
  it('keeps a quota cooldown while the reading is still 0, and ends it once quota is back', async () => {
    const clock = new VirtualClock(Date.UTC(2026, 10, 23, 9));
    const provider = new FakeProvider(clock);
    const manager = new QuotaManager({ clock, provider, thresholds: { warn: 0.1, floor: 0 } });
    const a = makeAccount('a');
    provider.setModels('a', { 'gemini-3-flash': { remaining: 0, resetInMs: 3_600_000 } });
    manager.setCooldown({
      accountId: 'a',
      model: 'gemini-3-flash',
      until: clock.now() + 3_600_000,
      kind: 'quota-exhausted',
      reason: '429',
    });
    await clock.advanceAsync(1_000);
    await manager.refresh(a);
    expect(manager.activeCooldown('a', 'gemini-3-flash')).toBeDefined();
    provider.setModels('a', { 'gemini-3-flash': { remaining: 0.4, resetInMs: 3_600_000 } });
    await clock.advanceAsync(1_000);
    await manager.refresh(a);
    expect(manager.activeCooldown('a', 'gemini-3-flash')).toBeUndefined();
  });
});
