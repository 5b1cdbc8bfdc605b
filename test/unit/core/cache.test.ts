import { describe, expect, it } from 'vitest';
import { QuotaCache } from '../../../src/core/cache';
import { ConfigError } from '../../../src/core/errors';
import type { ModelQuota, QuotaSource } from '../../../src/core/types';

function reading(
  model: string,
  remaining: number | null,
  fetchedAt = 0,
  source: QuotaSource = 'models',
  resetTime: number | null = null,
): ModelQuota {
  return { model, remainingFraction: remaining, resetTime, source, fetchedAt };
}

describe('QuotaCache', () => {
  it('is fresh before the TTL, stale exactly at the boundary, missing when absent', () => {
    const cache = new QuotaCache({ ttlMs: 1_000 });
    cache.set('a', 'm', [reading('m', 0.5, 10_000)]);
    const e = cache.get('a', 'm');
    expect(cache.freshness(e, 10_999)).toBe('fresh');
    expect(cache.freshness(e, 11_000)).toBe('stale');
    expect(cache.freshness(e, 1e12)).toBe('stale');
    expect(cache.get('a', 'm')?.quota.remainingFraction).toBe(0.5); // stale stays usable
    expect(cache.freshness(cache.get('a', 'other'), 10_000)).toBe('missing');
  });

  it('defaults to a 300 s TTL and 1,000 entries; rejects bad settings', () => {
    expect(new QuotaCache().stats()).toMatchObject({ ttlMs: 300_000, maxEntries: 1_000 });
    expect(() => new QuotaCache({ ttlMs: 0 })).toThrow(ConfigError);
    expect(() => new QuotaCache({ maxEntries: 0 })).toThrow(/positive integer/);
  });

  it('counts hits and misses; peek counts neither', () => {
    const cache = new QuotaCache();
    cache.set('a', 'm', [reading('m', 1)]);
    cache.get('a', 'm');
    cache.get('a', 'm');
    cache.get('a', 'x');
    cache.get('b', 'm');
    cache.peek('a', 'm');
    expect(cache.stats()).toMatchObject({ hits: 2, misses: 2, size: 1 });
  });

  it('computes the effective quota: the minimum over sources, with its reset and source', () => {
    const cache = new QuotaCache();
    const e = cache.set('a', 'm', [
      reading('m', 0.9, 5, 'models', 100),
      reading('m', 0.3, 7, 'bucket-weekly', 900),
      reading('m', null, 6, 'bucket-5h', 50),
    ]);
    expect(e.quota).toEqual({ remainingFraction: 0.3, resetTime: 900, bindingSource: 'bucket-weekly' });
    expect(e.fetchedAt).toBe(7);
  });

  it('treats all-null readings as unknown, not full', () => {
    const cache = new QuotaCache();
    const e = cache.set('a', 'm', [reading('m', null, 0, 'models', 500)]);
    expect(e.quota.remainingFraction).toBeNull();
    expect(e.quota.bindingSource).toBeNull();
  });

  it('setAccount replaces all of an account at once and leaves other accounts alone', () => {
    const cache = new QuotaCache();
    cache.set('a', 'old', [reading('old', 0.1)]);
    cache.set('a', 'm1', [reading('m1', 0.1)]);
    cache.set('b', 'm1', [reading('m1', 0.7)]);
    cache.setAccount(
      'a',
      new Map([
        ['m1', [reading('m1', 0.5)]],
        ['m2', [reading('m2', 0.6)]],
      ]),
    );
    expect(cache.peek('a', 'old')).toBeUndefined();
    expect(cache.peek('a', 'm1')?.quota.remainingFraction).toBe(0.5);
    expect(cache.peek('a', 'm2')?.quota.remainingFraction).toBe(0.6);
    expect(cache.peek('b', 'm1')?.quota.remainingFraction).toBe(0.7);
    expect(cache.size).toBe(3);
  });

  it('clears one account or everything', () => {
    const cache = new QuotaCache();
    cache.set('a', 'm', [reading('m', 1)]);
    cache.set('a', 'n', [reading('n', 1)]);
    cache.set('b', 'm', [reading('m', 1)]);
    cache.clearAccount('a');
    expect(cache.size).toBe(1);
    expect(cache.entriesOf('a')).toEqual([]);
    expect(cache.accounts()).toEqual(['b']);
    cache.clear();
    expect(cache.size).toBe(0);
    expect(cache.get('b', 'm')).toBeUndefined();
  });

  it('evicts the least recently used entry first', () => {
    const cache = new QuotaCache({ maxEntries: 3 });
    cache.set('a', 'm1', [reading('m1', 1)]);
    cache.set('a', 'm2', [reading('m2', 1)]);
    cache.set('a', 'm3', [reading('m3', 1)]);
    cache.get('a', 'm1'); // m2 is now the oldest
    cache.set('a', 'm4', [reading('m4', 1)]);
    expect(cache.peek('a', 'm2')).toBeUndefined();
    expect(cache.peek('a', 'm1')).toBeDefined();
    expect(cache.stats().evictions).toBe(1);
  });

  it('holds its bound under ten times its cap of churn, and its index stays consistent', () => {
    const cap = 100;
    const cache = new QuotaCache({ maxEntries: cap });
    for (let i = 0; i < cap * 10; i++) {
      cache.set(`acct-${i % 37}`, `model-${i}`, [reading(`model-${i}`, (i % 100) / 100)]);
      if (i % 7 === 0) cache.get(`acct-${(i * 3) % 37}`, `model-${i - 5}`);
      if (i % 50 === 0) cache.clearAccount(`acct-${i % 37}`);
      expect(cache.size).toBeLessThanOrEqual(cap);
    }
    let counted = 0;
    for (const a of cache.accounts()) counted += cache.entriesOf(a).length;
    expect(counted).toBe(cache.size);
    expect(cache.size).toBe(cap);
    // The newest entries survived.
    expect(cache.peek(`acct-${999 % 37}`, 'model-999')).toBeDefined();
  });
});
