/**
 * Errors in each client's own format, so that SDKs raise their usual exception types with our message:
 * OpenAI `{error:{message,type,param,code}}`, Anthropic `{type:"error",error:{type,message}}`, Gemini
 * (Google APIs) `{error:{code,message,status}}`. The admin API uses the Gemini-like shape.
 */
import { ProviderError } from '../core/provider';
import { BackendError, type ClientFormat } from './backend';
import { RequestValidationError } from './translate/common';

/** Route families: the three client formats plus our own admin API. */
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

const OPENAI_TYPE: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  405: 'invalid_request_error',
  408: 'timeout_error',
  413: 'invalid_request_error',
  415: 'invalid_request_error',
  429: 'rate_limit_error',
  499: 'cancelled',
  504: 'timeout_error',
};

const ANTHROPIC_TYPE: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  405: 'invalid_request_error',
  408: 'timeout_error',
  413: 'request_too_large',
  415: 'invalid_request_error',
  429: 'rate_limit_error',
  503: 'overloaded_error',
  504: 'timeout_error',
};

const GOOGLE_STATUS: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  405: 'UNIMPLEMENTED',
  408: 'DEADLINE_EXCEEDED',
  409: 'ABORTED',
  413: 'INVALID_ARGUMENT',
  415: 'INVALID_ARGUMENT',
  429: 'RESOURCE_EXHAUSTED',
  499: 'CANCELLED',
  501: 'UNIMPLEMENTED',
  503: 'UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED',
};

/** The JSON error body for `status` in `format`. */
export function errorBody(
  format: ErrorFormat,
  status: number,
  message: string,
  param?: string,
): Record<string, unknown> {
  switch (format) {
    case 'openai':
      return {
        error: {
          message,
          type: OPENAI_TYPE[status] ?? (status >= 500 ? 'server_error' : 'invalid_request_error'),
          param: param ?? null,
          code: status === 429 ? 'rate_limit_exceeded' : null,
        },
      };
    case 'anthropic':
      return {
        type: 'error',
        error: {
          type: ANTHROPIC_TYPE[status] ?? (status >= 500 ? 'api_error' : 'invalid_request_error'),
          message,
        },
      };
    case 'gemini':
    case 'admin':
      return {
        error: {
          code: status,
          message,
          status: GOOGLE_STATUS[status] ?? (status >= 500 ? 'INTERNAL' : 'FAILED_PRECONDITION'),
        },
      };
  }
}

/**
 * The SSE frame that ends a stream in error after the first byte: OpenAI clients read a `data:` chunk
 * carrying `error`; Anthropic clients an `event: error`; Gemini clients a `data:` chunk with `error`.
 */
export function errorEvent(format: ClientFormat, status: number, message: string): string {
  const body = JSON.stringify(errorBody(format, status, message));
  return format === 'anthropic' ? `event: error\ndata: ${body}\n\n` : `data: ${body}\n\n`;
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

/** Any thrown value → status, client-safe message and optional retry delay. */
export function describeError(err: unknown): {
  status: number;
  message: string;
  retryAfterMs?: number;
  param?: string;
} {
  if (err instanceof RequestValidationError) return { status: 400, message: err.message, param: err.field };
  if (err instanceof HttpError || err instanceof BackendError) {
    return {
      status: err.status,
      message: err.message,
      ...(err.retryAfterMs === undefined ? {} : { retryAfterMs: err.retryAfterMs }),
    };
  }
  if (err instanceof ProviderError) {
    const status = err.status === 400 ? 400 : PROVIDER_STATUS[err.kind];
    return {
      status,
      message: err.message + (err.url ? ` (${err.url})` : ''),
      ...(err.retryAfterMs === undefined ? {} : { retryAfterMs: err.retryAfterMs }),
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
