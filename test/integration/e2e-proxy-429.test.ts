/**
 * Quota answers through the whole path with the official SDKs on their default retry settings:
 * a far reset makes each SDK stop after one request (no multi-hour Retry-After), a near one gives a
 * precise Retry-After that the SDK waits out before succeeding, the Gemini format carries the
 * ErrorInfo / RetryInfo details Gemini CLI reads, and a bare RESOURCE_EXHAUSTED still gets a delay.
 */
import Anthropic from '@anthropic-ai/sdk';
import { ApiError, GoogleGenAI } from '@google/genai';
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { addSimulatorAccounts, simulatorOAuth } from '../../src/host/demo';
import { EngineHost } from '../../src/host/engineHost';
import { FAR_RESET_MS } from '../../src/proxy/quotaAnswer';
import type { RunningSimulator } from '../../src/simulator';
import { startSimulator } from '../../src/simulator';
import type { ScenarioInput } from '../../src/simulator/scenario';
import { MemoryTokenStore } from '../../src/upstream/cloudcode/oauth';

const KEY = 'qp-test-key-0123456789abcdef';

const accounts = ['a', 'b', 'c', 'd'].map((id, i) => ({
  id,
  email: `${id}@example.com`,
  tier: 'PRO' as const,
  refreshToken: `rt-${id}-00000000000${i}`,
  project: `proj-${id}`,
  // Flash is used up everywhere: its reset is hours away.
  remaining: { 'gemini-flash': 0 },
}));

const scenario: ScenarioInput = {
  name: 'quota-429',
  seed: 5,
  latency: { firstByteMs: 1, chunkGapMs: 1, chunks: 2 },
  accounts,
};

let sim: RunningSimulator;
let host: EngineHost;
let url: string;

beforeAll(async () => {
  sim = await startSimulator({ scenario, port: 0 });
  host = await EngineHost.create({
    dataDir: null,
    tokenStore: new MemoryTokenStore(),
    oauth: simulatorOAuth(sim),
    baseUrls: [sim.baseUrl],
    proxy: { enabled: true, port: 0, key: KEY },
  });
  await addSimulatorAccounts(host, sim);
  await host.start();
  await host.refresh();
  url = host.proxyStatus().url as string;
});

afterAll(async () => {
  await host.dispose();
  await sim.close();
});

beforeEach(() => {
  sim.control.clearFaults();
  host.resetCooldowns();
});

/** A fetch that counts the requests an SDK makes. */
function counting(): { fetch: typeof fetch; count: () => number } {
  let n = 0;
  return {
    fetch: (input, init) => {
      n++;
      return fetch(input, init);
    },
    count: () => n,
  };
}

const rateLimitAll = (retryDelayMs: number): void => {
  sim.control.addFault({ kind: 'rate-limited', retryDelayMs, count: accounts.length });
};

