/**
 * The composition root shared by the headless CLI (`serve`) and the VS Code extension: it builds the
 * engine (registry, quota manager, monitor, ledger, pool, state store), the Cloud Code client with
 * its token manager, and the local proxy, and exposes what a front end needs — start / stop, the
 * snapshot, account operations, configuration at run time — without knowing which front end it is.
 */
import { createHash } from 'node:crypto';
import { AccountRegistry } from '../core/accountRegistry';
import type { Clock } from '../core/clock';
import { SystemClock } from '../core/clock';
import type { LedgerAlert, Limit } from '../core/ledger/schema';
import { UsageLedger } from '../core/ledger/ledger';
import { formatSummaryTable } from '../core/ledger/summaryTable';
import { registerUsageSection } from '../core/ledger/stateSection';
import { ModelMapper } from '../core/modelMapping';
import { QuotaMonitor } from '../core/monitor';
import { AccountPool } from '../core/pool/accountPool';
import { QuotaManager } from '../core/quotaManager';
import type { EngineSnapshot } from '../core/stateStore';
import { StateStore } from '../core/stateStore';
import type { Account, Thresholds, Tier } from '../core/types';
import type { ModelInfo } from '../proxy/backend';
import { createCodecs } from '../proxy/translate/codecs';
import { ProxyServer } from '../proxy/server';
import { FileLedgerStore } from '../store/ledgerFileStore';
import { ledgerFilePath } from '../store/dataDir';
import { CloudCodeClient, type ModelMetadata } from '../upstream/cloudcode/client';
import type { OAuthConfig, StoredTokens, TokenStore } from '../upstream/cloudcode/oauth';
import { TokenManager } from '../upstream/cloudcode/oauth';
import { CloudCodeQuotaProvider } from '../upstream/cloudcode/provider';
import { PoolBackend } from './poolBackend';

export interface HostLogger {
  error(message: string): void;
  warn(message: string): void;
  info(message: string): void;
  debug(message: string): void;
}

/** Where account metadata (never tokens) is kept between runs. */
export interface AccountMetadataStore {
  load(): Promise<Account[]>;
  save(accounts: readonly Account[]): Promise<void>;
}

export interface EngineHostOptions {
  clock?: Clock;
  /** Folder of ledger.json; null keeps the ledger in memory (tests, demo). */
  dataDir: string | null;
  tokenStore: TokenStore;
  accountStore?: AccountMetadataStore;
  oauth: OAuthConfig;
  baseUrls: readonly string[];
  userAgent?: string;
  /**
   * Longest wait for a streamed answer's first byte before the attempt fails over to another
   * account; default 30 s.
   */
  firstByteTimeoutSeconds?: number;
  /** Keep-alive connections per upstream base URL; default 128. */
  upstreamConnections?: number;
  proxy: { enabled: boolean; port: number; key: string };
  thresholds?: Thresholds;
  /** Accounts below the floor never serve (default: they serve as the last resort). */
  strictFloor?: boolean;
  refreshIntervalSeconds?: number;
  cacheTtlSeconds?: number;
  modelMapping?: Record<string, string>;
  ledger?: { timeZone?: string; thresholds?: number[]; limits?: Limit[] };
  logger?: HostLogger;
  version?: string;
  /**
   * Changes within this window give one state snapshot (UI, admin API); default 250 ms. A snapshot
   * carries every account and the ledger's summary, so without a window a refresh cycle of N
   * accounts built ~N/4 of them: 250 × 1,000 accounts cost a minute of CPU.
   */
  stateCoalesceMs?: number;
}

const DEFAULT_STATE_COALESCE_MS = 250;

export interface ProxyStatus {
  enabled: boolean;
  running: boolean;
  url: string | null;
  port: number | null;
  requests: number;
  avoided429: number;
  failovers: number;
  error: string | null;
}

