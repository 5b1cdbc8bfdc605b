import { describe, expect, it } from 'vitest';
import { AccountRegistry } from '../../../src/core/accountRegistry';
import { VirtualClock } from '../../../src/core/clock';
import { registerUsageSection, UsageLedger, UsageSectionSchema } from '../../../src/core/ledger';
import { QuotaManager } from '../../../src/core/quotaManager';
import { EngineSnapshotSchema, StateStore } from '../../../src/core/stateStore';
import type { EngineSnapshot } from '../../../src/core/stateStore';
import { FakeProvider, makeAccount } from '../../support/fakeProvider';

const M = 'claude-sonnet-4-6';

function setup() {
  const clock = new VirtualClock(Date.UTC(2026, 0, 5, 23, 0));
  const manager = new QuotaManager({ clock, provider: new FakeProvider(clock), ttlMs: 60_000 });
  const registry = new AccountRegistry([makeAccount('a1')]);
  const store = new StateStore({ clock, registry, manager, models: [M] });
  const ledger = new UsageLedger({ clock, config: { limits: [{ window: 'daily', requests: 4 }] } });
  const events: EngineSnapshot[] = [];
  store.onChange((s) => events.push(s));
  const section = registerUsageSection(store, ledger, clock);
  return { clock, store, ledger, events, section };
}

describe('the usage section of the state store', () => {
  it('carries the summary, limits and thresholds, validated and serializable', () => {
    const { store, ledger } = setup();
    ledger.record({ account: 'a1', model: M, inputTokens: 10 });
    const snap = store.snapshot();
    expect(EngineSnapshotSchema.parse(JSON.parse(JSON.stringify(snap)))).toEqual(snap);
    const usage = UsageSectionSchema.parse(snap.sections.usage);
    expect(usage.summary.rows).toHaveLength(1);
    expect(usage.summary.rows[0]).toMatchObject({ account: 'a1', model: M, requests: 1, tokens: 10 });
    expect(usage.limits).toEqual([{ window: 'daily', requests: 4 }]);
    expect(usage.thresholds).toEqual([50, 80, 90]);
  });

  it('emits a snapshot on ledger changes (coalesced) and at the daily reset', () => {
    const { clock, ledger, events, section } = setup();
    clock.advance(0);
    const before = events.length;
    ledger.record({ account: 'a1', model: M });
    ledger.record({ account: 'a1', model: M });
    ledger.reserve('a1', M, { requests: 1 }, 60_000);
    clock.advance(0);
    expect(events.length).toBe(before + 1);
    const usage = UsageSectionSchema.parse(events.at(-1)?.sections.usage);
    expect(usage.summary.totals).toMatchObject({ requests: 2, alertsFired: 1, reservations: { count: 1 } });
    // Midnight UTC: a new day, empty, and the store hears about it with nothing else happening.
    clock.advance(3_600_000);
    const after = UsageSectionSchema.parse(events.at(-1)?.sections.usage);
    expect(after.summary.day).toBe('2026-01-06');
    expect(after.summary.totals.requests).toBe(0);
    section.dispose();
    expect(events.at(-1)?.sections.usage).toBeDefined();
    clock.advance(0);
    expect(events.at(-1)?.sections.usage).toBeUndefined();
  });
});
