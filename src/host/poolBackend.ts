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
import { formatDuration } from '../core/decision';
import type { Clock } from '../core/clock';
import type { Lease } from '../core/pool/accountPool';
import type { AccountPool } from '../core/pool/accountPool';
import { NoAccountCanServeError } from '../core/pool/accountPool';
import { LocalFailure } from '../core/errors';
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
  /**
   * Asks the provider about an account that is out of rotation (loadCodeAssist) and applies the
   * answer to its status; admin refreshes call it for accounts that need verification.
   */
  recheckStatus?: (account: Lease['account']) => Promise<void>;
  /** Upstream attempts per request (across accounts and retries); default 4. */
  maxAttempts?: number;
  /** No new attempt starts after this long; default 120 s. */
  totalDeadlineMs?: number;
  /** For the retry backoff's jitter; default Math.random. */
  random?: () => number;
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

/**
 * Hiccups of the upstream rather than of the account: a 5xx, a reset, a stall, a 401 again right
 * after a token refresh, an answer that is not the JSON it should be. Retried (on another account,
 * or the same one after a short backoff) and, when every attempt failed so, answered as "the
 * upstream is failing" (5xx), never as a rate limit.
 */
function isHiccup(e: ProviderError): boolean {
  return (
    e.kind === 'transient' ||
    e.kind === 'auth-expired' ||
    (e.kind === 'invalid-response' && (e.status === undefined || e.status < 300))
  );
}

function canFailOver(e: ProviderError): boolean {
  return FAILOVER_KINDS.has(e.kind) || isHiccup(e);
}

/** Backoff before retrying accounts that already failed this request: 100–300 ms, doubling. */
function retryBackoffMs(round: number, random: () => number): number {
  return Math.round((100 + 200 * random()) * 2 ** Math.min(round, 4));
}

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
      return new BackendError(
        'forbidden',
        `${err.message} In VS Code: run "Quota Pilot: Verify Account in Browser", then refresh the account ("Quota Pilot: Refresh Quotas Now" or POST /quota-pilot/v1/refresh).`,
        init,
      );
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

/**
 * Our own code failed (the call could not be built or serialised, a stack overflow): not the
 * upstream's or the account's fault. Answered 500 without retrying elsewhere or blaming the account.
 */
function localFailure(err: unknown): BackendError | undefined {
  if (!(err instanceof LocalFailure) && !(err instanceof RangeError)) return undefined;
  return new BackendError(
    'internal',
    'Quota Pilot could not prepare the upstream call for this request (an internal error, written to the Quota Pilot log); no account was used. Simplify the request, or report the problem if it persists.',
    { cause: err },
  );
}

function asProviderError(err: unknown): ProviderError {
  if (err instanceof ProviderError) return err;
  if (err instanceof Error && err.name === 'AbortError')
    return new ProviderError('aborted', 'cancelled', { cause: err });
  return new ProviderError('transient', err instanceof Error ? err.message : String(err), { cause: err });
}

/** Every attempt failed because the upstream is failing: 502 (503 when it is out of capacity). */
function upstreamFailing(e: ProviderError): BackendError {
  return new BackendError('upstream', `The upstream is failing: ${e.message}`, {
    cause: e,
    status: 502,
    ...(e.retryAfterMs !== undefined ? { retryAfterMs: e.retryAfterMs } : {}),
  });
}

/** What the client reads when no account can serve: what happened, when to retry, what to do. */
function noAccountMessage(
  err: NoAccountCanServeError,
  lastError: ProviderError | undefined,
  now: number,
): string {
  const m = err.model;
  const wait = err.availableAt === null ? null : formatDuration(Math.max(1_000, err.availableAt - now));
  const accounts =
    err.reasons.length > 0
      ? ` Accounts: ${err.reasons.slice(0, 5).join('; ')}${err.reasons.length > 5 ? '; …' : ''}.`
      : '';
  switch (err.why) {
    case 'quota':
      return (
        `No account has quota left for ${m}` +
        (wait === null
          ? '; add an account or wait for a quota reset.'
          : `; the earliest one serves again in ${wait}. Retry then, or add an account.`) +
        accounts
      );
    case 'rate-limited':
      return `Every account that serves ${m} is rate limited${wait === null ? '' : `; the earliest serves again in ${wait}`}. Retry then.${accounts}`;
    case 'limit':
      return `Your usage limits (quotaPilot.ledger.limits) refuse more ${m} requests on every account. Raise a limit or wait for its period to end.${accounts}`;
    case 'upstream-failing':
      return `The upstream is failing for ${m}${lastError ? `: ${lastError.message}` : ''}; accounts are out briefly after upstream failures.${wait === null ? '' : ` Retry in ${wait}.`}${accounts}`;
    case 'needs-verification':
      return (
        `Every account that can serve ${m} must be verified in a browser first` +
        (err.verificationUrl ? `: open ${err.verificationUrl}` : '') +
        ' (in VS Code: run "Quota Pilot: Verify Account in Browser"). Then refresh the account ("Quota Pilot: Refresh Quotas Now" or POST /quota-pilot/v1/refresh); retrying before that will not help.' +
        accounts
      );
    case 'needs-sign-in':
      return `Every account that can serve ${m} must sign in again (in VS Code: "Quota Pilot: Sign in Again"); retrying will not help until then.${accounts}`;
    case 'restricted':
      return `The provider refused every account that can serve ${m}; retrying will not help. See each account's status in Quota Pilot.${accounts}`;
    case 'disabled':
      return `No enabled account can serve ${m}; add or enable an account.${accounts}`;
  }
}

