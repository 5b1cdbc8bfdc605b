/**
 * One observable, serializable snapshot of the engine for the UI, the admin API and the proxy.
 *
 * - `snapshot()` builds an `EngineSnapshot` (plain data, described by `EngineSnapshotSchema`).
 * - Changes from the registry, the quota manager and the monitor are coalesced: however many arrive
 *   before the coalescing delay (default 0 ms on the engine's clock) ends, listeners get one event.
 * - Time alone also changes what the UI should show (a cooldown ends, a reading turns stale): the
 *   store arms one timer for the next such instant and emits then.
 * - Other components add sections without touching this file: `registerSection('usage', fn, schema)`
 *   puts `fn()`'s result under `snapshot.sections.usage` and `notify()` tells the store it changed.
 */
import { z } from 'zod';
import type { AccountRegistry, Disposable, Listener } from './accountRegistry';
import { Emitter } from './accountRegistry';
import { DEFAULT_CATALOG } from './catalog';
import type { Clock, TimerHandle } from './clock';
import { ConfigError } from './errors';
import type { QuotaMonitor } from './monitor';
import type { QuotaManager } from './quotaManager';
import type { Account } from './types';
import {
  AccountSchema,
  CooldownSchema,
  DecisionSchema,
  EpochMsSchema,
  FractionSchema,
  ModelQuotaSchema,
  QuotaBucketSchema,
} from './types';

const NullableTime = EpochMsSchema.nullable();

export const FetchStateSchema = z.object({
  lastFetchAt: NullableTime,
  lastSuccessAt: NullableTime,
  lastError: z.object({ message: z.string(), kind: z.string(), at: EpochMsSchema }).nullable(),
  consecutiveFailures: z.number().int().nonnegative(),
  failing: z.boolean(),
});

export const ModelSnapshotSchema = z.object({
  model: z.string().min(1),
  decision: DecisionSchema,
  readings: z.array(ModelQuotaSchema),
  /** When the cached entry was fetched; null when nothing is cached. */
  fetchedAt: NullableTime,
});
export type ModelSnapshot = z.infer<typeof ModelSnapshotSchema>;

export const AccountMonitorStateSchema = z.object({
  accountId: z.string(),
  nextDueAt: NullableTime,
  consecutiveFailures: z.number().int().nonnegative(),
  lastSuccessAt: NullableTime,
  lastFailureAt: NullableTime,
  lastError: z.string().nullable(),
  refreshing: z.boolean(),
});

export const MonitorHealthSchema = z.object({
  running: z.boolean(),
  paused: z.boolean(),
  intervalSeconds: z.number(),
  cycles: z.number().int().nonnegative(),
  successes: z.number().int().nonnegative(),
  failures: z.number().int().nonnegative(),
  inFlight: z.number().int().nonnegative(),
  nextRunAt: NullableTime,
  accounts: z.array(AccountMonitorStateSchema),
});

export const AccountSnapshotSchema = z.object({
  account: AccountSchema,
  models: z.array(ModelSnapshotSchema),
  buckets: z.array(QuotaBucketSchema),
  cooldowns: z.array(CooldownSchema),
  fetch: FetchStateSchema,
});
export type AccountSnapshot = z.infer<typeof AccountSnapshotSchema>;

export const EngineSnapshotSchema = z.object({
  /** Bumped when a field changes meaning; additions keep the version. */
  schemaVersion: z.literal(1),
  /** Increases with every emitted change. */
  revision: z.number().int().nonnegative(),
  generatedAt: EpochMsSchema,
  thresholds: z.object({ warn: FractionSchema, floor: FractionSchema }),
  accounts: z.array(AccountSnapshotSchema),
  cooldowns: z.array(CooldownSchema),
  monitor: MonitorHealthSchema.nullable(),
  cache: z.object({
    size: z.number().int().nonnegative(),
    maxEntries: z.number().int().positive(),
    ttlMs: z.number().positive(),
    hits: z.number().int().nonnegative(),
    misses: z.number().int().nonnegative(),
    evictions: z.number().int().nonnegative(),
  }),
  /** Registered sections (e.g. `usage` from the ledger), keyed by name. */
  sections: z.record(z.string(), z.unknown()),
});
export type EngineSnapshot = z.infer<typeof EngineSnapshotSchema>;

export interface StateStoreOptions {
  clock: Clock;
  registry: AccountRegistry;
  manager: QuotaManager;
  monitor?: QuotaMonitor;
  /** Delay that coalesces a burst of changes into one event, ms; default 0. */
  coalesceMs?: number;
  /** Models every account lists even before a reading arrives; default: the built-in catalog. */
  models?: readonly string[];
}