export interface AddAccountInput {
  email: string;
  label?: string;
  tokens: StoredTokens;
  tier?: Tier;
  projectId?: string;
}

const SILENT: HostLogger = { error: () => {}, warn: () => {}, info: () => {}, debug: () => {} };

/** A stable, readable id for an account: its lower-cased email. */
export function accountIdFor(email: string): string {
  const e = email.trim().toLowerCase();
  return e.length > 0 ? e : `account-${createHash('sha256').update(email).digest('hex').slice(0, 12)}`;
}

export class EngineHost {
  readonly clock: Clock;
  readonly registry = new AccountRegistry();
  readonly manager: QuotaManager;
  readonly monitor: QuotaMonitor;
  readonly ledger: UsageLedger;
  readonly pool: AccountPool;
  readonly state: StateStore;
  readonly tokens: TokenManager;
  readonly client: CloudCodeClient;
  readonly provider: CloudCodeQuotaProvider;
  readonly mapper: ModelMapper;
  readonly backend: PoolBackend;
  private proxyServer: ProxyServer | null = null;
  private proxyError: string | null = null;
  private proxyEnabled: boolean;
  private proxyPort: number;
  private readonly proxyKey: string;
  private readonly log: HostLogger;
  /** What each account's last `fetchAvailableModels` offered. */
  private readonly catalogs = new Map<string, readonly ModelMetadata[]>();
  /** The union of `catalogs`: the models some account offers (listed, and resolved against). */
  private fetchedModels = new Map<string, ModelInfo>();
  private readonly projectFetches = new Map<string, Promise<string>>();
  private readonly disposables: Array<{ dispose(): void }> = [];
  private started = false;

  private constructor(
    private readonly options: EngineHostOptions,
    ledger: UsageLedger,
  ) {
    this.clock = options.clock ?? new SystemClock();
    this.log = options.logger ?? SILENT;
    this.ledger = ledger;
    this.proxyEnabled = options.proxy.enabled;
    this.proxyPort = options.proxy.port;
    this.proxyKey = options.proxy.key;
    this.tokens = new TokenManager({
      store: options.tokenStore,
      oauth: options.oauth,
      clock: this.clock,
      onAccountDisabled: (accountId, reason) => {
        if (this.registry.get(accountId)) {
          this.registry.update(accountId, { status: { kind: 'disabled', reason } });
          this.log.warn(`account ${accountId} disabled: ${reason}`);
        }
      },
      logger: { debug: (m) => this.log.debug(m), warn: (m) => this.log.warn(m) },
    });
    this.client = new CloudCodeClient({
      getAccessToken: this.tokens.getAccessToken,
      baseUrls: options.baseUrls,
      ...(options.userAgent ? { userAgent: options.userAgent } : {}),
      clock: this.clock,
      // Parallel agents: 16 keep-alive connections per base capped throughput at 16 calls in flight.
      connections: options.upstreamConnections ?? 128,
      ...(options.firstByteTimeoutSeconds !== undefined
        ? { timeouts: { firstByteMs: options.firstByteTimeoutSeconds * 1000 } }
        : {}),
      logger: { debug: (m: string) => this.log.debug(m), warn: (m: string) => this.log.warn(m) },
    } as ConstructorParameters<typeof CloudCodeClient>[0]);
    this.mapper = new ModelMapper(options.modelMapping ?? {}, { log: (line) => this.log.info(line) });
    this.provider = new CloudCodeQuotaProvider(this.client, {
      clock: this.clock,
      onCatalog: (accountId, models, deprecated) => {
        this.catalogs.set(accountId, models);
        this.rebuildCatalog();
        if (Object.keys(deprecated).length > 0) this.mapper.setDeprecated(deprecated);
      },
    });
    this.manager = new QuotaManager({
      clock: this.clock,
      provider: this.provider,
      ttlMs: (options.cacheTtlSeconds ?? 300) * 1000,
      ...(options.thresholds ? { thresholds: options.thresholds } : {}),
    });
    this.monitor = new QuotaMonitor({
      clock: this.clock,
      manager: this.manager,
      registry: this.registry,
      intervalSeconds: options.refreshIntervalSeconds ?? 300,
    });
    this.state = new StateStore({
      clock: this.clock,
      registry: this.registry,
      manager: this.manager,
      monitor: this.monitor,
      coalesceMs: options.stateCoalesceMs ?? DEFAULT_STATE_COALESCE_MS,
    });
    this.disposables.push(registerUsageSection(this.state, this.ledger, this.clock));
    this.pool = new AccountPool({
      clock: this.clock,
      registry: this.registry,
      manager: this.manager,
      ledger: this.ledger,
      monitor: this.monitor,
      strictFloor: options.strictFloor ?? false,
      logger: { info: (m) => this.log.info(m), warn: (m) => this.log.warn(m) },
    });
    this.backend = new PoolBackend({
      clock: this.clock,
      pool: this.pool,
      client: this.client,
      registry: this.registry,
      manager: this.manager,
      ledger: this.ledger,
      monitor: this.monitor,
      state: this.state,
      projectFor: (account, signal) => this.projectFor(account, signal),
      recheckStatus: (account) => this.recheckStatus(account),
      fetchedModels: () => this.fetchedModels,
    });
    // Provider fractions feed the ledger's threshold alerts: when an account's quota changes, its
    // decisions are read from the cache. (Building a state snapshot here, once per account on every
    // change, made a refresh cycle cubic in the account count: 100 accounts pegged a core.)
    this.disposables.push(
      this.manager.onChange((change) => {
        if (change.kind === 'quota') this.noteProviderFractions(change.accountId);
      }),
    );
    if (options.accountStore) {
      const store = options.accountStore;
      this.disposables.push(
        this.registry.onChange(() => {
          store
            .save(this.registry.list())
            .catch((err: unknown) => this.log.error(`saving accounts failed: ${String(err)}`));
        }),
      );
    }
  }

