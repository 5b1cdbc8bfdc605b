/** Google's JSON error bodies, as Cloud Code sends them. */
import { formatGoDuration, formatProtoDuration, formatTimestamp, formatWholeDuration } from './durations';

export const ERROR_DOMAIN = 'cloudcode-pa.googleapis.com';
export const ERROR_INFO = 'type.googleapis.com/google.rpc.ErrorInfo';
export const RETRY_INFO = 'type.googleapis.com/google.rpc.RetryInfo';
const BAD_REQUEST = 'type.googleapis.com/google.rpc.BadRequest';

export interface GoogleError {
  httpStatus: number;
  body: { error: { code: number; message: string; status: string; details?: unknown[] } };
  headers?: Record<string, string>;
}

function err(code: number, status: string, message: string, details?: unknown[]): GoogleError {
  return { httpStatus: code, body: { error: { code, message, status, ...(details ? { details } : {}) } } };
}

export function unauthenticated(): GoogleError {
  return err(
    401,
    'UNAUTHENTICATED',
    'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.',
  );
}

export function invalidArgument(
  message: string,
  violations: Array<{ field: string; description: string }> = [],
): GoogleError {
  return err(
    400,
    'INVALID_ARGUMENT',
    message,
    violations.length > 0 ? [{ '@type': BAD_REQUEST, fieldViolations: violations }] : undefined,
  );
}

export function notFound(message = 'Requested entity was not found.'): GoogleError {
  return err(404, 'NOT_FOUND', message);
}

export function permissionDenied(message: string): GoogleError {
  return err(403, 'PERMISSION_DENIED', message);
}

export function validationRequired(url: string): GoogleError {
  return err(403, 'PERMISSION_DENIED', 'Verify your account to continue.', [
    {
      '@type': ERROR_INFO,
      reason: 'VALIDATION_REQUIRED',
      domain: ERROR_DOMAIN,
      metadata: { validation_url: url, validation_error_message: 'Verify your account to continue.' },
    },
  ]);
}

export function tosBan(): GoogleError {
  return permissionDenied(
    'This service has been disabled in this account for violation of Terms of Service. If you believe this is an error, contact support.',
  );
}

/**
 * 429 QUOTA_EXHAUSTED with every delay source consistent: quotaResetDelay (Go duration),
 * quotaResetTimeStamp, RetryInfo.retryDelay and the "Resets in …" phrase, all from `resetTime`.
 * `infoSecond` puts RetryInfo first and ErrorInfo at index 1 of details.
 */
export function quotaExhausted(
  model: string,
  now: number,
  resetTime: number,
  infoSecond = false,
): GoogleError {
  const delay = Math.max(0, resetTime - now);
  const info = {
    '@type': ERROR_INFO,
    reason: 'QUOTA_EXHAUSTED',
    domain: ERROR_DOMAIN,
    metadata: {
      model,
      quotaResetDelay: formatGoDuration(delay),
      quotaResetTimeStamp: formatTimestamp(resetTime),
    },
  };
  const retry = { '@type': RETRY_INFO, retryDelay: formatProtoDuration(delay) };
  return err(
    429,
    'RESOURCE_EXHAUSTED',
    `You have exhausted your capacity on this model. Resets in ${formatWholeDuration(delay)}.`,
    infoSecond ? [retry, info] : [info, retry],
  );
}

export function rateLimited(model: string, delayMs: number): GoogleError {
  return err(429, 'RESOURCE_EXHAUSTED', 'Resource has been exhausted (e.g. check quota).', [
    { '@type': ERROR_INFO, reason: 'RATE_LIMIT_EXCEEDED', domain: ERROR_DOMAIN, metadata: { model } },
    { '@type': RETRY_INFO, retryDelay: formatProtoDuration(delayMs) },
  ]);
}

export function bareResourceExhausted(): GoogleError {
  return err(429, 'RESOURCE_EXHAUSTED', 'Resource has been exhausted (e.g. check quota).');
}

export function modelCapacityExhausted(model: string, delayMs: number): GoogleError {
  return err(429, 'RESOURCE_EXHAUSTED', `No capacity available for model ${model} on the server`, [
    { '@type': ERROR_INFO, reason: 'MODEL_CAPACITY_EXHAUSTED', domain: ERROR_DOMAIN, metadata: { model } },
    { '@type': RETRY_INFO, retryDelay: formatProtoDuration(delayMs) },
  ]);
}

export function insufficientCredits(model: string): GoogleError {
  return err(429, 'RESOURCE_EXHAUSTED', 'Your AI credits balance is insufficient for this request.', [
    {
      '@type': ERROR_INFO,
      reason: 'INSUFFICIENT_G1_CREDITS_BALANCE',
      domain: ERROR_DOMAIN,
      metadata: { model },
    },
  ]);
}

export function noCapacity(model: string): GoogleError {
  return err(503, 'UNAVAILABLE', `No capacity available for model ${model} on the server`);
}

export function internal(): GoogleError {
  return err(500, 'INTERNAL', 'Internal error encountered.');
}

export function unavailable(message = 'The service is currently unavailable.'): GoogleError {
  return err(503, 'UNAVAILABLE', message);
}
