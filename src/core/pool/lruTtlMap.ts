/**
 * A bounded map with least-recently-used eviction and a time to live per entry, refreshed on every
 * read and write (an active conversation keeps its binding; an idle one expires). Time comes from the
 * caller's clock.
 */
export class LruTtlMap<K, V> {
  private readonly map = new Map<K, { value: V; expiresAt: number }>();

  constructor(
    private readonly maxEntries: number,
    private readonly ttlMs: number,
    private readonly now: () => number,
  ) {
    if (!(maxEntries > 0)) throw new RangeError('LruTtlMap needs a positive maxEntries');
    if (!(ttlMs > 0)) throw new RangeError('LruTtlMap needs a positive ttlMs');
  }

  get size(): number {
    return this.map.size;
  }

  get(key: K): V | undefined {
    const entry = this.map.get(key);
    if (!entry) return undefined;
    const now = this.now();
    this.map.delete(key);
    if (entry.expiresAt <= now) return undefined;
    entry.expiresAt = now + this.ttlMs;
    this.map.set(key, entry);
    return entry.value;
  }

  set(key: K, value: V): void {
    this.map.delete(key);
    this.map.set(key, { value, expiresAt: this.now() + this.ttlMs });
    while (this.map.size > this.maxEntries) {
      const oldest = this.map.keys().next().value as K;
      this.map.delete(oldest);
    }
  }

  delete(key: K): boolean {
    return this.map.delete(key);
  }

  *entries(): IterableIterator<[K, V]> {
    const now = this.now();
    for (const [k, e] of this.map) if (e.expiresAt > now) yield [k, e.value];
  }
}
