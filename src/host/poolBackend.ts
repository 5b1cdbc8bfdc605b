/**
 * The proxy's backend: runs a Gemini request on the account the pool chooses, through the Cloud
 * Code client, and fails over transparently while no byte has reached the client.
 *
 * - `generate`: up to `maxAttempts` accounts within `totalDeadlineMs`; each failure teaches the pool
 *   (cooldowns, out of rotation) before the next account is tried.
 * - `stream`: an attempt counts as accepted only once its first chunk arrived; until then a failure
 *   moves to the next account. After that the stream belongs to the client: a later failure is
 *   reported to the pool and rethrown, and the server ends the stream with an error event.
 */
import { DEFAULT_CATALOG } from '../core/catalog';
import type { Clock } from '../core/clock';
import type { Lease } from '../core/pool/accountPool';
import type { AccountPool } from '../core/pool/accountPool';
import { NoAccountCanServeError } from '../core/pool/accountPool';
import { ProviderError } from '../core/provider';
import type { StateStore } from '../core/stateStore';
import type { UsageLedger } from '../core/ledger/ledger';
import type { QuotaMonitor } from '../core/monitor';
import type { QuotaManager } from '../core/quotaManager';
import type {
  AdminBackend,
  BackendCall,
  BackendResult,
  CountTokensCall,
  Json,
  ModelInfo,
  ProxyBackend,
  QuotaGauge,
} from '../proxy/backend';
import { BackendError, NoAccountAvailableError } from '../proxy/backend';
import type { CloudCodeClient } from '../upstream/cloudcode/client';
import type { GeminiResponse } from '../upstream/gemini/schema';
import type { AccountRegistry } from '../core/accountRegistry';

export interface PoolBackendOptions {
  clock: Clock;
  pool: AccountPool;
  client: CloudCodeClient;
  registry: AccountRegistry;
  manager: QuotaManager;
  ledger: UsageLedger;
  monitor: QuotaMonitor;
  state: StateStore;
  /** The account's Cloud Code project; learned through loadCodeAssist / onboarding on first use. */
  projectFor: (account: Lease['account'], signal: AbortSignal) => Promise<string>;
  /** Models fetched from the upstream catalog (id → display name), beyond the built-in catalog. */
  fetchedModels?: () => ReadonlyMap<string, ModelInfo>;
  maxAttempts?: number;
  totalDeadlineMs?: number;
}

/** Errors on which another account may succeed. */
const FAILOVER_KINDS = new Set([
  'quota-exhausted',
  'rate-limited',
  'capacity',
  'auth-expired',
  'verification-required',
  'forbidden',
  'transient',
]);

function usageOf(r: GeminiResponse | undefined): {
  inputTokens: number;
  outputTokens: number;
  thinkingTokens: number;
} {
  const u = r?.usageMetadata;
  return {
    inputTokens: u?.promptTokenCount ?? 0,
    outputTokens: u?.candidatesTokenCount ?? 0,
    thinkingTokens: u?.thoughtsTokenCount ?? 0,
  };
}

function toBackendError(err: ProviderError): BackendError {
  const init = { cause: err, ...(err.retryAfterMs !== undefined ? { retryAfterMs: err.retryAfterMs } : {}) };
  switch (err.kind) {
    case 'not-found':
      return new BackendError('not-found', err.message, init);
    case 'invalid-response':
      return err.status === 400
        ? new BackendError('invalid-request', err.message, init)
        : new BackendError('upstream', `The upstream answered in an unexpected way: ${err.message}`, init);
    case 'aborted':
      return new BackendError('aborted', err.message, init);
    case 'auth-expired':
      return new BackendError('auth', `${err.message} Sign in to the account again.`, init);
    case 'verification-required':
    case 'forbidden':
      return new BackendError('forbidden', err.message, init);
    case 'quota-exhausted':
      return new BackendError('quota-exhausted', err.message, init);
    case 'rate-limited':
      return new BackendError('rate-limited', err.message, init);
    case 'capacity':
      return new BackendError('capacity', err.message, init);
    default:
      return new BackendError('upstream', err.message, init);
  }
}

function asProviderError(err: unknown): ProviderError {
  if (err instanceof ProviderError) return err;
  if (err instanceof Error && err.name === 'AbortError')
    return new ProviderError('aborted', 'cancelled', { cause: err });
  return new ProviderError('transient', err instanceof Error ? err.message : String(err), { cause: err });
}

