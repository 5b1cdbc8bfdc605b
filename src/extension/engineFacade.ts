/**
 * The engine as the VS Code layer sees it. One window per machine leads: it runs the shared
 * EngineHost (proxy, refresh loop, ledger writer). Every other window follows: it reads the
 * leader's snapshot through the admin API, forwards refresh / cooldown commands to it, and takes
 * over when the leader goes away. No double polling, no port fights, one ledger writer.
 */
import * as vscode from 'vscode';
import type { LedgerAlert } from '../core/ledger/schema';
import type { EngineSnapshot } from '../core/stateStore';
import { EngineSnapshotSchema } from '../core/stateStore';
import type { Account } from '../core/types';
import { addSimulatorAccounts, simulatorOAuth } from '../host/demo';
import type { AccountMetadataStore } from '../host/engineHost';
import { EngineHost, accountIdFor } from '../host/engineHost';
import type { RunningSimulator } from '../simulator';
import { startSimulator } from '../simulator';
import type { OAuthConfig } from '../upstream/cloudcode/oauth';
import { GOOGLE_OAUTH_ENDPOINTS } from '../upstream/cloudcode/oauth';
import type { Config } from './config';
import type { EngineFacade, NewAccount } from './engine';
import { LeaderLock } from './leaderLock';
import type { Log } from './log';
import type { SecretVault } from './secrets';
import type { ProxyInfo } from './viewSource';

const ACCOUNTS_KEY = 'quotaPilot.accounts.v1';
const PIN_KEY = 'quotaPilot.pinnedAccount';
/** Leader heartbeat and follower poll interval. */
const HEARTBEAT_MS = 5_000;

/** Account metadata in globalState: no tokens, only what the tree shows. */
class GlobalStateAccounts implements AccountMetadataStore {
  constructor(private readonly state: vscode.Memento) {}
  async load(): Promise<Account[]> {
    return this.state.get<Account[]>(ACCOUNTS_KEY, []);
  }
  async save(accounts: readonly Account[]): Promise<void> {
    await this.state.update(ACCOUNTS_KEY, accounts);
  }
}