  static async create(options: EngineHostOptions): Promise<EngineHost> {
    const clock = options.clock ?? new SystemClock();
    const ledger = await UsageLedger.open({
      clock,
      ...(options.dataDir ? { store: new FileLedgerStore(ledgerFilePath(options.dataDir)) } : {}),
      config: {
        ...(options.ledger?.timeZone ? { timeZone: options.ledger.timeZone } : {}),
        ...(options.ledger?.thresholds ? { thresholds: options.ledger.thresholds } : {}),
        ...(options.ledger?.limits ? { limits: options.ledger.limits } : {}),
      },
    });
    const host = new EngineHost({ ...options, clock }, ledger);
    for (const p of ledger.problems) host.log.warn(`usage ledger: ${p.message}`);
    if (options.accountStore) {
      for (const a of await options.accountStore.load()) host.registry.upsert(a);
    }
    return host;
  }

  /** Starts the refresh loop and, when enabled, the proxy. A taken port is reported, not thrown. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    this.monitor.start();
    if (this.proxyEnabled) await this.startProxy().catch(() => undefined);
  }

  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    await this.stopProxy();
    await this.monitor.stop();
    await this.ledger.flush();
  }

  async dispose(): Promise<void> {
    await this.stop();
    this.disposables.forEach((d) => d.dispose());
    this.state.dispose();
    this.monitor.dispose();
    await this.ledger.dispose();
  }

  // ---- proxy ----------------------------------------------------------------------------------

  async startProxy(): Promise<ProxyStatus> {
    this.proxyEnabled = true;
    if (this.proxyServer) return this.proxyStatus();
    try {
      this.proxyServer = await ProxyServer.start({
        backend: this.backend,
        key: this.proxyKey,
        port: this.proxyPort,
        codecs: createCodecs({ now: () => this.clock.now(), debug: (m) => this.log.debug(m) }),
        modelMapper: this.mapper,
        clock: this.clock,
        logger: {
          info: (m) => this.log.info(m),
          warn: (m) => this.log.warn(m),
          error: (m) => this.log.error(m),
        },
        ...(this.options.version ? { version: this.options.version } : {}),
      });
      this.proxyError = null;
      this.log.info(`proxy listening on ${this.proxyServer.url}`);
    } catch (err) {
      this.proxyError = err instanceof Error ? err.message : String(err);
      this.log.error(`proxy not started: ${this.proxyError}`);
      throw err;
    } finally {
      this.state.notify();
    }
    return this.proxyStatus();
  }

  async stopProxy(): Promise<void> {
    const server = this.proxyServer;
    this.proxyServer = null;
    if (server) {
      await server.stop();
      this.log.info('proxy stopped');
      this.state.notify();
    }
  }

  proxyStatus(): ProxyStatus {
    const s = this.proxyServer;
    return {
      enabled: this.proxyEnabled,
      running: s !== null,
      url: s ? s.url : null,
      port: s ? s.port : null,
      requests: this.backend.requests,
      avoided429: this.backend.avoided429,
      failovers: this.backend.failovers,
      error: this.proxyError,
    };
  }

  // ---- accounts -------------------------------------------------------------------------------

  snapshot(): EngineSnapshot {
    return this.state.snapshot();
  }

  onChange(listener: (snapshot: EngineSnapshot) => void): { dispose(): void } {
    return this.state.onChange(listener);
  }

  onAlert(listener: (alert: LedgerAlert) => void): { dispose(): void } {
    return this.ledger.onAlert(listener);
  }

  async addAccount(input: AddAccountInput): Promise<Account> {
    const id = accountIdFor(input.email);
    await this.tokens.save(id, { ...input.tokens, email: input.email });
    const existing = this.registry.get(id);
    const account = this.registry.upsert({
      id,
      email: input.email,
      label: input.label ?? existing?.label ?? input.email,
      tier: input.tier ?? existing?.tier ?? 'UNKNOWN',
      status: { kind: 'active' },
      ...(input.projectId
        ? { projectId: input.projectId }
        : existing?.projectId
          ? { projectId: existing.projectId }
          : {}),
    });
    this.log.info(`account ${account.label} added`);
    // Learn tier and project in the background; the monitor refreshes its quota.
    void this.learnTier(account);
    return account;
  }

  async removeAccount(id: string): Promise<void> {
    this.pool.forget(id);
    this.manager.forget(id);
    this.registry.remove(id);
    if (this.catalogs.delete(id)) this.rebuildCatalog();
  }

  /** Recomputes the models some account offers and hands them to the model resolver. */
  private rebuildCatalog(): void {
    const next = new Map<string, ModelInfo>();
    const entries: Array<{ id: string; displayName?: string; recommended?: boolean }> = [];
    for (const models of this.catalogs.values()) {
      for (const m of models) {
        if (next.has(m.id)) continue;
        next.set(m.id, {
          id: m.id,
          displayName: m.displayName ?? m.id,
          provider: m.provider === 'anthropic' || m.provider === 'openai' ? m.provider : 'google',
          ...(m.maxTokens ? { maxTokens: m.maxTokens } : {}),
          ...(m.maxOutputTokens ? { maxOutputTokens: m.maxOutputTokens } : {}),
        });
        entries.push({
          id: m.id,
          ...(m.displayName !== undefined ? { displayName: m.displayName } : {}),
          ...(m.recommended !== undefined ? { recommended: m.recommended } : {}),
        });
      }
    }
    this.fetchedModels = next;
    this.mapper.setCatalog(entries);
  }

