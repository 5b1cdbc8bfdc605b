import { createParser } from 'eventsource-parser';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/core/clock';
import { loadScenario, startSimulator, type RunningSimulator, type ScenarioInput } from '../../src/simulator';

const START = Date.UTC(2026, 0, 5, 9, 0, 0);
const ERROR_INFO = 'type.googleapis.com/google.rpc.ErrorInfo';
const RETRY_INFO = 'type.googleapis.com/google.rpc.RetryInfo';

const scenario: ScenarioInput = {
  name: 'faults-test',
  seed: 99,
  latency: { firstByteMs: 0, chunkGapMs: 0, chunks: 3 },
  accounts: [
    { id: 'a', email: 'a@example.com', tier: 'PRO', refreshToken: 'refresh-a-123', project: 'proj-a' },
    { id: 'b', email: 'b@example.com', tier: 'FREE', refreshToken: 'refresh-b-123', project: 'proj-b' },
  ],
};

let sim: RunningSimulator;
let clock: VirtualClock;
let token: string;

beforeAll(async () => {
  clock = new VirtualClock(START);
  sim = await startSimulator({ scenario: scenario, clock });
});
afterAll(async () => {
  await sim.close();
});
beforeEach(() => {
  sim.control.reset();
  token = sim.control.issueAccessToken('a').accessToken;
});

async function fault(spec: Record<string, unknown>): Promise<void> {
  const res = await fetch(`${sim.baseUrl}/_simulator/fault`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(spec),
  });
  expect(res.status).toBe(200);
}

function generate(model = 'gemini-3-flash', stream = false, signal?: AbortSignal): Promise<Response> {
  return fetch(`${sim.baseUrl}/v1internal:${stream ? 'streamGenerateContent?alt=sse' : 'generateContent'}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      project: 'proj-a',
      model,
      request: { contents: [{ role: 'user', parts: [{ text: 'hi' }] }] },
    }),
    signal,
  });
}

function quotaCall(method: string): Promise<Response> {
  return fetch(`${sim.baseUrl}/v1internal:${method}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ project: 'proj-a' }),
  });
}

async function errorOf(
  res: Response,
): Promise<{ code: number; status: string; message: string; details?: Array<Record<string, unknown>> }> {
  return (
    (await res.json()) as {
      error: { code: number; status: string; message: string; details?: Array<Record<string, unknown>> };
    }
  ).error;
}

describe('429 fault bodies', () => {
  it('quota-exhausted: ErrorInfo then RetryInfo, delays to the 5h reset', async () => {
    await fault({ kind: 'quota-exhausted', once: true });
    const res = await generate('claude-sonnet-4-6');
    expect(res.status).toBe(429);
    const e = await errorOf(res);
    const reset = sim.control.quota.windowBounds('a', '5h').end;
    const delay = reset - START;
    expect(e.status).toBe('RESOURCE_EXHAUSTED');
    expect(e.details?.[0]).toMatchObject({
      '@type': ERROR_INFO,
      reason: 'QUOTA_EXHAUSTED',
      domain: 'cloudcode-pa.googleapis.com',
      metadata: {
        model: 'claude-sonnet-4-6',
        quotaResetTimeStamp: new Date(reset).toISOString().replace('.000Z', 'Z'),
      },
    });
    expect(e.details?.[1]).toEqual({ '@type': RETRY_INFO, retryDelay: `${delay / 1000}s` });
    // Once: the next request is served.
    expect((await generate('claude-sonnet-4-6')).status).toBe(200);
  });

  it('quota-exhausted-info-second: ErrorInfo at index 1', async () => {
    await fault({ kind: 'quota-exhausted-info-second', once: true });
    const e = await errorOf(await generate());
    expect(e.details?.[0]?.['@type']).toBe(RETRY_INFO);
    expect(e.details?.[1]).toMatchObject({ '@type': ERROR_INFO, reason: 'QUOTA_EXHAUSTED' });
  });

  it('rate-limited: RATE_LIMIT_EXCEEDED with the short delay', async () => {
    await fault({ kind: 'rate-limited', once: true, retryDelayMs: 1500 });
    const res = await generate();
    expect(res.status).toBe(429);
    const e = await errorOf(res);
    expect(e.details).toEqual([
      {
        '@type': ERROR_INFO,
        reason: 'RATE_LIMIT_EXCEEDED',
        domain: 'cloudcode-pa.googleapis.com',
        metadata: { model: 'gemini-3-flash' },
      },
      { '@type': RETRY_INFO, retryDelay: '1.5s' },
    ]);
  });

  it('resource-exhausted-bare: no details at all', async () => {
    await fault({ kind: 'resource-exhausted-bare', once: true });
    const res = await generate();
    expect(res.status).toBe(429);
    expect(await res.json()).toEqual({
      error: {
        code: 429,
        status: 'RESOURCE_EXHAUSTED',
        message: 'Resource has been exhausted (e.g. check quota).',
      },
    });
  });

  it('model-capacity: MODEL_CAPACITY_EXHAUSTED', async () => {
    await fault({ kind: 'model-capacity', once: true });
    const e = await errorOf(await generate());
    expect(e.code).toBe(429);
    expect(e.message).toBe('No capacity available for model gemini-3-flash on the server');
    expect(e.details?.[0]).toMatchObject({ reason: 'MODEL_CAPACITY_EXHAUSTED' });
    expect(e.details?.[1]).toEqual({ '@type': RETRY_INFO, retryDelay: '5s' });
  });
});