export class ExtensionEngine implements EngineFacade {
  private host: EngineHost | null = null;
  private sim: RunningSimulator | null = null;
  private followed: EngineSnapshot | null = null;
  private leaderPort: number | null = null;
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;
  private readonly alerts = new vscode.EventEmitter<LedgerAlert>();
  readonly onAlert = this.alerts.event;
  private readonly lock: LeaderLock;
  private timer: ReturnType<typeof setInterval> | undefined;
  private hostSubs: Array<{ dispose(): void }> = [];
  private disposed = false;
  private readonly accountsStore: GlobalStateAccounts;

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly config: Config,
    private readonly vault: SecretVault,
    private readonly log: Log,
  ) {
    this.lock = new LeaderLock({ dir: context.globalStorageUri.fsPath });
    this.accountsStore = new GlobalStateAccounts(context.globalState);
  }

  get role(): 'leader' | 'follower' | 'starting' {
    return this.host ? 'leader' : this.leaderPort !== null ? 'follower' : 'starting';
  }

  /** Becomes the leader if nobody leads, else follows; re-checks on a timer. */
  async start(): Promise<void> {
    await this.tick();
    this.timer = setInterval(() => void this.tick(), HEARTBEAT_MS);
  }

  private async tick(): Promise<void> {
    if (this.disposed) return;
    try {
      if (this.host) {
        if (!(await this.lock.heartbeat(this.host.proxyStatus().port))) {
          this.log.warn('another window took over the engine; following it');
          await this.stopHost();
        }
        return;
      }
      if (await this.lock.tryAcquire(null)) {
        await this.startHost();
        await this.lock.heartbeat(this.host ? (this.host as EngineHost).proxyStatus().port : null);
        return;
      }
      await this.follow();
    } catch (err) {
      this.log.error('engine coordination failed', err);
    }
  }

  private async startHost(): Promise<void> {
    const s = this.config.settings;
    const demo = s['demo.enabled'];
    if (demo && !this.sim) {
      this.sim = await startSimulator({ scenario: 'demo', port: s['demo.simulatorPort'], timeScale: 60 });
      this.log.info(`demo mode: simulator at ${this.sim.baseUrl} (one simulated hour per minute)`);
    }
    const key = await this.vault.proxyKey();
    this.log.addSecret(key);
    const host = await EngineHost.create({
      dataDir: this.context.globalStorageUri.fsPath,
      tokenStore: this.vault,
      accountStore: this.accountsStore,
      oauth: this.sim ? simulatorOAuth(this.sim) : await this.realOAuth(),
      baseUrls: this.sim ? [this.sim.baseUrl] : s['upstream.baseUrls'],
      userAgent: s['upstream.userAgent'],
      firstByteTimeoutSeconds: s['upstream.firstByteTimeoutSeconds'],
      proxy: { enabled: s['proxy.enabled'], port: s['proxy.port'], key },
      thresholds: { warn: s['thresholds.warnPercent'] / 100, floor: s['thresholds.floorPercent'] / 100 },
      strictFloor: s['thresholds.strictFloor'],
      refreshIntervalSeconds: s.refreshIntervalSeconds,
      cacheTtlSeconds: s.cacheTtlSeconds,
      modelMapping: s.modelMapping,
      ledger: {
        timeZone: s['ledger.timeZone'],
        thresholds: s['ledger.alertThresholds'],
        limits: s['ledger.limits'],
      },
      logger: {
        error: (m) => this.log.error(m),
        warn: (m) => this.log.warn(m),
        info: (m) => this.log.info(m),
        debug: (m) => this.log.debug(m),
      },
      version: String((this.context.extension.packageJSON as { version?: unknown }).version ?? '0.0.0'),
    });
    this.host = host;
    this.leaderPort = null;
    this.followed = null;
    const pinned = this.context.globalState.get<string | null>(PIN_KEY, null);
    if (pinned && host.registry.get(pinned)) host.pool.pin(pinned);
    this.hostSubs = [
      host.onChange(() => this.changed.fire()),
      host.onAlert((a) => this.alerts.fire(a)),
      host.pool.onChange(() => this.changed.fire()),
      this.config.onDidChange((next) =>
        host.configure({
          thresholds: {
            warn: next['thresholds.warnPercent'] / 100,
            floor: next['thresholds.floorPercent'] / 100,
          },
          refreshIntervalSeconds: next.refreshIntervalSeconds,
          limits: next['ledger.limits'],
          alertThresholds: next['ledger.alertThresholds'],
        }),
      ),
    ];
    // Demo mode starts with the simulator's accounts loaded.
    if (this.sim && host.registry.list().length === 0) await addSimulatorAccounts(host, this.sim);
    // The engine runs only while there is something to watch.
    if (host.registry.list().length > 0) await host.start();
    this.log.info(`engine started in this window (${host.registry.list().length} accounts)`);
    this.changed.fire();
  }

  private async stopHost(): Promise<void> {
    const host = this.host;
    this.host = null;
    this.hostSubs.forEach((d) => d.dispose());
    this.hostSubs = [];
    if (host) await host.dispose();
    if (this.sim) {
      await this.sim.close();
      this.sim = null;
    }
    this.changed.fire();
  }

  private async follow(): Promise<void> {
    const leader = await this.lock.leader();
    this.leaderPort = leader?.port ?? null;
    if (this.leaderPort === null) return;
    try {
      const res = await fetch(`http://127.0.0.1:${this.leaderPort}/quota-pilot/v1/status`, {
        headers: { authorization: `Bearer ${await this.vault.proxyKey()}` },
        signal: AbortSignal.timeout(3_000),
      });
      if (!res.ok) throw new Error(`status ${res.status}`);
      const parsed = EngineSnapshotSchema.safeParse(await res.json());
      if (parsed.success) {
        this.followed = parsed.data;
        this.changed.fire();
      }
    } catch (err) {
      this.log.debug(`following the leader window failed: ${String(err)}`);
    }
  }

  private async realOAuth(): Promise<OAuthConfig> {
    const clientId = this.config.get('oauth.clientId');
    const secret = await this.vault.oauthClientSecret();
    return { ...GOOGLE_OAUTH_ENDPOINTS, clientId, ...(secret ? { clientSecret: secret } : {}) };
  }

  private requireHost(): EngineHost {
    if (!this.host) {
      throw new Error(
        'Another VS Code window runs the Quota Pilot engine; make this change there (or close that window and try again).',
      );
    }
    return this.host;
  }

  // ---- ViewSource -------------------------------------------------------------------------------

  snapshot(): EngineSnapshot | null {
    return this.host ? this.host.snapshot() : this.followed;
  }

  pinnedAccountId(): string | null {
    return this.host ? this.host.pool.pinned() : this.context.globalState.get<string | null>(PIN_KEY, null);
  }

  current(): { accountId: string; model: string } | null {
    return this.host?.pool.current() ?? null;
  }

  proxy(): ProxyInfo {
    if (this.host) {
      const p = this.host.proxyStatus();
      return {
        enabled: p.enabled,
        running: p.running,
        url: p.url,
        requests: p.requests,
        avoided429: p.avoided429,
        failovers: p.failovers,
        error: p.error,
      };
    }
    const url = this.leaderPort !== null ? `http://127.0.0.1:${this.leaderPort}` : null;
    return {
      enabled: this.config.get('proxy.enabled'),
      running: url !== null,
      url,
      requests: 0,
      avoided429: 0,
      failovers: 0,
      error: null,
    };
  }

  // ---- EngineFacade -----------------------------------------------------------------------------

  accounts(): Account[] {
    return this.host ? this.host.registry.list() : (this.followed?.accounts.map((a) => a.account) ?? []);
  }

  async addAccount(input: NewAccount): Promise<Account> {
    const host = this.requireHost();
    const account = await host.addAccount({
      email: input.email,
      ...(input.label ? { label: input.label } : {}),
      tokens: input.tokens,
    });
    await host.start();
    return account;
  }

  async removeAccount(id: string): Promise<void> {
    const host = this.requireHost();
    await host.removeAccount(id);
    await this.vault.remove(id);
    if (this.context.globalState.get(PIN_KEY) === id) await this.context.globalState.update(PIN_KEY, null);
  }

  async renameAccount(id: string, label: string): Promise<void> {
    this.requireHost().renameAccount(id, label);
  }

  async setEnabled(id: string, enabled: boolean): Promise<void> {
    this.requireHost().setEnabled(id, enabled);
  }

  async pin(id: string | null): Promise<void> {
    this.requireHost().pool.pin(id);
    await this.context.globalState.update(PIN_KEY, id);
    this.changed.fire();
  }

  async refresh(id?: string): Promise<void> {
    if (this.host) return this.host.refresh(id);
    if (this.leaderPort === null) return;
    await fetch(`http://127.0.0.1:${this.leaderPort}/quota-pilot/v1/refresh`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await this.vault.proxyKey()}`, 'content-type': 'application/json' },
      body: JSON.stringify(id ? { accountId: id } : {}),
    });
    await this.follow();
  }

  async resetCooldowns(): Promise<void> {
    if (this.host) return this.host.resetCooldowns();
    if (this.leaderPort === null) return;
    await fetch(`http://127.0.0.1:${this.leaderPort}/quota-pilot/v1/cooldowns/reset`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await this.vault.proxyKey()}`, 'content-type': 'application/json' },
      body: '{}',
    });
  }

  async startProxy(): Promise<void> {
    const host = this.requireHost();
    await host.start();
    await host.startProxy();
    this.changed.fire();
  }

  async stopProxy(): Promise<void> {
    await this.requireHost().stopProxy();
    this.changed.fire();
  }

  usageSummaryText(): string {
    return this.host
      ? this.host.usageSummaryText()
      : 'The usage summary is shown in the window that runs the engine.';
  }

  async oauthConfig(): Promise<OAuthConfig | { problem: string }> {
    if (this.sim) return simulatorOAuth(this.sim);
    const cfg = await this.realOAuth();
    if (!cfg.clientId) {
      return {
        problem:
          'Signing in needs your own Google OAuth desktop client: set quotaPilot.oauth.clientId (and its secret with "Quota Pilot: Set OAuth Client Secret…"), or import a credentials file.',
      };
    }
    return cfg;
  }

  async addDemoAccounts(): Promise<number> {
    const host = this.requireHost();
    if (!this.sim) {
      await this.config.set('demo.enabled', true);
      // Restart the engine in demo mode: upstream and sign-in point at the simulator.
      await this.stopHost();
      await this.startHost();
    }
    const n = await addSimulatorAccounts(this.host ?? host, this.sim as RunningSimulator);
    await (this.host ?? host).start();
    await (this.host ?? host).refresh();
    return n;
  }

  proxyKey(): Promise<string> {
    return this.vault.proxyKey();
  }

  /** For the end-to-end tests: the simulator's control API URL in demo mode. */
  simulatorUrl(): string | null {
    return this.sim?.baseUrl ?? null;
  }

  idOf(email: string): string {
    return accountIdFor(email);
  }

  /** Stops the engine (flushing the ledger) and gives up leadership; awaited on deactivate. */
  async shutdown(): Promise<void> {
    this.disposed = true;
    if (this.timer) clearInterval(this.timer);
    await this.stopHost();
    await this.lock.release();
  }

  dispose(): void {
    void this.shutdown();
    this.changed.dispose();
    this.alerts.dispose();
  }
}
