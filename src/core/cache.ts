/**
 * Quota readings per account × model, with a TTL and a bounded LRU.
 *
 * - An entry holds every reading of one model for one account (one per source) plus `fetchedAt`,
 *   and its effective quota, computed once when stored.
 * - Freshness: `fresh` while `now < fetchedAt + ttl`, `stale` from that instant on (still usable:
 *   callers refresh it in the background), `missing` when absent. The TTL never deletes entries;
 *   only the LRU bound does, so the last known data survives an outage (degraded mode).
 * - Reads are O(1) and allocate nothing: two Map lookups and a linked-list splice.
 */
import { effectiveQuota, quotaValidUntil } from './decision';
import type { EffectiveQuota } from './decision';
import { ConfigError } from './errors';
import type { AccountId, Freshness, ModelQuota } from './types';

export interface QuotaCacheEntry {
  readonly accountId: AccountId;
  readonly model: string;
  readonly readings: readonly ModelQuota[];
  /** When the newest reading was fetched (ms since epoch). */
  readonly fetchedAt: number;
  /** Effective quota of `readings`, computed when stored. */
  readonly quota: EffectiveQuota;
  /** `quota` holds until this time (a binding reading's reset); use `effectiveQuotaAt` after it. */
  readonly quotaValidUntil: number;
}

/** The entry's effective quota at `now`: the stored one, or recomputed without readings past their reset. */
export function effectiveQuotaAt(entry: QuotaCacheEntry, now: number): EffectiveQuota {
  return now < entry.quotaValidUntil ? entry.quota : effectiveQuota(entry.readings, now);
}

export interface QuotaCacheOptions {
  /** Time to live in ms; default 300 000 (5 min). */
  ttlMs?: number;
  /** Maximum number of entries (account × model); default 1 000. */
  maxEntries?: number;
}

export interface QuotaCacheStats {
  size: number;
  maxEntries: number;
  ttlMs: number;
  hits: number;
  misses: number;
  evictions: number;
}

interface Node {
  entry: QuotaCacheEntry;
  prev: Node | null;
  next: Node | null;
}

export const DEFAULT_CACHE_TTL_MS = 300_000;
export const DEFAULT_CACHE_MAX_ENTRIES = 1_000;

export class QuotaCache {
  private ttl: number;
  private readonly max: number;
  private readonly byAccount = new Map<AccountId, Map<string, Node>>();
  /** Most recently used at head. */
  private head: Node | null = null;
  private tail: Node | null = null;
  private count = 0;
  private hitCount = 0;
  private missCount = 0;
  private evictionCount = 0;

  constructor(options: QuotaCacheOptions = {}) {
    this.ttl = checkTtl(options.ttlMs ?? DEFAULT_CACHE_TTL_MS);
    const max = options.maxEntries ?? DEFAULT_CACHE_MAX_ENTRIES;
    if (!Number.isInteger(max) || max < 1) {
      throw new ConfigError(`Quota cache size must be a positive integer, got ${max}.`);
    }
    this.max = max;
  }

  get ttlMs(): number {
    return this.ttl;
  }

  setTtl(ttlMs: number): void {
    this.ttl = checkTtl(ttlMs);
  }

  get size(): number {
    return this.count;
  }

  /** The entry, counted as a hit or miss, and marked most recently used. O(1). */
  get(accountId: AccountId, model: string): QuotaCacheEntry | undefined {
    const node = this.byAccount.get(accountId)?.get(model);
    if (node === undefined) {
      this.missCount++;
      return undefined;
    }
    this.hitCount++;
    this.touch(node);
    return node.entry;
  }

  /** The entry without counting or touching it (for snapshots and inspection). */
  peek(accountId: AccountId, model: string): QuotaCacheEntry | undefined {
    return this.byAccount.get(accountId)?.get(model)?.entry;
  }

  /** `stale` from `fetchedAt + ttl` on, or once a reading with a remaining fraction passes its reset. */
  freshness(entry: QuotaCacheEntry | undefined, now: number): Freshness {
    if (entry === undefined) return 'missing';
    return now < entry.fetchedAt + this.ttl && now < entry.quotaValidUntil ? 'fresh' : 'stale';
  }

