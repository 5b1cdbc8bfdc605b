import { describe, expect, it } from 'vitest';
import { AccountRegistry, Emitter } from '../../../src/core/accountRegistry';
import type { AccountChange } from '../../../src/core/accountRegistry';
import { ConfigError } from '../../../src/core/errors';
import { makeAccount } from '../../support/fakeProvider';

describe('AccountRegistry', () => {
  it('adds, updates, lists and removes accounts with change events', () => {
    const reg = new AccountRegistry();
    const seen: AccountChange['kind'][] = [];
    reg.onChange((c) => seen.push(c.kind));
    reg.add(makeAccount('a'));
    reg.add(makeAccount('b'));
    expect(reg.update('a', { tier: 'ULTRA' }).tier).toBe('ULTRA');
    reg.upsert(makeAccount('b', { label: 'Work' }));
    expect(reg.list().map((a) => `${a.id}:${a.tier}:${a.label}`)).toEqual(['a:ULTRA:a', 'b:PRO:Work']);
    expect(reg.remove('a')).toBe(true);
    expect(reg.remove('a')).toBe(false);
    expect(seen).toEqual(['added', 'added', 'updated', 'updated', 'removed']);
  });

  it('rejects invalid accounts, duplicates and unknown ids with clear errors', () => {
    const reg = new AccountRegistry([makeAccount('a')]);
    expect(() => reg.add(makeAccount('a'))).toThrow(/already exists/);
    expect(() => reg.add({ id: 'x' })).toThrow(ConfigError);
    expect(() => reg.add({ ...makeAccount('y'), tier: 'GOLD' })).toThrow(/tier/);
    expect(() => reg.update('nope', { label: 'x' })).toThrow(/No account "nope"/);
    expect(() => reg.update('a', { label: '' })).toThrow(/label/);
    expect(reg.get('a')?.label).toBe('a');
  });

  it('a throwing listener does not stop the others', () => {
    const e = new Emitter<number>();
    const got: number[] = [];
    e.on(() => {
      throw new Error('bug');
    });
    const d = e.on((n) => got.push(n));
    e.emit(1);
    d.dispose();
    e.emit(2);
    expect(got).toEqual([1]);
  });
});