export class PoolBackend implements ProxyBackend {
  readonly admin: AdminBackend;
  private readonly maxAttempts: number;
  private readonly totalDeadlineMs: number;
  /** Requests that failed over to another account and then succeeded. */
  failovers = 0;
  /** Upstream 429s that the client never saw. */
  avoided429 = 0;
  /** Generation requests handled (whole and streamed). */
  requests = 0;

  constructor(private readonly o: PoolBackendOptions) {
    this.maxAttempts = o.maxAttempts ?? 4;
    this.totalDeadlineMs = o.totalDeadlineMs ?? 120_000;
    this.admin = this.buildAdmin();
  }

  async generate(call: BackendCall): Promise<BackendResult> {
    return this.withFailover(call, async (lease, project) => {
      const response = await this.o.client.generateContent({
        accountId: lease.account.id,
        model: call.model,
        project,
        request: call.request as Record<string, unknown>,
        signal: call.signal,
      });
      this.o.pool.release(lease, { kind: 'success', usage: usageOf(response) });
      return { response };
    });
  }

  async stream(call: BackendCall): Promise<AsyncIterable<GeminiResponse>> {
    return this.withFailover(call, async (lease, project) => {
      const chunks = this.o.client.streamGenerateContent({
        accountId: lease.account.id,
        model: call.model,
        project,
        request: call.request as Record<string, unknown>,
        signal: call.signal,
      });
      const iterator = chunks[Symbol.asyncIterator]();
      const first = await iterator.next(); // throws before the first byte → failover
      return this.continueStream(lease, first, iterator);
    });
  }

  async countTokens(call: CountTokensCall): Promise<{ totalTokens: number }> {
    const account = this.o.registry.list().find((a) => a.status.kind === 'active');
    if (!account)
      throw new BackendError(
        'quota-exhausted',
        'No active account to count tokens with; add or enable an account.',
        { status: 503 },
      );
    try {
      return await this.o.client.countTokens({
        accountId: account.id,
        request: call.request as Record<string, unknown>,
        signal: call.signal,
      });
    } catch (err) {
      throw toBackendError(asProviderError(err));
    }
  }

  async listModels(): Promise<ModelInfo[]> {
    const out = new Map<string, ModelInfo>();
    for (const m of DEFAULT_CATALOG) {
      out.set(m.id, {
        id: m.id,
        displayName: m.displayName,
        provider: m.provider,
        maxTokens: m.maxTokens,
        maxOutputTokens: m.maxOutputTokens,
      });
    }
    for (const [id, m] of this.o.fetchedModels?.() ?? new Map<string, ModelInfo>()) out.set(id, m);
    return [...out.values()];
  }

  quotaGauges(): QuotaGauge[] {
    const snap = this.o.state.snapshot();
    return snap.accounts.flatMap((a) =>
      a.models.map((m) => ({
        accountLabel: a.account.label,
        model: m.model,
        remainingFraction: m.decision.remainingFraction,
      })),
    );
  }

  private async withFailover<T>(
    call: BackendCall,
    attempt: (lease: Lease, project: string) => Promise<T>,
  ): Promise<T> {
    this.requests++;
    const started = this.o.clock.now();
    const tried = new Set<string>();
    let lastError: ProviderError | undefined;
    let saw429 = false;
    for (let i = 0; i < this.maxAttempts; i++) {
      if (call.signal.aborted) throw new BackendError('aborted', 'The client went away.');
      if (i > 0 && this.o.clock.now() - started > this.totalDeadlineMs) break;
      let lease: Lease;
      try {
        lease = this.o.pool.acquire(call.model, call.sessionKey, { exclude: tried });
      } catch (err) {
        if (err instanceof NoAccountCanServeError) {
          if (lastError && !FAILOVER_KINDS.has(lastError.kind)) throw toBackendError(lastError);
          throw new NoAccountAvailableError(
            call.model,
            err.availableAt,
            this.o.clock.now(),
            `${err.message} Retry later, or add an account.`,
          );
        }
        throw err;
      }
      tried.add(lease.account.id);
      call.reporter.attempt({ accountId: lease.account.id, accountLabel: lease.account.label });
      try {
        const project = await this.o.projectFor(lease.account, call.signal);
        const result = await attempt(lease, project);
        if (i > 0) {
          this.failovers++;
          if (saw429) this.avoided429++;
        }
        return result;
      } catch (err) {
        const e = asProviderError(err);
        if (e.kind === 'aborted' || call.signal.aborted) {
          this.o.pool.release(lease, { kind: 'aborted' });
          throw new BackendError('aborted', 'The client went away.', { cause: e });
        }
        this.o.pool.release(lease, { kind: 'error', error: e });
        call.reporter.upstreamError({ origin: 'cloudcode', status: e.status ?? 0, kind: e.kind });
        if (e.status === 429 || e.kind === 'quota-exhausted' || e.kind === 'rate-limited') saw429 = true;
        lastError = e;
        if (!FAILOVER_KINDS.has(e.kind)) throw toBackendError(e);
        call.reporter.failover({ fromAccountLabel: lease.account.label, reason: e.kind });
      }
    }
    throw lastError ? toBackendError(lastError) : new BackendError('upstream', 'No attempt could be made.');
  }