describe('credits', () => {
  it('insufficient-credits: INSUFFICIENT_G1_CREDITS_BALANCE', async () => {
    await fault({ kind: 'insufficient-credits', once: true });
    const res = await generate('claude-opus-4-6-thinking');
    expect(res.status).toBe(429);
    const e = await errorOf(res);
    expect(e.details).toEqual([
      {
        '@type': ERROR_INFO,
        reason: 'INSUFFICIENT_G1_CREDITS_BALANCE',
        domain: 'cloudcode-pa.googleapis.com',
        metadata: { model: 'claude-opus-4-6-thinking' },
      },
    ]);
  });
});

describe('other fault bodies', () => {
  it('no-capacity 503, server-error 500, token-expired 401, validation 403, ToS 403', async () => {
    await fault({ kind: 'no-capacity', once: true });
    let res = await generate();
    expect(res.status).toBe(503);
    expect(await errorOf(res)).toMatchObject({
      code: 503,
      status: 'UNAVAILABLE',
      message: 'No capacity available for model gemini-3-flash on the server',
    });

    await fault({ kind: 'server-error', once: true });
    res = await generate();
    expect(res.status).toBe(500);
    expect(await errorOf(res)).toMatchObject({ code: 500, status: 'INTERNAL' });

    await fault({ kind: 'token-expired', once: true });
    res = await quotaCall('loadCodeAssist');
    expect(res.status).toBe(401);
    expect(await errorOf(res)).toMatchObject({ code: 401, status: 'UNAUTHENTICATED' });

    await fault({ kind: 'validation-required', once: true });
    res = await generate();
    expect(res.status).toBe(403);
    const v = await errorOf(res);
    expect(v.status).toBe('PERMISSION_DENIED');
    expect(v.details?.[0]).toMatchObject({
      reason: 'VALIDATION_REQUIRED',
      metadata: { validation_url: expect.stringMatching(/^https:\/\//) },
    });

    await fault({ kind: 'tos-ban', once: true });
    res = await generate();
    expect(res.status).toBe(403);
    expect((await errorOf(res)).message).toMatch(/Terms of Service/);

    expect((await generate()).status).toBe(200);
  });

  it('filters by account and model', async () => {
    await fault({ kind: 'server-error', account: 'b@example.com', count: 5 });
    await fault({ kind: 'no-capacity', model: 'gemini-3-pro-high', count: 5 });
    expect((await generate('gemini-3-flash')).status).toBe(200);
    expect((await generate('gemini-3-pro-high')).status).toBe(503);
  });
});

describe('transport faults', () => {
  it('stall: headers never come', async () => {
    await fault({ kind: 'stall', once: true });
    const ac = new AbortController();
    const pending = generate('gemini-3-flash', false, ac.signal);
    const outcome = await Promise.race([
      pending.then(() => 'answered'),
      new Promise<string>((resolve) => setTimeout(() => resolve('still waiting'), 300)),
    ]);
    expect(outcome).toBe('still waiting');
    ac.abort();
    await expect(pending).rejects.toThrow();
  });

  it('connection-reset: the stream breaks after the first event', async () => {
    await fault({ kind: 'connection-reset', once: true });
    const res = await generate('gemini-3-flash', true);
    expect(res.status).toBe(200);
    const events: string[] = [];
    const parser = createParser({ onEvent: (e) => events.push(e.data) });
    const decoder = new TextDecoder();
    await expect(
      (async () => {
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>)
          parser.feed(decoder.decode(chunk));
      })(),
    ).rejects.toThrow();
    expect(events).toHaveLength(1);
  });

  it('connection-reset: a plain body is cut short', async () => {
    await fault({ kind: 'connection-reset', once: true });
    const res = await generate();
    await expect(res.text()).rejects.toThrow();
  });

  it('malformed-json: the body, or one SSE event, is not JSON', async () => {
    await fault({ kind: 'malformed-json', once: true });
    const res = await generate();
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(() => JSON.parse(text)).toThrow();

    await fault({ kind: 'malformed-json', once: true });
    const s = await generate('gemini-3-flash', true);
    const events: string[] = [];
    const parser = createParser({ onEvent: (e) => events.push(e.data) });
    parser.feed(await s.text());
    expect(events).toHaveLength(3);
    expect(() => JSON.parse(events[0] as string)).not.toThrow();
    expect(() => JSON.parse(events[1] as string)).toThrow();
    expect(() => JSON.parse(events[2] as string)).not.toThrow();
  });
});

describe('quota API faults', () => {
  it('quota-api-outage: quota methods 503 inside the window while generation works', async () => {
    await fault({ kind: 'quota-api-outage', from: START + 60_000, until: START + 120_000 });
    expect((await quotaCall('fetchAvailableModels')).status).toBe(200);
    await clock.advanceAsync(60_000);
    token = sim.control.issueAccessToken('a').accessToken;
    const down = await quotaCall('fetchAvailableModels');
    expect(down.status).toBe(503);
    expect(await errorOf(down)).toMatchObject({ status: 'UNAVAILABLE' });
    expect((await quotaCall('retrieveUserQuotaSummary')).status).toBe(503);
    expect((await quotaCall('loadCodeAssist')).status).toBe(200);
    expect((await generate()).status).toBe(200);
    await clock.advanceAsync(60_000);
    expect((await quotaCall('fetchAvailableModels')).status).toBe(200);
  });

  it('models-stuck-full: fetchAvailableModels says 100% while the summary is right', async () => {
    await fault({ kind: 'models-stuck-full' });
    sim.control.drain({ account: 'a', pool: 'claude', toFraction: 0.2 });
    const models = (await (await quotaCall('fetchAvailableModels')).json()) as {
      models: Record<string, { quotaInfo: { remainingFraction: number } }>;
    };
    expect(models.models['claude-sonnet-4-6']?.quotaInfo.remainingFraction).toBe(1);
    const summary = (await (await quotaCall('retrieveUserQuotaSummary')).json()) as {
      groups: Array<{ buckets: Array<{ bucketId: string; remainingFraction: number }> }>;
    };
    expect(summary.groups[1]?.buckets.find((b) => b.bucketId === '3p-5h')?.remainingFraction).toBe(0.2);
  });
});

describe('more upstream quirks', () => {
  it('models-project-forbidden: 403 with a project, 200 without', async () => {
    await fault({ kind: 'models-project-forbidden', account: 'a' });
    const withProject = await quotaCall('fetchAvailableModels');
    expect(withProject.status).toBe(403);
    expect(await errorOf(withProject)).toMatchObject({ code: 403, status: 'PERMISSION_DENIED' });
    const without = await fetch(`${sim.baseUrl}/v1internal:fetchAvailableModels`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
      body: '{}',
    });
    expect(without.status).toBe(200);
  });

  it('models-epoch-reset: exhausted models show 0 with a 1970 reset', async () => {
    await fault({ kind: 'models-epoch-reset' });
    sim.control.drain({ account: 'a', pool: 'claude', toFraction: 0 });
    const body = (await (await quotaCall('fetchAvailableModels')).json()) as {
      models: Record<string, { quotaInfo: unknown }>;
    };
    expect(body.models['claude-sonnet-4-6']?.quotaInfo).toEqual({
      remainingFraction: 0,
      resetTime: '1970-01-01T00:00:00Z',
    });
    expect(body.models['gemini-3-flash']?.quotaInfo).toMatchObject({ remainingFraction: 1 });
  });

  it('retryAfterSec adds a Retry-After header to the fault answer', async () => {
    await fault({ kind: 'no-capacity', once: true, retryAfterSec: 7 });
    const res = await generate();
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('7');
    await res.arrayBuffer();
    await fault({ kind: 'rate-limited', once: true });
    const plain = await generate();
    expect(plain.headers.get('retry-after')).toBeNull();
    await plain.arrayBuffer();
  });
});

