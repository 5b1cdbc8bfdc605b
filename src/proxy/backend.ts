/**
 * What the proxy's HTTP layer needs from the rest of the product: a way to run a Gemini-shaped
 * request on some account (the account pool + Cloud Code client implement this), to list models,
 * and the admin hooks behind `/quota-pilot/v1/`. The server only speaks this interface, so it is
 * tested against a scripted fake and wired to the real pool elsewhere.
 *
 * Failover is the backend's job while no byte has reached the client: `generate` resolves with the
 * final answer, `stream` resolves only once an upstream accepted the call. Errors are thrown as
 * `BackendError` (or its subclass `NoAccountAvailableError`); the server turns them into the
 * client's own error format.
 */
import type { NoAccountReason } from '../core/pool/accountPool';
import type { GeminiRequest, GeminiResponse } from '../upstream/gemini/schema';

export type { GeminiRequest, GeminiResponse } from '../upstream/gemini/schema';

/**
 * Lets the backend tell the server what happened during a call (for the request log line and the
 * metrics) without the server knowing anything about accounts. Every method is optional to call.
 */
export interface CallReporter {
  /** An attempt on one account started (the first, or a failover). */
  attempt(info: { accountId: string; accountLabel: string }): void;
  /** An upstream answered with an error status; `origin` is the upstream base (scheme://host[:port]). */
  upstreamError(info: { origin: string; status: number; kind?: string }): void;
  /** The backend moved to another account after a failed attempt. */
  failover(info: { fromAccountLabel: string; reason: string }): void;
}

export interface BackendCall {
  /** The model id as the upstream knows it (already mapped from the client's alias). */
  model: string;
  request: GeminiRequest;
  /** Stable per conversation, so the pool can keep a conversation on one account. */
  sessionKey: string;
  /** Aborts when the client goes away, the request deadline passes or the server stops. */
  signal: AbortSignal;
  reporter: CallReporter;
}

export interface BackendResult {
  response: GeminiResponse;
}

export interface CountTokensCall {
  model: string;
  request: GeminiRequest;
  signal: AbortSignal;
  reporter: CallReporter;
}

export interface ModelInfo {
  id: string;
  displayName: string;
  provider: 'google' | 'anthropic' | 'openai';
  maxTokens?: number;
  maxOutputTokens?: number;
}

/** One quota gauge value for `/metrics` (`quota_pilot_quota_remaining_ratio`). */
export interface QuotaGauge {
  accountLabel: string;
  model: string;
  /** 0..1, or null when unknown (the gauge is then omitted). */
  remainingFraction: number | null;
}

/** A JSON value; admin hooks return these so the server can serialize them as they are. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export interface ReservationRequest {
  model: string;
  /** Tokens to hold back for this task. */
  tokens: number;
  /** How long the reservation lives unless released or consumed, in milliseconds. */
  ttlMs?: number;
  /** Pin the reservation to one account; otherwise the pool chooses. */
  accountId?: string;
  label?: string;
}

export interface CooldownResetRequest {
  /** Only this account; all accounts when absent. */
  accountId?: string;
  /** Only this model; all models when absent. */
  model?: string;
}

/** The admin hooks behind `/quota-pilot/v1/`. */
export interface AdminBackend {
  /** A snapshot of accounts, decisions and cooldowns for `GET status`. */
  status(): Promise<Json>;
  /** The ledger's usage summary for `GET usage`. */
  usage(): Promise<Json>;
  /** Creates a reservation; the result must carry an `id` string. */
  createReservation(req: ReservationRequest): Promise<{ id: string } & { [key: string]: Json }>;
  /** Releases a reservation; false when no reservation has this id. */
  releaseReservation(id: string): Promise<boolean>;
  /** Refreshes quotas now (one account or all) and resolves with what was refreshed. */
  refreshNow(accountId?: string): Promise<Json>;
  /** Clears cooldowns and resolves with how many were cleared. */
  resetCooldowns(req: CooldownResetRequest): Promise<{ cleared: number }>;
}