  private continueStream(
    lease: Lease,
    first: IteratorResult<GeminiResponse>,
    iterator: AsyncIterator<GeminiResponse>,
  ): AsyncIterable<GeminiResponse> {
    const pool = this.o.pool;
    let last: GeminiResponse | undefined;
    let settled = false;
    const settle = (outcome: Parameters<AccountPool['release']>[1]): void => {
      if (settled) return;
      settled = true;
      pool.release(lease, outcome);
    };
    return {
      [Symbol.asyncIterator]: () => {
        let pendingFirst: IteratorResult<GeminiResponse> | undefined = first;
        return {
          next: async (): Promise<IteratorResult<GeminiResponse>> => {
            try {
              const r = pendingFirst ?? (await iterator.next());
              pendingFirst = undefined;
              if (r.done) settle({ kind: 'success', usage: usageOf(last) });
              else if (r.value.usageMetadata) last = r.value;
              return r;
            } catch (err) {
              const e = asProviderError(err);
              settle(e.kind === 'aborted' ? { kind: 'aborted' } : { kind: 'error', error: e });
              throw toBackendError(e);
            }
          },
          return: async (): Promise<IteratorResult<GeminiResponse>> => {
            // The consumer stopped early (client disconnected): cancel upstream, free the reservation.
            settle({ kind: 'aborted' });
            await iterator.return?.();
            return { done: true, value: undefined };
          },
        };
      },
    };
  }

  private buildAdmin(): AdminBackend {
    const o = this.o;
    return {
      status: async () => o.state.snapshot() as unknown as Json,
      usage: async () => o.ledger.summary() as unknown as Json,
      createReservation: async (req): Promise<{ id: string } & { [key: string]: Json }> => {
        const tokens = req.tokens;
        const ttl = req.ttlMs ?? 10 * 60_000;
        let accountId = req.accountId;
        if (!accountId) {
          const lease = o.pool.acquire(req.model, null, { reserveTokens: tokens });
          // The lease's reservation is the one handed out.
          return {
            id: lease.reservationId as string,
            accountId: lease.account.id,
            accountLabel: lease.account.label,
            model: req.model,
            tokens,
            expiresAt: o.clock.now() + ttl,
            reason: lease.reason,
          };
        }
        if (!o.registry.get(accountId))
          throw new BackendError('invalid-request', `No account "${accountId}".`);
        const r = o.ledger.reserve(accountId, req.model, { tokens, requests: 1 }, ttl);
        if (!r.ok) throw new BackendError('quota-exhausted', r.reason, { status: 409 });
        accountId = accountId as string;
        return {
          id: r.id,
          accountId,
          model: req.model,
          tokens,
          expiresAt: r.expiresAt,
          reason: 'requested account',
        };
      },
      releaseReservation: async (id) => o.ledger.release(id),
      refreshNow: async (accountId) => {
        await o.monitor.refreshNow(accountId);
        return { refreshed: accountId ?? 'all' };
      },
      resetCooldowns: async (req) => {
        const before = o.manager.listCooldowns(req.accountId).length;
        if (req.accountId && req.model) o.manager.clearCooldown(req.accountId, req.model);
        else o.manager.clearCooldowns(req.accountId);
        const after = o.manager.listCooldowns(req.accountId).length;
        return { cleared: before - after };
      },
    };
  }
}