  renameAccount(id: string, label: string): Account {
    return this.registry.update(id, { label });
  }

  setEnabled(id: string, enabled: boolean): Account {
    return this.registry.update(id, {
      status: enabled ? { kind: 'active' } : { kind: 'disabled', reason: 'disabled by you' },
    });
  }

  /** Refreshes quotas now; accounts waiting for verification are asked again first. */
  async refresh(id?: string): Promise<void> {
    const waiting = this.registry
      .list()
      .filter((a) => (id === undefined || a.id === id) && a.status.kind === 'needs-verification');
    await Promise.all(waiting.map((a) => this.recheckStatus(a)));
    await this.monitor.refreshNow(id);
  }

  /**
   * Asks loadCodeAssist again about an account that needs verification: once the provider no
   * longer names a problem, the account is back in rotation.
   */
  private async recheckStatus(account: Account): Promise<void> {
    try {
      const report = await this.provider.fetchTier(account);
      const current = this.registry.get(account.id);
      if (current?.status.kind !== 'needs-verification') return;
      this.registry.update(account.id, {
        tier: report.tier,
        ...(report.projectId ? { projectId: report.projectId } : {}),
        status: report.status ?? { kind: 'active' },
      });
      if (!report.status) this.log.info(`account ${account.label} is verified; back in rotation`);
    } catch (err) {
      this.log.warn(
        `could not re-check ${account.label}: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
  }

  resetCooldowns(): void {
    this.manager.clearCooldowns();
  }

  /** The ledger's daily summary as text. */
  usageSummaryText(): string {
    return formatSummaryTable(this.ledger.summary());
  }

  /** Applies settings that can change at run time. */
  configure(patch: {
    thresholds?: Thresholds;
    refreshIntervalSeconds?: number;
    modelMapping?: Record<string, string>;
    limits?: Limit[];
    alertThresholds?: number[];
  }): void {
    if (patch.thresholds) this.manager.setThresholds(patch.thresholds);
    if (patch.refreshIntervalSeconds)
      this.monitor.configure({ intervalSeconds: patch.refreshIntervalSeconds });
    if (patch.limits) this.ledger.setLimits(patch.limits, 'settings');
    if (patch.alertThresholds) this.ledger.setThresholds(patch.alertThresholds);
    if (patch.modelMapping) this.mapper.setUserTable(patch.modelMapping);
  }

  private noteProviderFractions(accountId: string): void {
    const account = this.registry.get(accountId);
    if (!account) return;
    for (const entry of this.manager.cache.entriesOf(accountId)) {
      const d = this.manager.decide(account, entry.model, { peek: true });
      if (d.remainingFraction !== null && !d.degraded) {
        this.ledger.noteProviderFraction(accountId, entry.model, d.remainingFraction, d.resetTime);
      }
    }
  }

  private async learnTier(account: Account): Promise<void> {
    try {
      const report = await this.provider.fetchTier(account);
      const current = this.registry.get(account.id);
      if (!current) return;
      this.registry.update(account.id, {
        tier: report.tier,
        ...(report.projectId ? { projectId: report.projectId } : {}),
        ...(report.status ? { status: report.status } : {}),
      });
    } catch (err) {
      this.log.warn(
        `could not read the tier of ${account.label}: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
  }

  private projectFor(account: Account, signal: AbortSignal): Promise<string> {
    const known = this.registry.get(account.id)?.projectId ?? this.provider.projectOf(account);
    if (known) return Promise.resolve(known);
    let pending = this.projectFetches.get(account.id);
    if (!pending) {
      pending = this.provider
        .fetchTier(account, signal)
        .then((report) => {
          if (!report.projectId) throw new Error(`${account.label} has no Cloud Code project yet.`);
          if (this.registry.get(account.id)) {
            this.registry.update(account.id, {
              tier: report.tier,
              projectId: report.projectId,
              ...(report.status ? { status: report.status } : {}),
            });
          }
          return report.projectId;
        })
        .finally(() => this.projectFetches.delete(account.id));
      this.projectFetches.set(account.id, pending);
    }
    return pending;
  }
}