export interface ProxyBackend {
  generate(call: BackendCall): Promise<BackendResult>;
  /** Resolves once an upstream accepted the call; the iterable yields unwrapped response chunks. */
  stream(call: BackendCall): Promise<AsyncIterable<GeminiResponse>>;
  countTokens(call: CountTokensCall): Promise<{ totalTokens: number }>;
  listModels(): Promise<ModelInfo[]>;
  /** Current quota per account × model, for the `/metrics` gauges. */
  quotaGauges?(): QuotaGauge[];
  admin: AdminBackend;
}

export type BackendErrorKind =
  /** The request itself is wrong (400); retrying will not help. */
  | 'invalid-request'
  /** The model does not exist (404). */
  | 'not-found'
  /** Upstream credentials were refused and could not be refreshed (401 upstream → 502 here). */
  | 'auth'
  /** The account needs verification or is restricted (403). */
  | 'forbidden'
  /** Short rate limit (429). */
  | 'rate-limited'
  /** Quota used up until a reset (429). */
  | 'quota-exhausted'
  /** Upstream out of capacity (503). */
  | 'capacity'
  /** Upstream failed (502). */
  | 'upstream'
  /** The call ran past its deadline (504). */
  | 'timeout'
  /** The call was cancelled (client gone or server stopping). */
  | 'aborted'
  /** Quota Pilot's own code failed (500); no account was blamed. */
  | 'internal';

const DEFAULT_STATUS: Record<BackendErrorKind, number> = {
  'invalid-request': 400,
  'not-found': 404,
  auth: 502,
  forbidden: 403,
  'rate-limited': 429,
  'quota-exhausted': 429,
  capacity: 503,
  upstream: 502,
  timeout: 504,
  aborted: 499,
  internal: 500,
};

export interface BackendErrorInit {
  status?: number;
  retryAfterMs?: number;
  cause?: unknown;
}

/** A failed backend call. The message is shown to the client: say what happened and what to do. */
export class BackendError extends Error {
  readonly kind: BackendErrorKind;
  /** The HTTP status the client receives. */
  readonly status: number;
  /** When retrying makes sense, in milliseconds (becomes `Retry-After`). */
  readonly retryAfterMs: number | undefined;

  constructor(kind: BackendErrorKind, message: string, init: BackendErrorInit = {}) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = 'BackendError';
    this.kind = kind;
    this.status = init.status ?? DEFAULT_STATUS[kind];
    this.retryAfterMs = init.retryAfterMs;
  }
}

/**
 * No account can serve the model now: the HTTP form of the engine's `NoAccountCanServeError`, whose
 * `why` decides the status. Quota and rate limits (and the user's own limits) are a 429 with
 * `Retry-After` when a time is known; accounts out briefly after upstream failures a 503; accounts
 * that need the user (verification, sign-in, restricted) a 403 that says what to do; no enabled
 * account at all a 503.
 */
export class NoAccountAvailableError extends BackendError {
  readonly model: string;
  readonly availableAt: number | null;
  readonly why: NoAccountReason;

  constructor(
    model: string,
    availableAt: number | null,
    now: number,
    message?: string,
    why: NoAccountReason = 'quota',
  ) {
    const retryAfterMs = availableAt === null ? undefined : Math.max(0, availableAt - now);
    const [kind, status]: [BackendErrorKind, number] =
      why === 'quota' || why === 'limit'
        ? ['quota-exhausted', 429]
        : why === 'rate-limited'
          ? ['rate-limited', 429]
          : why === 'upstream-failing'
            ? ['upstream', 503]
            : why === 'disabled'
              ? ['upstream', 503]
              : ['forbidden', 403];
    super(
      kind,
      message ??
        `No account has quota left for ${model}` +
          (retryAfterMs === undefined
            ? '; add an account or wait for a quota reset.'
            : `; the earliest one serves again in ${Math.ceil(retryAfterMs / 1000)} s. Retry then, or add an account.`),
      { status, ...(retryAfterMs === undefined || status === 403 ? {} : { retryAfterMs }) },
    );
    this.name = 'NoAccountAvailableError';
    this.model = model;
    this.availableAt = availableAt;
    this.why = why;
  }
}