export class PoolBackend implements ProxyBackend {
  readonly admin: AdminBackend;
  private readonly maxAttempts: number;
  private readonly totalDeadlineMs: number;
  private readonly random: () => number;
  /** Requests that failed over to another account and then succeeded. */
  failovers = 0;
  /** Upstream 429s that the client never saw. */
  avoided429 = 0;
  /** Generation requests handled (whole and streamed). */
  requests = 0;

  constructor(private readonly o: PoolBackendOptions) {
    this.maxAttempts = o.maxAttempts ?? 4;
    this.totalDeadlineMs = o.totalDeadlineMs ?? 120_000;
    this.random = o.random ?? Math.random;
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
      throw localFailure(err) ?? toBackendError(asProviderError(err));
    }
  }

  /** What the accounts' catalogs offer; the built-in catalog until one was fetched. */
  async listModels(): Promise<ModelInfo[]> {
    const fetched = this.o.fetchedModels?.();
    if (fetched && fetched.size > 0) return [...fetched.values()];
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
    const clock = this.o.clock;
    const started = clock.now();
    /** Accounts this request will not try again. */
    const tried = new Set<string>();
    /** Of those, the ones that only hiccuped: tried again once every other account is used up. */
    const hiccuped = new Set<string>();
    let lastError: ProviderError | undefined;
    let saw429 = false;
    let retryRound = 0;
    for (let attempts = 0; attempts < this.maxAttempts;) {
      if (call.signal.aborted) throw new BackendError('aborted', 'The client went away.');
      if (attempts > 0 && clock.now() - started > this.totalDeadlineMs) break;
      let lease: Lease;
      try {
        lease = this.o.pool.acquire(call.model, call.sessionKey, { exclude: tried });
      } catch (err) {
        if (!(err instanceof NoAccountCanServeError)) throw err;
        if (hiccuped.size > 0) {
          // Every other account is used up: retry those that only hiccuped, after a short backoff
          // that fits the request's budget.
          const delay = retryBackoffMs(retryRound++, this.random);
          if (clock.now() + delay - started > this.totalDeadlineMs) break;
          try {
            await clock.sleep(delay, call.signal);
          } catch {
            throw new BackendError('aborted', 'The client went away.');
          }
          for (const id of hiccuped) tried.delete(id);
          hiccuped.clear();
          continue;
        }
        throw this.noAccountError(err, lastError);
      }
      attempts++;
      tried.add(lease.account.id);
      call.reporter.attempt({ accountId: lease.account.id, accountLabel: lease.account.label });
      try {
        const project = await this.o.projectFor(lease.account, call.signal);
        const result = await attempt(lease, project);
        if (attempts > 1) {
          this.failovers++;
          if (saw429) this.avoided429++;
        }
        return result;
      } catch (err) {
        const local = localFailure(err);
        if (local) {
          this.o.pool.release(lease, { kind: 'aborted' });
          throw local;
        }
        const e = asProviderError(err);
        if (e.kind === 'aborted' || call.signal.aborted) {
          this.o.pool.release(lease, { kind: 'aborted' });
          throw new BackendError('aborted', 'The client went away.', { cause: e });
        }
        this.o.pool.release(lease, { kind: 'error', error: e });
        call.reporter.upstreamError({ origin: 'cloudcode', status: e.status ?? 0, kind: e.kind });
        if (e.status === 429 || e.kind === 'quota-exhausted' || e.kind === 'rate-limited') saw429 = true;
        lastError = e;
        if (!canFailOver(e)) throw toBackendError(e);
        if (isHiccup(e)) hiccuped.add(lease.account.id);
        call.reporter.failover({ fromAccountLabel: lease.account.label, reason: e.kind });
      }
    }
    if (!lastError) throw new BackendError('upstream', 'No attempt could be made before the deadline.');
    throw isHiccup(lastError)
      ? upstreamFailing(lastError)
      : this.withPoolDelay(toBackendError(lastError), call.model);
  }

  /**
   * A 429 the upstream sent without a delay (a bare RESOURCE_EXHAUSTED) still gets one: when the
   * pool's own cooldowns let the earliest account serve again (the pool is asked with every account
   * excluded, which only computes the answer).
   */
  private withPoolDelay(err: BackendError, model: string): BackendError {
    if (err.status !== 429 || err.retryAfterMs !== undefined) return err;
    const everyone = new Set(this.o.registry.list().map((a) => a.id));
    try {
      const lease = this.o.pool.acquire(model, null, { exclude: everyone });
      this.o.pool.release(lease, { kind: 'aborted' });
    } catch (e) {
      if (e instanceof NoAccountCanServeError && e.availableAt !== null) {
        return new BackendError(err.kind, err.message, {
          status: 429,
          cause: err.cause,
          retryAfterMs: Math.max(0, e.availableAt - this.o.clock.now()),
        });
      }
    }
    return err;
  }

  /** The answer when the pool has no account left: what the last attempt saw, or why the pool refused. */
  private noAccountError(err: NoAccountCanServeError, lastError: ProviderError | undefined): BackendError {
    if (lastError && isHiccup(lastError)) return upstreamFailing(lastError);
    const now = this.o.clock.now();
    return new NoAccountAvailableError(
      err.model,
      err.availableAt,
      now,
      noAccountMessage(err, lastError, now),
      err.why,
    );
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
              const local = localFailure(err);
              if (local) {
                settle({ kind: 'aborted' });
                throw local;
              }
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
    const knownAccount = (id: string): void => {
      if (o.registry.get(id)) return;
      const ids = o.registry.list().map((a) => a.id);
      throw new BackendError(
        'not-found',
        `No account "${id.slice(0, 80)}". ` +
          (ids.length > 0 ? `Known accounts: ${ids.slice(0, 10).join(', ')}.` : 'No account is set up.'),
      );
    };
    return {
      status: async () => o.state.snapshot() as unknown as Json,
      usage: async () => o.ledger.summary() as unknown as Json,
      createReservation: async (req): Promise<{ id: string } & { [key: string]: Json }> => {
        const tokens = req.tokens;
        const ttl = req.ttlMs ?? 10 * 60_000;
        const accountId = req.accountId;
        if (accountId === undefined) {
          let lease: Lease;
          try {
            lease = o.pool.acquire(req.model, null, { reserveTokens: tokens, ttlMs: ttl });
          } catch (err) {
            if (!(err instanceof NoAccountCanServeError)) throw err;
            const now = o.clock.now();
            throw new NoAccountAvailableError(
              err.model,
              err.availableAt,
              now,
              `No reservation: ${noAccountMessage(err, undefined, now)}`,
              err.why,
            );
          }
          // The lease's reservation is the one handed out.
          return {
            id: lease.reservationId as string,
            accountId: lease.account.id,
            accountLabel: lease.account.label,
            model: req.model,
            tokens,
            expiresAt: lease.acquiredAt + ttl,
            reason: lease.reason,
          };
        }
        knownAccount(accountId);
        const r = o.ledger.reserve(accountId, req.model, { tokens, requests: 1 }, ttl);
        if (!r.ok) {
          const now = o.clock.now();
          throw new BackendError('quota-exhausted', r.reason, {
            status: 409,
            ...(r.resetTime !== null && r.resetTime > now ? { retryAfterMs: r.resetTime - now } : {}),
          });
        }
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
        if (accountId !== undefined) knownAccount(accountId);
        // Accounts out of rotation for verification are asked again (loadCodeAssist): verified
        // ones come back before their quotas are read.
        const waiting = o.registry
          .list()
          .filter(
            (a) => (accountId === undefined || a.id === accountId) && a.status.kind === 'needs-verification',
          );
        await Promise.all(waiting.map((a) => o.recheckStatus?.(a)));
        await o.monitor.refreshNow(accountId);
        return { refreshed: accountId ?? 'all' };
      },
      resetCooldowns: async (req) => {
        if (req.accountId !== undefined) knownAccount(req.accountId);
        const before = o.manager.listCooldowns(req.accountId).length;
        if (req.accountId && req.model) o.manager.clearCooldown(req.accountId, req.model);
        else o.manager.clearCooldowns(req.accountId);
        const after = o.manager.listCooldowns(req.accountId).length;
        return { cleared: before - after };
      },
    };
  }
}