describe('seeded fault rates', () => {
  it('fire in the same pattern for the same seed', async () => {
    async function pattern(): Promise<number[]> {
      const s = await startSimulator({
        scenario: { ...scenario, faults: [{ kind: 'server-error', rate: 0.5 }] },
        clock: new VirtualClock(START),
      });
      const t = s.control.issueAccessToken('a').accessToken;
      const out: number[] = [];
      for (let i = 0; i < 16; i++) {
        const res = await fetch(`${s.baseUrl}/v1internal:generateContent`, {
          method: 'POST',
          headers: { authorization: `Bearer ${t}` },
          body: JSON.stringify({
            project: 'proj-a',
            model: 'gemini-3-flash',
            request: { contents: [{ parts: [{ text: 'x' }] }] },
          }),
        });
        await res.arrayBuffer();
        out.push(res.status);
      }
      await s.close();
      return out;
    }
    const first = await pattern();
    expect(first).toEqual(await pattern());
    expect(first).toContain(500);
    expect(first).toContain(200);
  });
});

describe('the built-in faulty scenario', () => {
  it('serves a reproducible mix of answers and faults without breaking', async () => {
    async function run(): Promise<string[]> {
      const faulty = loadScenario('faulty');
      const s = await startSimulator({
        scenario: { ...faulty, latency: { firstByteMs: 0, chunkGapMs: 0, chunks: 4 } },
        clock: new VirtualClock(START),
      });
      try {
        const t = s.control.issueAccessToken('pro-a').accessToken;
        const out: string[] = [];
        for (let i = 0; i < 80; i++) {
          try {
            const res = await fetch(`${s.baseUrl}/v1internal:generateContent`, {
              method: 'POST',
              headers: { authorization: `Bearer ${t}` },
              body: JSON.stringify({
                project: 'sim-project-pro-a',
                model: 'gemini-3-flash',
                request: { contents: [{ role: 'user', parts: [{ text: `request ${i}` }] }] },
              }),
            });
            const text = await res.text();
            out.push(res.status === 200 && !isJson(text) ? 'malformed' : String(res.status));
          } catch {
            out.push('reset');
          }
        }
        expect(s.control.state().stats.requests.generateContent).toBe(80);
        return out;
      } finally {
        await s.close();
      }
    }
    const first = await run();
    expect(await run()).toEqual(first);
    expect(first.filter((x) => x === '200').length).toBeGreaterThan(40);
    expect(new Set(first.filter((x) => x !== '200')).size).toBeGreaterThanOrEqual(3);
  });
});

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