/** How long an unchanged account's part of the snapshot is reused at most. */
const ACCOUNT_PART_MAX_AGE_MS = 60_000;

interface AccountPart {
  snapshot: AccountSnapshot;
  builtAt: number;
  /** The first instant at which time alone changes it (a cooldown ends, a reading turns stale). */
  validUntil: number;
}

interface Section {
  build: (now: number) => unknown;
  schema: z.ZodType | undefined;
}

const SECTION_NAME = /^[a-z][a-zA-Z0-9-]{0,40}$/;

export class StateStore {
  private readonly clock: Clock;
  private readonly registry: AccountRegistry;
  private readonly manager: QuotaManager;
  private monitor: QuotaMonitor | undefined;
  private readonly coalesceMs: number;
  private readonly baseModels: readonly string[];
  private readonly modelOrder: Map<string, number>;
  private readonly sections = new Map<string, Section>();
  private readonly changes = new Emitter<EngineSnapshot>();
  private readonly subscriptions: Disposable[] = [];
  private pending: TimerHandle | null = null;
  private timeTimer: TimerHandle | null = null;
  private timeTimerAt: number | null = null;
  private revision = 0;
  private disposed = false;
  /**
   * Each account's part of the last snapshot, reused until that account changes (an event names
   * it), an instant passes at which time alone changes it, or it is older than ACCOUNT_PART_MAX_AGE_MS
   * (its reasons say "resets in 2h"). A burst of changes to one account then costs one account's
   * decisions, not every account's: a refresh cycle stays linear in the number of accounts.
   */
  private readonly accountParts = new Map<string, AccountPart>();
  private readonly staleAccounts = new Set<string>();

  constructor(options: StateStoreOptions) {
    this.clock = options.clock;
    this.registry = options.registry;
    this.manager = options.manager;
    this.coalesceMs = options.coalesceMs ?? 0;
    if (!Number.isFinite(this.coalesceMs) || this.coalesceMs < 0) {
      throw new ConfigError(`State store coalescing delay must be 0 ms or more, got ${this.coalesceMs}.`);
    }
    this.baseModels = options.models ?? DEFAULT_CATALOG.map((m) => m.id);
    this.modelOrder = new Map(this.baseModels.map((m, i) => [m, i]));
    this.subscriptions.push(
      this.registry.onChange((change) => {
        this.staleAccounts.add(change.account.id);
        this.notify();
      }),
      this.manager.onChange((change) => {
        if (change.kind === 'thresholds') this.accountParts.clear();
        else this.staleAccounts.add(change.accountId);
        this.notify();
      }),
    );
    if (options.monitor) this.attachMonitor(options.monitor);
  }

  /** Includes the monitor's health in snapshots and follows its events. */
  attachMonitor(monitor: QuotaMonitor): void {
    this.monitor = monitor;
    this.subscriptions.push(monitor.onEvent(() => this.notify()));
    this.notify();
  }

  /** Called with the new snapshot once per burst of changes. */
  onChange(listener: Listener<EngineSnapshot>): Disposable {
    return this.changes.on(listener);
  }

  /**
   * Adds a section to every snapshot under `sections[name]`. `schema` (optional) validates what
   * `build` returns (a failing section is reported as `{ error }` rather than breaking the snapshot).
   */
  registerSection<T>(name: string, build: (now: number) => T, schema?: z.ZodType<T>): Disposable {
    if (!SECTION_NAME.test(name)) {
      throw new ConfigError(
        `Snapshot section name "${name}" is invalid: use lower camel or kebab case, e.g. "usage".`,
      );
    }
    if (this.sections.has(name)) throw new ConfigError(`Snapshot section "${name}" is already registered.`);
    this.sections.set(name, { build, schema });
    this.notify();
    return {
      dispose: () => {
        if (this.sections.delete(name)) this.notify();
      },
    };
  }

  /** Marks the state changed; listeners hear about it once the coalescing delay passes. */
  notify(): void {
    if (this.disposed || this.pending !== null) return;
    this.pending = this.clock.setTimeout(() => this.flush(), this.coalesceMs);
  }

  get currentRevision(): number {
    return this.revision;
  }

