/**
 * Errors turned into HTTP answers: the refusal type the server and routes throw, and the mapping of
 * any thrown value to a status, a client-safe message and a retry delay. The body shape is the
 * client format's own (each codec's `errorBody` / `errorEvents`, translate/*.ts); the admin API uses
 * the Google-style shape.
 */
import { ProviderError } from '../core/provider';
import { BackendError, NoAccountAvailableError } from './backend';
import type { ClientFormat, Codecs } from './translate/codec';
import { type ClientErrorInfo, type ClientEvent, RequestValidationError } from './translate/common';
import { geminiErrorBody } from './translate/gemini';

/** Route families: the client formats plus our own admin API. */
export type ErrorFormat = ClientFormat | 'admin';

/** A refusal or failure the server turns into an HTTP answer. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly retryAfterMs?: number,
    /** Extra response headers (e.g. `Allow`). */
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

const PROVIDER_STATUS: Record<ProviderError['kind'], number> = {
  'quota-exhausted': 429,
  'rate-limited': 429,
  capacity: 503,
  'auth-expired': 502,
  'verification-required': 403,
  forbidden: 403,
  'not-found': 404,
  'invalid-response': 502,
  transient: 502,
  aborted: 499,
};

export interface DescribedError {
  status: number;
  message: string;
  retryAfterMs?: number;
  param?: string;
  /** Set for a 429 about quota or rate limits: answered by quotaAnswer (proxy/quotaAnswer.ts). */
  quota?: { kind: 'quota-exhausted' | 'rate-limited'; model?: string };
}

function quotaKind(kind: string): 'quota-exhausted' | 'rate-limited' | undefined {
  return kind === 'quota-exhausted' || kind === 'rate-limited' ? kind : undefined;
}

/** Any thrown value → status, client-safe message and optional retry delay. */
export function describeError(err: unknown): DescribedError {
  if (err instanceof RequestValidationError) return { status: 400, message: err.message, param: err.field };
  if (err instanceof HttpError || err instanceof BackendError) {
    const kind = err instanceof BackendError && err.status === 429 ? quotaKind(err.kind) : undefined;
    return {
      status: err.status,
      message: err.message,
      ...(err.retryAfterMs === undefined ? {} : { retryAfterMs: err.retryAfterMs }),
      ...(kind === undefined
        ? {}
        : { quota: { kind, ...(err instanceof NoAccountAvailableError ? { model: err.model } : {}) } }),
    };
  }
  if (err instanceof ProviderError) {
    const status = err.status === 400 ? 400 : PROVIDER_STATUS[err.kind];
    const kind = status === 429 ? quotaKind(err.kind) : undefined;
    return {
      status,
      message: err.message + (err.url ? ` (${err.url})` : ''),
      ...(err.retryAfterMs === undefined ? {} : { retryAfterMs: err.retryAfterMs }),
      ...(kind === undefined ? {} : { quota: { kind } }),
    };
  }
  return {
    status: 500,
    message:
      'Quota Pilot hit an internal error while handling this request; see the Quota Pilot log for details and retry.',
  };
}

/** `Retry-After` in whole seconds (at least 1 when a delay is known). */
export function retryAfterSeconds(ms: number): string {
  return String(Math.max(1, Math.ceil(ms / 1000)));
}

/** The HTTP error body in `format`: its codec's shape; the admin API (or a missing codec) the Google one. */
export function errorBodyFor(codecs: Codecs, format: ErrorFormat, err: ClientErrorInfo): unknown {
  const codec = format === 'admin' ? undefined : codecs[format];
  return codec ? codec.errorBody(err) : geminiErrorBody(err);
}

/** The SSE frames that end a started stream in error in `format` (none for the admin API). */
export function errorEventsFor(codecs: Codecs, format: ErrorFormat, err: ClientErrorInfo): ClientEvent[] {
  const codec = format === 'admin' ? undefined : codecs[format];
  return codec ? codec.errorEvents(err) : [];
}