  /** Stores (or replaces) one model's readings for one account. */
  set(
    accountId: AccountId,
    model: string,
    readings: readonly ModelQuota[],
    fetchedAt?: number,
  ): QuotaCacheEntry {
    const entry = makeEntry(accountId, model, readings, fetchedAt);
    let models = this.byAccount.get(accountId);
    if (models === undefined) {
      models = new Map();
      this.byAccount.set(accountId, models);
    }
    const existing = models.get(model);
    if (existing !== undefined) {
      existing.entry = entry;
      this.touch(existing);
    } else {
      const node: Node = { entry, prev: null, next: null };
      models.set(model, node);
      this.pushHead(node);
      this.count++;
      this.evictOverflow();
    }
    return entry;
  }

  /**
   * Replaces all of one account's entries with `readingsByModel` in one step: models absent from the
   * map are dropped, so a reader never sees a mix of the old and the new refresh.
   */
  setAccount(
    accountId: AccountId,
    readingsByModel: ReadonlyMap<string, readonly ModelQuota[]>,
    fetchedAt?: number,
  ): void {
    this.clearAccount(accountId);
    for (const [model, readings] of readingsByModel) this.set(accountId, model, readings, fetchedAt);
  }

  /** The account's entries (models in no particular order), without touching them. */
  entriesOf(accountId: AccountId): QuotaCacheEntry[] {
    const models = this.byAccount.get(accountId);
    if (models === undefined) return [];
    const out: QuotaCacheEntry[] = [];
    for (const node of models.values()) out.push(node.entry);
    return out;
  }

  accounts(): AccountId[] {
    return [...this.byAccount.keys()];
  }

  delete(accountId: AccountId, model: string): boolean {
    const models = this.byAccount.get(accountId);
    const node = models?.get(model);
    if (models === undefined || node === undefined) return false;
    this.unlink(node);
    models.delete(model);
    if (models.size === 0) this.byAccount.delete(accountId);
    this.count--;
    return true;
  }

  clearAccount(accountId: AccountId): void {
    const models = this.byAccount.get(accountId);
    if (models === undefined) return;
    for (const node of models.values()) this.unlink(node);
    this.count -= models.size;
    this.byAccount.delete(accountId);
  }

  clear(): void {
    this.byAccount.clear();
    this.head = null;
    this.tail = null;
    this.count = 0;
  }

  stats(): QuotaCacheStats {
    return {
      size: this.count,
      maxEntries: this.max,
      ttlMs: this.ttl,
      hits: this.hitCount,
      misses: this.missCount,
      evictions: this.evictionCount,
    };
  }

  private evictOverflow(): void {
    while (this.count > this.max && this.tail !== null) {
      const victim = this.tail;
      this.delete(victim.entry.accountId, victim.entry.model);
      this.evictionCount++;
    }
  }

  private touch(node: Node): void {
    if (this.head === node) return;
    this.unlink(node);
    this.pushHead(node);
  }

  private pushHead(node: Node): void {
    node.prev = null;
    node.next = this.head;
    if (this.head !== null) this.head.prev = node;
    this.head = node;
    if (this.tail === null) this.tail = node;
  }

  private unlink(node: Node): void {
    if (node.prev !== null) node.prev.next = node.next;
    else if (this.head === node) this.head = node.next;
    if (node.next !== null) node.next.prev = node.prev;
    else if (this.tail === node) this.tail = node.prev;
    node.prev = null;
    node.next = null;
  }
}

function checkTtl(ttlMs: number): number {
  if (!Number.isFinite(ttlMs) || ttlMs <= 0) {
    throw new ConfigError(
      `Quota cache TTL must be a positive number of milliseconds, got ${ttlMs}. Set quotaPilot.cacheTtlSeconds between 10 and 3600.`,
      'quotaPilot.cacheTtlSeconds',
    );
  }
  return ttlMs;
}

function makeEntry(
  accountId: AccountId,
  model: string,
  readings: readonly ModelQuota[],
  fetchedAt: number | undefined,
): QuotaCacheEntry {
  let newest = fetchedAt ?? 0;
  if (fetchedAt === undefined) for (const r of readings) if (r.fetchedAt > newest) newest = r.fetchedAt;
  const frozen = Object.freeze(readings.slice());
  return Object.freeze({
    accountId,
    model,
    readings: frozen,
    fetchedAt: newest,
    quota: effectiveQuota(frozen),
    quotaValidUntil: quotaValidUntil(frozen),
  });
}