describe('a far reset: every SDK stops after one request', () => {
  it('OpenAI: 402 insufficient_quota, no Retry-After, x-should-retry: false, says when', async () => {
    const c = counting();
    const openai = new OpenAI({ baseURL: `${url}/v1`, apiKey: KEY, fetch: c.fetch });
    const started = Date.now();
    const err = await openai.chat.completions
      .create({ model: 'gemini-3-flash', messages: [{ role: 'user', content: 'hi' }] })
      .catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(c.count()).toBe(1);
    expect(err).toBeInstanceOf(OpenAI.APIError);
    const e = err as InstanceType<typeof OpenAI.APIError>;
    expect(e.status).toBe(402);
    expect(e.code).toBe('insufficient_quota');
    expect(e.headers?.get('retry-after')).toBeNull();
    expect(e.headers?.get('retry-after-ms')).toBeNull();
    expect(e.headers?.get('x-should-retry')).toBe('false');
    expect(e.message).toMatch(/Quota returns at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \(in \d+h/);
  });

  it('Anthropic: 402 billing_error, one request', async () => {
    const c = counting();
    const anthropic = new Anthropic({ baseURL: url, apiKey: KEY, fetch: c.fetch });
    const started = Date.now();
    const err = await anthropic.messages
      .create({ model: 'gemini-3-flash', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] })
      .catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(c.count()).toBe(1);
    const e = err as InstanceType<typeof Anthropic.APIError>;
    expect(e.status).toBe(402);
    expect(JSON.stringify(e.error)).toContain('billing_error');
    expect(e.message).toContain('Quota returns at');
    // opencode 1.18.33 retries even a non-retryable status when the message or body matches one of
    // these (its session/retry.ts); the answer must not, or it would wait again.
    const opencodeRetryPatterns = [
      /429|500|502|503|504|524/i,
      /rate increased too quickly|rate limit|rate-limit|rate_limit|too many requests/i,
      /overloaded|service unavailable|service_unavailable|internal error|server error|server_error/i,
      /try your request again|retry your request|resource exhausted|resource_exhausted/i,
      /\btry again (?:later|in\b)|\b(?:currently|temporarily) at capacity\b/i,
    ];
    const body = JSON.stringify(e.error);
    for (const re of opencodeRetryPatterns) expect(body).not.toMatch(re);
  });

  it('Gemini: 429 RESOURCE_EXHAUSTED with ErrorInfo QUOTA_EXHAUSTED and RetryInfo', async () => {
    const ai = new GoogleGenAI({ apiKey: KEY, httpOptions: { baseUrl: url, apiVersion: 'v1beta' } });
    const started = Date.now();
    const err = await ai.models
      .generateContent({ model: 'gemini-3-flash', contents: 'hi' })
      .catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).status).toBe(429);
    const r = await fetch(`${url}/v1beta/models/gemini-3-flash:generateContent`, {
      method: 'POST',
      headers: { 'x-goog-api-key': KEY, 'content-type': 'application/json' },
      body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'hi' }] }] }),
    });
    expect(r.status).toBe(429);
    expect(r.headers.get('retry-after')).toBeNull();
    const body = (await r.json()) as {
      error: { status: string; message: string; details: Array<Record<string, unknown>> };
    };
    expect(body.error.status).toBe('RESOURCE_EXHAUSTED');
    const info = body.error.details.find((d) => d['@type'] === 'type.googleapis.com/google.rpc.ErrorInfo');
    const retry = body.error.details.find((d) => d['@type'] === 'type.googleapis.com/google.rpc.RetryInfo');
    expect(info).toMatchObject({ reason: 'QUOTA_EXHAUSTED', domain: 'cloudcode-pa.googleapis.com' });
    expect(info?.metadata).toMatchObject({ model: 'gemini-3-flash' });
    const delayS = Number(String(retry?.retryDelay).replace(/s$/, ''));
    expect(delayS * 1000).toBeGreaterThan(FAR_RESET_MS);
  });
});

describe('a near reset: a precise Retry-After, waited out', () => {
  it('OpenAI: retries after retry-after-ms and succeeds', async () => {
    rateLimitAll(1_500);
    const c = counting();
    const openai = new OpenAI({ baseURL: `${url}/v1`, apiKey: KEY, fetch: c.fetch });
    const started = Date.now();
    const r = await openai.chat.completions.create({
      model: 'claude-sonnet-4-6',
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(r.choices[0]?.message.content).toBeTruthy();
    expect(c.count()).toBe(2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
  });

  it('Anthropic: retries after retry-after-ms and succeeds', async () => {
    rateLimitAll(1_500);
    const c = counting();
    const anthropic = new Anthropic({ baseURL: url, apiKey: KEY, fetch: c.fetch });
    const started = Date.now();
    const m = await anthropic.messages.create({
      model: 'claude-sonnet-4-6',
      max_tokens: 20,
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(m.content.length).toBeGreaterThan(0);
    expect(c.count()).toBe(2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
  });

  it('Gemini: RATE_LIMIT_EXCEEDED with the delay in RetryInfo, Retry-After and the message', async () => {
    rateLimitAll(20_000);
    const r = await fetch(`${url}/v1beta/models/claude-sonnet-4-6:generateContent`, {
      method: 'POST',
      headers: { 'x-goog-api-key': KEY, 'content-type': 'application/json' },
      body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'hi' }] }] }),
    });
    expect(r.status).toBe(429);
    const retryAfter = Number(r.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(15);
    expect(retryAfter).toBeLessThanOrEqual(21);
    expect(Number(r.headers.get('retry-after-ms'))).toBeGreaterThan(14_000);
    const body = (await r.json()) as { error: { message: string; details: Array<Record<string, unknown>> } };
    expect(body.error.details).toContainEqual(
      expect.objectContaining({ reason: 'RATE_LIMIT_EXCEEDED', domain: 'cloudcode-pa.googleapis.com' }),
    );
    const retry = body.error.details.find((d) => d['@type'] === 'type.googleapis.com/google.rpc.RetryInfo');
    expect(Number(String(retry?.retryDelay).replace(/s$/, ''))).toBeGreaterThan(14);
    expect(body.error.message).toMatch(/Quota returns at .* UTC \(in (1\d|20)s\)/);
  });

  it('a bare RESOURCE_EXHAUSTED on every account still answers with a Retry-After', async () => {
    sim.control.addFault({ kind: 'resource-exhausted-bare', count: accounts.length });
    const r = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'claude-sonnet-4-6', messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(r.status).toBe(429);
    expect(Number(r.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(r.headers.get('retry-after-ms')).not.toBeNull();
  });
});
