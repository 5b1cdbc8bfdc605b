/**
 * How the proxy answers when no account can serve because of quota or rate limits, so that every
 * client does the right thing on its own defaults:
 *
 * - **Near** (an account serves again within `FAR_RESET_MS`): 429 in every format, with a precise
 *   `Retry-After` (seconds) and `retry-after-ms`; in the Gemini format `ErrorInfo`
 *   `RATE_LIMIT_EXCEEDED` plus `RetryInfo.retryDelay`. Every client retries after that delay.
 * - **Far** (later, or unknown for used-up quota): no `Retry-After`, `x-should-retry: false`, and a
 *   status no client retries: the OpenAI SDK, the Anthropic SDK and Claude Code obey
 *   `x-should-retry: false`, but opencode (the AI SDK) retries every 408/409/429/5xx up to five
 *   times with growing delays (and honours any `retry-after-ms`, days included), so the OpenAI,
 *   Responses and Anthropic formats answer **402** (`insufficient_quota` / `billing_error`, the
 *   status providers use for "out of quota"), which nothing retries. The Gemini format keeps 429
 *   `RESOURCE_EXHAUSTED` with `ErrorInfo` `QUOTA_EXHAUSTED` (domain cloudcode-pa.googleapis.com)
 *   and `RetryInfo`: Gemini CLI ends the run on exactly that, and `@google/genai` does not retry
 *   unless asked to.
 *
 * Every message says when quota returns, in UTC and relative to now.
 */
import { formatDuration } from '../core/decision';
import type { ErrorFormat } from './clientErrors';
import type { QuotaErrorInfo } from './translate/common';

/**
 * A reset further away than this is "far": clients are told to stop rather than to wait. Five
 * minutes is also where Gemini CLI stops honouring a `retryDelay` (its MAX_RETRYABLE_DELAY_SECONDS).
 */
export const FAR_RESET_MS = 5 * 60_000;

export interface QuotaAnswerInput {
  format: ErrorFormat;
  message: string;
  /** Until an account serves again, when known. */
  retryAfterMs: number | undefined;
  /** Used-up quota (a reset) or a short rate limit. */
  kind: 'quota-exhausted' | 'rate-limited';
  model?: string;
  now: number;
}

export interface QuotaAnswer {
  status: number;
  message: string;
  headers: Record<string, string>;
  quota: QuotaErrorInfo;
}

/** "2026-12-08 18:30:05 UTC". */
function utc(epochMs: number): string {
  return `${new Date(epochMs).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

export function quotaAnswer(input: QuotaAnswerInput): QuotaAnswer {
  const { retryAfterMs, now } = input;
  const known = retryAfterMs !== undefined && Number.isFinite(retryAfterMs);
  const wait = known ? Math.max(0, Math.round(retryAfterMs)) : undefined;
  const resetAt = wait === undefined ? undefined : now + wait;
  // A rate limit of unknown length is short by nature; used-up quota of unknown length is not.
  const far = wait === undefined ? input.kind === 'quota-exhausted' : wait > FAR_RESET_MS;
  const when =
    resetAt === undefined
      ? ' When quota returns is not known yet.'
      : ` Quota returns at ${utc(resetAt)} (in ${formatDuration(Math.max(1_000, wait ?? 0))}).`;
  const message = far
    ? `${input.message}${when} Quota Pilot answers at once instead of letting the client wait.`
    : `${input.message}${when}`;
  const quota: QuotaErrorInfo = {
    reason: far ? 'QUOTA_EXHAUSTED' : 'RATE_LIMIT_EXCEEDED',
    ...(wait === undefined ? {} : { retryAfterMs: wait }),
    ...(resetAt === undefined ? {} : { resetAt }),
    ...(input.model === undefined ? {} : { model: input.model }),
  };
  if (far) {
    const status = input.format === 'gemini' || input.format === 'admin' ? 429 : 402;
    return { status, message, headers: { 'x-should-retry': 'false' }, quota };
  }
  const headers: Record<string, string> =
    wait === undefined
      ? {}
      : { 'retry-after': String(Math.max(1, Math.ceil(wait / 1000))), 'retry-after-ms': String(wait) };
  return { status: 429, message, headers, quota };
}
