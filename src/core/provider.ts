/**
 * What the engine needs from an upstream, and nothing more. The Cloud Code client and the simulator
 * implement it; unit tests use a scripted fake. Implementations validate what they receive and
 * throw `ProviderError` with a kind the engine can act on.
 */
import type { Account, QuotaReport, TierReport } from './types';

export interface QuotaProvider {
  /** Every model's quota readings (and the 5-hour / weekly buckets) for one account. */
  fetchQuotas(account: Account, signal?: AbortSignal): Promise<QuotaReport>;
  /** Tier, project and — when the provider restricts the account — its status. */
  fetchTier(account: Account, signal?: AbortSignal): Promise<TierReport>;
}

export type ProviderErrorKind =
  | 'quota-exhausted'
  | 'rate-limited'
  | 'capacity'
  | 'auth-expired'
  | 'verification-required'
  | 'forbidden'
  | 'not-found'
  | 'invalid-response'
  | 'transient'
  | 'aborted';

export interface ProviderErrorInit {
  /** Milliseconds until retrying makes sense, when the upstream said. */
  retryAfterMs?: number;
  /** Absolute time the quota resets, when the upstream said. */
  resetTime?: number;
  /** Where the user fixes it (verification URL). */
  url?: string;
  status?: number;
  model?: string;
  cause?: unknown;
}

export class ProviderError extends Error {
  readonly kind: ProviderErrorKind;
  readonly retryAfterMs: number | undefined;
  readonly resetTime: number | undefined;
  readonly url: string | undefined;
  readonly status: number | undefined;
  readonly model: string | undefined;

  constructor(kind: ProviderErrorKind, message: string, init: ProviderErrorInit = {}) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = 'ProviderError';
    this.kind = kind;
    this.retryAfterMs = init.retryAfterMs;
    this.resetTime = init.resetTime;
    this.url = init.url;
    this.status = init.status;
    this.model = init.model;
  }
}
