import { describe, expect, it } from 'vitest';
import { LruTtlMap } from '../../../../src/core/pool/lruTtlMap';

describe('LruTtlMap', () => {
  it('evicts the least recently used entry past maxEntries and expires idle ones', () => {
    let now = 0;
    const m = new LruTtlMap<string, number>(2, 100, () => now);
    m.set('a', 1);
    m.set('b', 2);
    expect(m.get('a')).toBe(1); // a is now the most recent
    m.set('c', 3);
    expect(m.get('b')).toBeUndefined();
    now = 99;
    expect(m.get('a')).toBe(1); // refreshed: lives until 199
    now = 150;
    expect(m.get('c')).toBeUndefined();
    expect(m.get('a')).toBe(1);
  });

  it('keeps the total weight under its bound, oldest out first, and refuses a value heavier than the bound', () => {
    const m = new LruTtlMap<string, string>(100, 1000, () => 0, { max: 10, of: (v) => v.length });
    m.set('a', 'xxxx');
    m.set('b', 'yyyy');
    expect(m.weightUsed).toBe(8);
    m.set('c', 'zzzz');
    expect([...m.entries()].map(([k]) => k)).toEqual(['b', 'c']);
    expect(m.weightUsed).toBe(8);
    expect(m.set('big', 'x'.repeat(11))).toBe(false);
    expect(m.get('big')).toBeUndefined();
    m.set('b', 'y'); // replacing a value replaces its weight
    expect(m.weightUsed).toBe(5);
    expect(m.delete('c')).toBe(true);
    expect(m.weightUsed).toBe(1);
  });
});