  snapshot(): EngineSnapshot {
    const now = this.clock.now();
    const accounts: AccountSnapshot[] = [];
    const listed = this.registry.list();
    for (const account of listed) {
      const cached = this.accountParts.get(account.id);
      if (
        cached !== undefined &&
        cached.snapshot.account === account &&
        !this.staleAccounts.has(account.id) &&
        now < cached.validUntil &&
        now >= cached.builtAt &&
        now - cached.builtAt < ACCOUNT_PART_MAX_AGE_MS
      ) {
        accounts.push(cached.snapshot);
        continue;
      }
      const part = this.buildAccount(account, now);
      this.accountParts.set(account.id, part);
      accounts.push(part.snapshot);
    }
    this.staleAccounts.clear();
    if (this.accountParts.size > listed.length) {
      const ids = new Set(listed.map((a) => a.id));
      for (const id of this.accountParts.keys()) if (!ids.has(id)) this.accountParts.delete(id);
    }
    const sections: Record<string, unknown> = {};
    for (const [name, section] of this.sections) sections[name] = buildSection(section, now);
    const thresholds = this.manager.thresholds;
    return {
      schemaVersion: 1,
      revision: this.revision,
      generatedAt: now,
      thresholds: { warn: thresholds.warn, floor: thresholds.floor },
      accounts,
      cooldowns: this.manager.listCooldowns(),
      monitor: this.monitor?.health() ?? null,
      cache: this.manager.cache.stats(),
      sections,
    };
  }

  dispose(): void {
    this.disposed = true;
    this.pending?.cancel();
    this.pending = null;
    this.timeTimer?.cancel();
    this.timeTimer = null;
    for (const s of this.subscriptions) s.dispose();
    this.changes.clear();
  }

  private flush(): void {
    this.pending = null;
    if (this.disposed) return;
    this.revision++;
    const snap = this.snapshot();
    this.armTimeTimer(snap);
    this.changes.emit(snap);
  }

  /**
   * Next instant at which only time changes the picture: a cooldown ends, an entry turns stale (TTL)
   * or a reading passes its reset time.
   */
  private armTimeTimer(snap: EngineSnapshot): void {
    const now = snap.generatedAt;
    let next = Infinity;
    for (const c of snap.cooldowns) if (c.until > now && c.until < next) next = c.until;
    for (const a of snap.accounts) {
      const until = this.accountParts.get(a.account.id)?.validUntil ?? Infinity;
      if (until > now && until < next) next = until;
    }
    if (next === this.timeTimerAt) return;
    this.timeTimer?.cancel();
    this.timeTimer = null;
    this.timeTimerAt = null;
    if (next === Infinity) return;
    this.timeTimerAt = next;
    this.timeTimer = this.clock.setTimeout(() => {
      this.timeTimer = null;
      this.timeTimerAt = null;
      this.notify();
    }, next - now);
  }

  private buildAccount(account: Account, now: number): AccountPart {
    const modelIds = new Set(this.baseModels);
    const entries = this.manager.cache.entriesOf(account.id);
    for (const e of entries) modelIds.add(e.model);
    const models: ModelSnapshot[] = [];
    for (const model of [...modelIds].sort((a, b) => this.compareModels(a, b))) {
      const entry = this.manager.cache.peek(account.id, model);
      models.push({
        model,
        decision: this.manager.decide(account, model, { peek: true }),
        readings: entry === undefined ? [] : [...entry.readings],
        fetchedAt: entry === undefined ? null : entry.fetchedAt,
      });
    }
    const fetch = this.manager.fetchState(account.id);
    const cooldowns = this.manager.listCooldowns(account.id);
    // The first instant at which time alone changes this account's part.
    let validUntil = Infinity;
    for (const c of cooldowns) if (c.until > now && c.until < validUntil) validUntil = c.until;
    const ttl = this.manager.cache.stats().ttlMs;
    for (const e of entries) {
      const staleAt = Math.min(e.fetchedAt + ttl, e.quotaValidUntil);
      if (staleAt > now && staleAt < validUntil) validUntil = staleAt;
    }
    return {
      builtAt: now,
      validUntil,
      snapshot: {
        account,
        models,
        buckets: [...this.manager.bucketsOf(account.id)],
        cooldowns,
        fetch: { ...fetch, lastError: fetch.lastError === null ? null : { ...fetch.lastError } },
      },
    };
  }

  private compareModels(a: string, b: string): number {
    const ia = this.modelOrder.get(a) ?? Infinity;
    const ib = this.modelOrder.get(b) ?? Infinity;
    if (ia !== ib) return ia < ib ? -1 : 1;
    return a < b ? -1 : a > b ? 1 : 0;
  }
}

function buildSection(section: Section, now: number): unknown {
  try {
    const value = section.build(now);
    if (section.schema === undefined) return value;
    const parsed = section.schema.safeParse(value);
    return parsed.success ? parsed.data : { error: `section data invalid: ${parsed.error.message}` };
  } catch (err) {
    return { error: err instanceof Error ? err.message : String(err) };
  }
}
