import { describe, expect, it } from 'vitest';
import { FAR_RESET_MS, quotaAnswer } from '../../../src/proxy/quotaAnswer';

const NOW = Date.UTC(2026, 11, 8, 14, 0, 0);
const base = { message: 'No account has quota left for gemini-3-flash.', model: 'gemini-3-flash', now: NOW };

describe('quotaAnswer', () => {
  it('keeps a precise Retry-After for a wait up to the threshold', () => {
    const a = quotaAnswer({ ...base, format: 'openai', kind: 'quota-exhausted', retryAfterMs: FAR_RESET_MS });
    expect(a.status).toBe(429);
    expect(a.headers).toEqual({ 'retry-after': '300', 'retry-after-ms': '300000' });
    expect(a.quota).toMatchObject({ reason: 'RATE_LIMIT_EXCEEDED', retryAfterMs: FAR_RESET_MS });
    expect(a.message).toContain('Quota returns at 2026-12-08 14:05:00 UTC (in 5m).');
    const short = quotaAnswer({ ...base, format: 'anthropic', kind: 'rate-limited', retryAfterMs: 1_234 });
    expect(short.headers).toEqual({ 'retry-after': '2', 'retry-after-ms': '1234' });
  });

  it.each([
    ['openai', 402],
    ['responses', 402],
    ['anthropic', 402],
    ['gemini', 429],
    ['admin', 429],
  ] as const)('tells %s clients to stop when the reset is further away (%i)', (format, status) => {
    const a = quotaAnswer({ ...base, format, kind: 'quota-exhausted', retryAfterMs: FAR_RESET_MS + 1 });
    expect(a.status).toBe(status);
    expect(a.headers).toEqual({ 'x-should-retry': 'false' });
    expect(a.quota.reason).toBe('QUOTA_EXHAUSTED');
    expect(a.quota.resetAt).toBe(NOW + FAR_RESET_MS + 1);
  });

  it('treats used-up quota of unknown reset as far, and a rate limit of unknown length as near', () => {
    const q = quotaAnswer({ ...base, format: 'openai', kind: 'quota-exhausted', retryAfterMs: undefined });
    expect(q.status).toBe(402);
    expect(q.message).toContain('When quota returns is not known yet.');
    const r = quotaAnswer({ ...base, format: 'openai', kind: 'rate-limited', retryAfterMs: undefined });
    expect(r.status).toBe(429);
    expect(r.headers).toEqual({});
  });

  it('says a multi-day wait in days and never sends it as a header', () => {
    const a = quotaAnswer({
      ...base,
      format: 'openai',
      kind: 'quota-exhausted',
      retryAfterMs: 2 * 86_400_000,
    });
    expect(a.message).toContain('(in 2d)');
    expect(a.headers['retry-after-ms']).toBeUndefined();
  });
});
