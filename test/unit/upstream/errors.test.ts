import { describe, expect, it } from 'vitest';
import { classifyError, parseGoogleError } from '../../../src/upstream/cloudcode/errors';
import { fixture } from './fixtures';

const now = Date.UTC(2026, 7, 2, 0, 0, 0);

describe('classifyError', () => {
  it('QUOTA_EXHAUSTED: quota-exhausted with RetryInfo delay and the reset timestamp', () => {
    const e = classifyError({ status: 429, body: fixture('error-429-quota-exhausted.json'), now });
    expect(e.kind).toBe('quota-exhausted');
    expect(e.model).toBe('gemini-pro-agent');
    expect(e.retryAfterMs).toBe(539_420_180);
    expect(e.resetTime).toBe(Date.UTC(2026, 7, 8, 17, 54, 7));
    expect(e.status).toBe(429);
    expect(e.message).toMatch(/quota exhausted/);
  });

  it('keeps every delay source apart', () => {
    const g = parseGoogleError({
      headers: { 'Retry-After': '7' },
      body: JSON.stringify(fixture('error-429-quota-exhausted.json')),
      now,
    });
    expect(g.delays).toEqual({
      retryAfterHeaderMs: 7_000,
      retryInfoMs: 539_420_180,
      quotaResetDelayMs: 149 * 3_600_000 + 50 * 60_000 + 20_180,
      quotaResetTimestamp: Date.UTC(2026, 7, 8, 17, 54, 7),
      phraseMs: 149 * 3_600_000 + 50 * 60_000 + 20_000,
    });
    expect(g.reasons).toEqual(['QUOTA_EXHAUSTED']);
  });

  it('prefers the Retry-After header (seconds or HTTP date) over the body', () => {
    const body = fixture('error-429-quota-exhausted.json');
    expect(classifyError({ status: 429, headers: { 'retry-after': '42' }, body, now }).retryAfterMs).toBe(
      42_000,
    );
    const date = new Date(now + 90_000).toUTCString();
    const viaGet = new Headers({ 'Retry-After': date });
    expect(classifyError({ status: 429, headers: viaGet, body, now }).retryAfterMs).toBe(90_000);
  });

  it('finds ErrorInfo at index 1 and reads quotaResetDelay when there is no RetryInfo', () => {
    const e = classifyError({ status: 429, body: fixture('error-429-errorinfo-second.json'), now });
    expect(e.kind).toBe('quota-exhausted');
    expect(e.model).toBe('claude-sonnet-4-6');
    expect(e.retryAfterMs).toBe(7_261_000);
    expect(e.resetTime).toBe(now + 7_261_000);
  });

  it('falls back to quotaResetTimeStamp, then to the "resets in" phrase', () => {
    const stampOnly = {
      error: {
        code: 429,
        status: 'RESOURCE_EXHAUSTED',
        message: 'Resets in 5h.',
        details: [
          {
            '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
            reason: 'QUOTA_EXHAUSTED',
            metadata: { quotaResetTimeStamp: new Date(now + 3_600_000).toISOString() },
          },
        ],
      },
    };
    expect(classifyError({ status: 429, body: stampOnly, now }).retryAfterMs).toBe(3_600_000);
    const phraseOnly = {
      error: {
        code: 429,
        status: 'RESOURCE_EXHAUSTED',
        message: 'You are out. Resets in 2h1m1s.',
        details: [{ reason: 'QUOTA_EXHAUSTED' }],
      },
    };
    const e = classifyError({ status: 429, body: phraseOnly, now });
    expect(e.kind).toBe('quota-exhausted');
    expect(e.retryAfterMs).toBe(7_261_000);
  });

  it('reads RetryInfo.retryDelay in its {seconds, nanos} form', () => {
    const body = {
      error: {
        code: 429,
        status: 'RESOURCE_EXHAUSTED',
        details: [
          {
            '@type': 'type.googleapis.com/google.rpc.RetryInfo',
            retryDelay: { seconds: '2', nanos: 500_000_000 },
          },
        ],
      },
    };
    expect(classifyError({ status: 429, body, now }).retryAfterMs).toBe(2_500);
  });

  it('RATE_LIMIT_EXCEEDED: rate-limited with RetryInfo before quotaResetDelay', () => {
    const e = classifyError({ status: 429, body: fixture('error-429-rate-limit.json'), now });
    expect(e.kind).toBe('rate-limited');
    expect(e.retryAfterMs).toBe(1_500);
    expect(e.model).toBe('gemini-3-flash');
  });

  it('a bare RESOURCE_EXHAUSTED is a short rate limit, not exhaustion', () => {
    const e = classifyError({
      status: 429,
      body: fixture('error-429-bare.json'),
      now,
      model: 'gemini-3-flash',
    });
    expect(e.kind).toBe('rate-limited');
    expect(e.retryAfterMs).toBeUndefined();
    expect(e.model).toBe('gemini-3-flash');
  });

  it('MODEL_CAPACITY_EXHAUSTED: capacity with its delay', () => {
    const e = classifyError({ status: 429, body: fixture('error-429-capacity.json'), now });
    expect(e.kind).toBe('capacity');
    expect(e.retryAfterMs).toBe(3_000);
  });

  it('INSUFFICIENT_G1_CREDITS_BALANCE: quota-exhausted', () => {
    expect(classifyError({ status: 429, body: fixture('error-429-g1-credits.json'), now }).kind).toBe(
      'quota-exhausted',
    );
  });

  it('VALIDATION_REQUIRED: verification-required with the URL', () => {
    const e = classifyError({ status: 403, body: fixture('error-403-validation.json'), now });
    expect(e.kind).toBe('verification-required');
    expect(e.url).toBe('https://accounts.google.com/signin/continue?sarp=1');
    expect(e.retryAfterMs).toBeUndefined();
  });

  it('a Terms of Service 403 is forbidden and says so', () => {
    const e = classifyError({ status: 403, body: fixture('error-403-tos.json'), now });
    expect(e.kind).toBe('forbidden');
    expect(e.message).toMatch(/Terms of Service/);
  });

  it('503 "no capacity" is capacity; other 5xx and 408 are transient', () => {
    expect(classifyError({ status: 503, body: fixture('error-503-no-capacity.json'), now }).kind).toBe(
      'capacity',
    );
    expect(classifyError({ status: 500, body: 'oops', now }).kind).toBe('transient');
    expect(classifyError({ status: 502, body: '<html>bad gateway</html>', now }).kind).toBe('transient');
    expect(classifyError({ status: 408, now }).kind).toBe('transient');
    expect(classifyError({ status: 503, headers: { 'retry-after': '5' }, now }).retryAfterMs).toBe(5_000);
  });

  it('401 is auth-expired, 404 is not-found, 400 is a refused request', () => {
    expect(
      classifyError({ status: 401, body: { error: { code: 401, status: 'UNAUTHENTICATED' } }, now }).kind,
    ).toBe('auth-expired');
    expect(classifyError({ status: 404, body: 'Not Found', now }).kind).toBe('not-found');
    const bad = classifyError({
      status: 400,
      body: { error: { code: 400, status: 'INVALID_ARGUMENT', message: 'model is not allowed' } },
      now,
    });
    expect(bad.kind).toBe('invalid-response');
    expect(bad.status).toBe(400);
    expect(bad.message).toMatch(/refused the request \(400 INVALID_ARGUMENT\): model is not allowed/);
  });

  it('survives details of unknown shape and bodies that are not Google errors', () => {
    const body = {
      error: {
        code: 429,
        status: 'RESOURCE_EXHAUSTED',
        details: [42, null, 'x', { reason: 'QUOTA_EXHAUSTED', metadata: { quotaResetDelay: 'soon' } }],
      },
    };
    const e = classifyError({ status: 429, body, now });
    expect(e.kind).toBe('quota-exhausted');
    expect(e.retryAfterMs).toBeUndefined();
    expect(
      classifyError({ status: 429, body: new TextEncoder().encode('busy, resets in 10s'), now }).retryAfterMs,
    ).toBe(10_000);
  });
});
