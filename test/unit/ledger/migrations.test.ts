import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../src/core/clock';
import {
  LedgerDocSchema,
  MemoryLedgerStore,
  migrateLedgerDoc,
  UsageLedger,
  V0_ACCOUNT,
} from '../../../src/core/ledger';

const fixture = (name: string): unknown =>
  JSON.parse(readFileSync(join(__dirname, 'fixtures', name), 'utf8'));
const MON = Date.UTC(2026, 0, 5, 10);

describe('ledger document migrations', () => {
  it('migrates a v0 file: one account, tokens as input, fired levels kept', () => {
    const r = migrateLedgerDoc(fixture('ledger-v0.json'));
    if (!r.ok) throw new Error(r.message);
    expect(r.fromVersion).toBe(0);
    expect(LedgerDocSchema.parse(r.doc)).toEqual(r.doc);
    expect(r.doc.counters).toHaveLength(2);
    expect(r.doc.counters[0]).toMatchObject({
      account: V0_ACCOUNT,
      model: 'claude-sonnet-4-6',
      window: 'daily',
      start: Date.UTC(2026, 0, 5),
      end: Date.UTC(2026, 0, 6),
      requests: 12,
      inputTokens: 34000,
    });
    expect(r.doc.firedAlerts.map((a) => [a.model, a.level])).toEqual([
      ['claude-sonnet-4-6', 50],
      ['gemini-3-flash', 50],
    ]);
  });

  it('migrates a v1 file, and the ledger neither loses its usage nor re-fires its alerts', async () => {
    const r = migrateLedgerDoc(fixture('ledger-v1.json'));
    if (!r.ok) throw new Error(r.message);
    expect(r.fromVersion).toBe(1);
    const clock = new VirtualClock(MON);
    const ledger = await UsageLedger.open({
      clock,
      store: new MemoryLedgerStore(r.doc),
      config: { limits: [{ account: 'a@example.com', window: 'daily', requests: 10 }] },
    });
    expect(ledger.usage('a@example.com', 'claude-sonnet-4-6')).toMatchObject({
      requests: 6,
      tokens: 9000,
      errors: 1,
    });
    expect(ledger.usage('b@example.com', 'gemini-3-flash').requests).toBe(2);
    const fired = ledger.record({ account: 'a@example.com', model: 'claude-sonnet-4-6' });
    expect(fired.map((a) => a.level)).toEqual([]); // 7/10 = 70%: 50 was already fired by v1
    expect(
      ledger.record({ account: 'a@example.com', model: 'claude-sonnet-4-6' }).map((a) => a.level),
    ).toEqual([80]);
  });

  it('keeps the current version as it is', () => {
    const doc = {
      version: 2,
      savedAt: 1,
      counters: [],
      providerWindows: [],
      providerFractions: [],
      firedAlerts: [],
      limits: null,
    };
    expect(migrateLedgerDoc(doc)).toEqual({ ok: true, doc, fromVersion: 2 });
  });

  it('refuses a newer version without calling it corrupt', () => {
    const r = migrateLedgerDoc({ version: 9, anything: true });
    expect(r).toMatchObject({ ok: false, kind: 'unsupported-version' });
    if (!r.ok) expect(r.message).toContain('Update Quota Pilot');
  });

  it.each([[null], [[1, 2]], ['text'], [{ version: 'two' }], [{ version: 1, usage: 'x' }], [{ foo: 1 }]])(
    'calls %j corrupt',
    (raw) => {
      expect(migrateLedgerDoc(raw)).toMatchObject({ ok: false, kind: 'corrupt' });
    },
  );
});
