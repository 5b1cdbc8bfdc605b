/**
 * A bounded map with least-recently-used eviction and a time to live per entry, refreshed on every
 * read and write (an active conversation keeps its binding; an idle one expires). Time comes from the
 * caller's clock. Optionally also bounded by total weight (e.g. bytes): `weight.of` gives each value's.
 */
export class LruTtlMap<K, V> {
  private readonly map = new Map<K, { value: V; expiresAt: number; weight: number }>();
  private totalWeight = 0;

  constructor(
    private readonly maxEntries: number,
    private readonly ttlMs: number,
    private readonly now: () => number,
    private readonly weight?: { max: number; of: (value: V) => number },
  ) {
    if (!(maxEntries > 0)) throw new RangeError('LruTtlMap needs a positive maxEntries');
    if (!(ttlMs > 0)) throw new RangeError('LruTtlMap needs a positive ttlMs');
    if (weight !== undefined && !(weight.max > 0))
      throw new RangeError('LruTtlMap needs a positive max weight');
  }

  /** Total weight of the entries held (0 without a weight bound). */
  get weightUsed(): number {
    return this.totalWeight;
  }

  get size(): number {
    return this.map.size;
  }

  get(key: K): V | undefined {
    const entry = this.map.get(key);
    if (!entry) return undefined;
    const now = this.now();
    this.map.delete(key);
    if (entry.expiresAt <= now) {
      this.totalWeight -= entry.weight;
      return undefined;
    }
    entry.expiresAt = now + this.ttlMs;
    this.map.set(key, entry);
    return entry.value;
  }

  /** Stores `value`; a value heavier than the whole weight bound is not kept (false). */
  set(key: K, value: V): boolean {
    this.delete(key);
    const weight = this.weight?.of(value) ?? 0;
    if (this.weight !== undefined && weight > this.weight.max) return false;
    this.map.set(key, { value, expiresAt: this.now() + this.ttlMs, weight });
    this.totalWeight += weight;
    while (
      this.map.size > this.maxEntries ||
      (this.weight !== undefined && this.totalWeight > this.weight.max)
    ) {
      const oldest = this.map.keys().next().value as K;
      this.delete(oldest);
    }
    return true;
  }

  delete(key: K): boolean {
    const entry = this.map.get(key);
    if (!entry) return false;
    this.totalWeight -= entry.weight;
    return this.map.delete(key);
  }

  *entries(): IterableIterator<[K, V]> {
    const now = this.now();
    for (const [k, e] of this.map) if (e.expiresAt > now) yield [k, e.value];
  }
}
