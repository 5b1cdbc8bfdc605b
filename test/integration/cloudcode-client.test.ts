import { once } from 'node:events';
import type { ServerResponse } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/core/clock';
import { ProviderError } from '../../src/core/provider';
import {
  CloudCodeClient,
  type AccessTokenOptions,
  type CloudCodeClientOptions,
} from '../../src/upstream/cloudcode/client';
import { CloudCodeQuotaProvider } from '../../src/upstream/cloudcode/provider';
import type { GenerateContentResponse } from '../../src/upstream/cloudcode/schemas';
import { fixture } from '../unit/upstream/fixtures';
import { closedPortUrl, json, startTestServer, type TestServer } from '../fixtures/cloudcode/server';

const M = (name: string) => `/v1internal:${name}`;

let a: TestServer;
let b: TestServer;
const clients: CloudCodeClient[] = [];
const tokenCalls: AccessTokenOptions[] = [];

beforeEach(async () => {
  a = await startTestServer();
  b = await startTestServer();
  tokenCalls.length = 0;
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all([a.close(), b.close()]);
});

function client(options: Partial<CloudCodeClientOptions> = {}): CloudCodeClient {
  const c = new CloudCodeClient({
    baseUrls: [a.url],
    getAccessToken: async (_id, opts) => {
      tokenCalls.push(opts);
      return opts.forceRefresh ? 'fresh-token' : 'old-token';
    },
    userAgent: 'antigravity/1.2.3 linux/x64',
    ...options,
  });
  clients.push(c);
  return c;
}

async function caught(p: Promise<unknown>): Promise<ProviderError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(ProviderError);
    return e as ProviderError;
  }
  throw new Error('expected a ProviderError');
}

const tick = (ms = 0) => new Promise((r) => setTimeout(r, ms));

describe('CloudCodeClient methods', () => {
  it('loadCodeAssist sends the headers and metadata and maps tier, project and status', async () => {
    a.handle(M('loadCodeAssist'), (_r, res) => json(res, 200, fixture('load-code-assist-paid.json')));
    const r = await client().loadCodeAssist({ accountId: 'acc', userProject: 'proj-x' });
    expect(r).toMatchObject({ tier: 'PRO', projectId: 'rising-fact-p41fc' });
    const req = a.requests[0];
    expect(req?.method).toBe('POST');
    expect(req?.headers.authorization).toBe('Bearer old-token');
    expect(req?.headers['user-agent']).toBe('antigravity/1.2.3 linux/x64');
    expect(req?.headers['content-type']).toBe('application/json');
    expect(req?.headers['x-goog-user-project']).toBe('proj-x');
    expect(JSON.parse(req?.body ?? '')).toEqual({
      metadata: { ideType: 'ANTIGRAVITY', platform: 'PLATFORM_UNSPECIFIED', pluginType: 'GEMINI' },
    });
  });

  it('retries once without x-goog-user-project after a plain 403', async () => {
    a.handle(M('countTokens'), (req, res) =>
      req.headers['x-goog-user-project']
        ? json(res, 403, {
            error: { code: 403, status: 'PERMISSION_DENIED', message: 'project not allowed' },
          })
        : json(res, 200, { totalTokens: 2 }),
    );
    expect(await client().countTokens({ accountId: 'acc', request: {}, userProject: 'p' })).toEqual({
      totalTokens: 2,
    });
    expect(a.requests.map((r) => r.headers['x-goog-user-project'])).toEqual(['p', undefined]);
  });

  it('builds a default User-Agent of the antigravity/<version> <os>/<arch> form', async () => {
    a.handle(M('countTokens'), (_r, res) => json(res, 200, { totalTokens: 1 }));
    const c = new CloudCodeClient({
      baseUrls: [a.url],
      getAccessToken: async () => 't',
      clientVersion: '9.9.9',
    });
    clients.push(c);
    await c.countTokens({ accountId: 'acc', request: {} });
    expect(a.requests[0]?.headers['user-agent']).toMatch(/^antigravity\/9\.9\.9 \w+\/\w+$/);
  });

  it('ensureProject onboards when no project comes back, polling until done', async () => {
    a.handle(M('loadCodeAssist'), (_r, res) => json(res, 200, fixture('load-code-assist-new-user.json')));
    let n = 0;
    a.handle(M('onboardUser'), (_r, res) => {
      n++;
      json(
        res,
        200,
        n < 3
          ? { name: 'op/1', done: false }
          : {
              name: 'op/1',
              done: true,
              response: { cloudaicompanionProject: { id: 'new-proj', name: 'x' } },
            },
      );
    });
    const r = await client({ onboard: { attempts: 5, intervalMs: 1 } }).ensureProject({ accountId: 'acc' });
    expect(r.projectId).toBe('new-proj');
    expect(n).toBe(3);
    const onboard = a.requests.find((q) => q.path === M('onboardUser'));
    expect(JSON.parse(onboard?.body ?? '')).toMatchObject({ tierId: 'free-tier' });
  });

  it('onboardUser polling is bounded and cancellable', async () => {
    a.handle(M('onboardUser'), (_r, res) => json(res, 200, { done: false }));
    const bounded = await caught(
      client({ onboard: { attempts: 3, intervalMs: 1 } }).onboardUser({
        accountId: 'acc',
        tierId: 'free-tier',
      }),
    );
    expect(bounded.kind).toBe('transient');
    expect(bounded.message).toMatch(/did not finish after 3 attempts/);
    expect(a.requests).toHaveLength(3);

    const clock = new VirtualClock();
    const controller = new AbortController();
    const p = client({ clock, onboard: { attempts: 10, intervalMs: 60_000 } }).onboardUser({
      accountId: 'acc',
      tierId: 'free-tier',
      signal: controller.signal,
    });
    while (clock.pendingTimers() === 0) await tick(1);
    controller.abort();
    expect((await caught(p)).kind).toBe('aborted');
    expect(a.requests).toHaveLength(4);
  });

  it('fetchAvailableModels sends the project and retries once without it after a 403', async () => {
    let calls = 0;
    a.handle(M('fetchAvailableModels'), (req, res) => {
      calls++;
      if ((JSON.parse(req.body) as { project?: string }).project) {
        json(res, 403, { error: { code: 403, status: 'PERMISSION_DENIED', message: 'no' } });
      } else json(res, 200, fixture('fetch-available-models.json'));
    });
    const r = await client().fetchAvailableModels({ accountId: 'acc', projectId: 'p1' });
    expect(calls).toBe(2);
    expect(r.readings.find((x) => x.model === 'claude-sonnet-4-6')?.remainingFraction).toBe(0.7);
    expect(r.deprecated['gemini-3.1-pro-high']).toBe('gemini-pro-agent');
  });

  it('retrieveUserQuotaSummary, generateContent and countTokens', async () => {
    a.handle(M('retrieveUserQuotaSummary'), (_r, res) => json(res, 200, fixture('quota-summary.json')));
    a.handle(M('generateContent'), (_r, res) =>
      json(res, 200, {
        response: {
          candidates: [{ content: { role: 'model', parts: [{ text: 'hello' }] } }],
          usageMetadata: { totalTokenCount: 5 },
        },
        traceId: 't1',
      }),
    );
    a.handle(M('countTokens'), (_r, res) => json(res, 200, { totalTokens: '42' }));
    const c = client();
    const s = await c.retrieveUserQuotaSummary({ accountId: 'acc', projectId: 'p1' });
    expect(s.buckets.map((x) => x.id)).toEqual(['gemini-weekly', 'gemini-5h', '3p-weekly', '3p-5h']);
    expect(JSON.parse(a.requests[0]?.body ?? '')).toEqual({ project: 'p1' });
    const g = await c.generateContent({
      accountId: 'acc',
      model: 'claude-sonnet-4-6',
      project: 'p1',
      request: { contents: [] },
    });
    expect(g.candidates?.[0]?.content?.parts?.[0]?.text).toBe('hello');
    expect(g.usageMetadata?.totalTokenCount).toBe(5);
    const env = JSON.parse(a.requests[1]?.body ?? '') as Record<string, unknown>;
    expect(env).toMatchObject({
      project: 'p1',
      model: 'claude-sonnet-4-6',
      userAgent: 'antigravity',
      requestType: 'agent',
      request: { contents: [] },
    });
    expect(env.requestId).toMatch(/^agent-[0-9a-f-]{36}$/);
    expect(await c.countTokens({ accountId: 'acc', request: { contents: [] } })).toEqual({ totalTokens: 42 });
    expect(JSON.parse(a.requests[2]?.body ?? '')).toEqual({ request: { contents: [] } });
  });

  it('a 2xx body of the wrong shape is invalid-response naming the field', async () => {
    a.handle(M('countTokens'), (_r, res) => json(res, 200, { total: 1 }));
    const e = await caught(client().countTokens({ accountId: 'acc', request: {} }));
    expect(e.kind).toBe('invalid-response');
    expect(e.message).toContain('totalTokens');
    a.handle(M('loadCodeAssist'), (_r, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html>login</html>');
    });
    expect((await caught(client().loadCodeAssist({ accountId: 'acc' }))).kind).toBe('invalid-response');
  });
});

describe('errors through the client', () => {
  const cases: [string, number, unknown, Record<string, string>, string, number | undefined][] = [
    ['quota exhausted', 429, fixture('error-429-quota-exhausted.json'), {}, 'quota-exhausted', 539_420_180],
    [
      'Retry-After header',
      429,
      fixture('error-429-bare.json'),
      { 'retry-after': '12' },
      'rate-limited',
      12_000,
    ],
    ['rate limit', 429, fixture('error-429-rate-limit.json'), {}, 'rate-limited', 1_500],
    ['capacity', 429, fixture('error-429-capacity.json'), {}, 'capacity', 3_000],
    ['G1 credits', 429, fixture('error-429-g1-credits.json'), {}, 'quota-exhausted', undefined],
    ['verification', 403, fixture('error-403-validation.json'), {}, 'verification-required', undefined],
    ['ToS ban', 403, fixture('error-403-tos.json'), {}, 'forbidden', undefined],
    ['bad request', 400, { error: { code: 400, message: 'bad' } }, {}, 'invalid-response', undefined],
  ];
  it.each(cases)('%s → typed error, no fallback', async (_name, status, body, headers, kind, delay) => {
    a.handle(M('generateContent'), (_r, res) => json(res, status, body, headers));
    const e = await caught(
      client({ baseUrls: [a.url, b.url] }).generateContent({
        accountId: 'acc',
        model: 'gemini-pro-agent',
        project: 'p',
        request: {},
      }),
    );
    expect(e.kind).toBe(kind);
    expect(e.retryAfterMs).toBe(delay);
    expect(e.status).toBe(status);
    expect(e.message).not.toContain('old-token');
    expect(b.requests).toHaveLength(0);
  });

  it('503 "no capacity" on the last base is capacity', async () => {
    a.handle(M('generateContent'), (_r, res) => json(res, 503, fixture('error-503-no-capacity.json')));
    const e = await caught(
      client().generateContent({ accountId: 'acc', model: 'm', project: 'p', request: {} }),
    );
    expect(e.kind).toBe('capacity');
  });
});

describe('base URL fallback', () => {
  it.each([404, 503, 500, 408])('moves to the next base when the first answers %d', async (status) => {
    a.handle(M('loadCodeAssist'), (_r, res) =>
      json(res, status, { error: { code: status, message: 'nope' } }),
    );
    b.handle(M('loadCodeAssist'), (_r, res) => json(res, 200, fixture('load-code-assist-paid.json')));
    const r = await client({ baseUrls: [a.url, b.url] }).loadCodeAssist({ accountId: 'acc' });
    expect(r.tier).toBe('PRO');
    expect(a.requests).toHaveLength(1);
    expect(b.requests).toHaveLength(1);
  });

  it('moves on after a connection error and reports the last error when every base fails', async () => {
    const dead = await closedPortUrl();
    b.handle(M('loadCodeAssist'), (_r, res) => json(res, 200, fixture('load-code-assist-paid.json')));
    expect((await client({ baseUrls: [dead, b.url] }).loadCodeAssist({ accountId: 'acc' })).tier).toBe('PRO');
    a.handle(M('loadCodeAssist'), (_r, res) => json(res, 502, 'bad gateway'));
    const e = await caught(client({ baseUrls: [dead, a.url] }).loadCodeAssist({ accountId: 'acc' }));
    expect(e.kind).toBe('transient');
    expect(e.status).toBe(502);
    const down = await caught(client({ baseUrls: [dead] }).loadCodeAssist({ accountId: 'acc' }));
    expect(down.kind).toBe('transient');
    expect(down.message).toMatch(/network error/);
  });

  it('falls back on 429 only when configured', async () => {
    a.handle(M('countTokens'), (_r, res) => json(res, 429, fixture('error-429-bare.json')));
    b.handle(M('countTokens'), (_r, res) => json(res, 200, { totalTokens: 1 }));
    const strict = await caught(
      client({ baseUrls: [a.url, b.url] }).countTokens({ accountId: 'x', request: {} }),
    );
    expect(strict.kind).toBe('rate-limited');
    const spread = client({ baseUrls: [a.url, b.url], fallbackOn429: true });
    expect(await spread.countTokens({ accountId: 'x', request: {} })).toEqual({ totalTokens: 1 });
  });

  it('a server that stalls its headers times out and the next base answers', async () => {
    a.handle(M('countTokens'), () => undefined); // never answers
    b.handle(M('countTokens'), (_r, res) => json(res, 200, { totalTokens: 7 }));
    const c = client({ baseUrls: [a.url, b.url], timeouts: { headersMs: 200 } });
    expect(await c.countTokens({ accountId: 'x', request: {} })).toEqual({ totalTokens: 7 });
    const only = client({ baseUrls: [a.url], timeouts: { headersMs: 200 } });
    const e = await caught(only.countTokens({ accountId: 'x', request: {} }));
    expect(e.kind).toBe('transient');
    expect(e.message).toMatch(/HEADERS_TIMEOUT|timeout/i);
  });

  it('a body that goes silent hits the idle timeout', async () => {
    a.handle(M('countTokens'), (_r, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"totalTo');
    });
    const e = await caught(
      client({ timeouts: { bodyIdleMs: 200 } }).countTokens({ accountId: 'x', request: {} }),
    );
    expect(e.kind).toBe('transient');
  });

  it('an AbortSignal cancels a call in flight', async () => {
    a.handle(M('countTokens'), () => undefined);
    const controller = new AbortController();
    const p = client().countTokens({ accountId: 'x', request: {}, signal: controller.signal });
    while (a.requests.length === 0) await tick(5);
    controller.abort();
    expect((await caught(p)).kind).toBe('aborted');
  });
});

describe('401 handling', () => {
  it('refreshes the token once and retries once', async () => {
    a.handle(M('countTokens'), (req, res) =>
      req.headers.authorization === 'Bearer fresh-token'
        ? json(res, 200, { totalTokens: 3 })
        : json(res, 401, { error: { code: 401, status: 'UNAUTHENTICATED' } }),
    );
    expect(await client().countTokens({ accountId: 'acc', request: {} })).toEqual({ totalTokens: 3 });
    expect(tokenCalls.map((t) => t.forceRefresh)).toEqual([false, true]);
    expect(tokenCalls[1]?.rejectedToken).toBe('old-token');
  });

  it('a second 401 after the refresh is auth-expired, without a third try', async () => {
    a.handle(M('countTokens'), (_r, res) => json(res, 401, { error: { code: 401 } }));
    const e = await caught(client().countTokens({ accountId: 'acc', request: {} }));
    expect(e.kind).toBe('auth-expired');
    expect(a.requests).toHaveLength(2);
  });
});

function sse(res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/event-stream' });
}
const chunk = (text: string) =>
  `data: ${JSON.stringify({ response: { candidates: [{ content: { parts: [{ text }] } }] }, traceId: 't' })}\n\n`;
const texts = (chunks: GenerateContentResponse[]) =>
  chunks.map((c) => c.candidates?.[0]?.content?.parts?.[0]?.text);

describe('streamGenerateContent', () => {
  const opts = { accountId: 'acc', model: 'claude-sonnet-4-6', project: 'p', request: { contents: [] } };

  it('yields unwrapped chunks, split across TCP writes, and asks for alt=sse', async () => {
    a.handle(M('streamGenerateContent'), async (_r, res) => {
      sse(res);
      const all = chunk('Hel') + ': keep-alive comment\n\n' + chunk('lo') + chunk('!');
      for (let i = 0; i < all.length; i += 7) {
        res.write(all.slice(i, i + 7));
        await tick();
      }
      res.end();
    });
    const out: GenerateContentResponse[] = [];
    for await (const c of client().streamGenerateContent(opts)) out.push(c);
    expect(texts(out)).toEqual(['Hel', 'lo', '!']);
    expect(a.requests[0]?.path).toBe('/v1internal:streamGenerateContent?alt=sse');
    expect(a.requests[0]?.headers.accept).toBe('text/event-stream');
  });

  it('falls back before the stream starts', async () => {
    a.handle(M('streamGenerateContent'), (_r, res) =>
      json(res, 503, { error: { code: 503, message: 'down' } }),
    );
    b.handle(M('streamGenerateContent'), (_r, res) => {
      sse(res);
      res.end(chunk('ok'));
    });
    const out: GenerateContentResponse[] = [];
    for await (const c of client({ baseUrls: [a.url, b.url] }).streamGenerateContent(opts)) out.push(c);
    expect(texts(out)).toEqual(['ok']);
  });

  it('aborts the request when the consumer stops early', async () => {
    let closed: Promise<unknown> | undefined;
    let writes = 0;
    a.handle(M('streamGenerateContent'), (_r, res) => {
      closed = once(res, 'close');
      sse(res);
      const timer = setInterval(() => res.write(chunk(`c${writes++}`)), 5);
      res.on('close', () => clearInterval(timer));
    });
    const out: GenerateContentResponse[] = [];
    for await (const c of client().streamGenerateContent(opts)) {
      out.push(c);
      if (out.length === 2) break;
    }
    expect(texts(out)).toEqual(['c0', 'c1']);
    await closed; // the server sees the connection go
    const after = writes;
    await tick(50);
    expect(writes).toBe(after);
  });

  it('does not read the socket faster than the consumer iterates (backpressure)', async () => {
    const total = 4_000;
    let written = 0;
    let finished = false;
    const big = 'x'.repeat(4_000);
    a.handle(M('streamGenerateContent'), (_r, res) => {
      sse(res);
      const pump = (): void => {
        while (written < total) {
          written++;
          if (!res.write(chunk(big))) {
            res.once('drain', pump);
            return;
          }
        }
        finished = true;
        res.end();
      };
      pump();
    });
    const iterator = client().streamGenerateContent(opts)[Symbol.asyncIterator]();
    const first = await iterator.next();
    expect(first.done).toBe(false);
    // Give the server every chance to push all 16 MB if nothing held it back.
    for (let i = 0; i < 20; i++) await tick(10);
    expect(finished).toBe(false);
    expect(written).toBeLessThan(total);
    await iterator.return?.();
  });

  it("the caller's AbortSignal ends a stream mid-way as 'aborted'", async () => {
    let closed: Promise<unknown> | undefined;
    a.handle(M('streamGenerateContent'), (_r, res) => {
      closed = once(res, 'close');
      sse(res);
      res.write(chunk('first'));
    });
    const controller = new AbortController();
    const out: GenerateContentResponse[] = [];
    const e = await caught(
      (async () => {
        for await (const c of client().streamGenerateContent({ ...opts, signal: controller.signal })) {
          out.push(c);
          controller.abort();
        }
      })(),
    );
    expect(texts(out)).toEqual(['first']);
    expect(e.kind).toBe('aborted');
    await closed;
  });

  it('an error event mid-stream becomes a typed error', async () => {
    a.handle(M('streamGenerateContent'), (_r, res) => {
      sse(res);
      res.write(chunk('partial'));
      res.end(`data: ${JSON.stringify(fixture('error-429-quota-exhausted.json'))}\n\n`);
    });
    const out: GenerateContentResponse[] = [];
    const e = await caught(
      (async () => {
        for await (const c of client().streamGenerateContent(opts)) out.push(c);
      })(),
    );
    expect(out).toHaveLength(1);
    expect(e.kind).toBe('quota-exhausted');
    expect(e.retryAfterMs).toBe(539_420_180);
  });

  it('a 2xx stream with no event at all is an error, classified when it is a JSON error body', async () => {
    a.handle(M('streamGenerateContent'), (_r, res) => json(res, 200, fixture('error-429-rate-limit.json')));
    b.handle(M('streamGenerateContent'), (_r, res) => {
      sse(res);
      res.end(': only a comment\n\n');
    });
    const drain = async (c: CloudCodeClient) => {
      for await (const _c of c.streamGenerateContent(opts)) void _c;
    };
    const disguised = await caught(drain(client()));
    expect(disguised.kind).toBe('rate-limited');
    expect(disguised.retryAfterMs).toBe(1_500);
    const empty = await caught(drain(client({ baseUrls: [b.url] })));
    expect(empty.kind).toBe('invalid-response');
    expect(empty.message).toMatch(/without any server-sent event/);
  });

  it('a malformed data line is invalid-response; a 429 before the stream is classified', async () => {
    a.handle(M('streamGenerateContent'), (_r, res) => {
      sse(res);
      res.end('data: {not json\n\n');
    });
    const drain = async (c: CloudCodeClient) => {
      for await (const _c of c.streamGenerateContent(opts)) void _c;
    };
    expect((await caught(drain(client()))).kind).toBe('invalid-response');
    b.handle(M('streamGenerateContent'), (_r, res) => json(res, 429, fixture('error-429-capacity.json')));
    expect((await caught(drain(client({ baseUrls: [b.url] })))).kind).toBe('capacity');
  });
});

describe('CloudCodeQuotaProvider over a scripted server', () => {
  const acct = {
    id: 'acc',
    email: 'a@example.com',
    label: 'a',
    tier: 'UNKNOWN' as const,
    status: { kind: 'active' as const },
    projectId: 'p1',
  };

  it('reports the per-model readings when only the summary fails, and the buckets when only models fail', async () => {
    a.handle(M('fetchAvailableModels'), (_r, res) => json(res, 200, fixture('fetch-available-models.json')));
    a.handle(M('retrieveUserQuotaSummary'), (_r, res) => json(res, 500, { error: { code: 500 } }));
    const warnings: string[] = [];
    const catalogs: string[][] = [];
    const provider = new CloudCodeQuotaProvider(client(), {
      logger: { debug: () => undefined, warn: (m) => warnings.push(m) },
      onCatalog: (_id, models) => catalogs.push(models.map((m) => m.id)),
    });
    const onlyModels = await provider.fetchQuotas(acct);
    expect(onlyModels.buckets).toEqual([]);
    expect(new Set(onlyModels.models.map((m) => m.source))).toEqual(new Set(['models']));
    expect(warnings.join('\n')).toMatch(/retrieveUserQuotaSummary failed/);
    expect(catalogs[0]).toContain('claude-sonnet-4-6');

    a.handle(M('fetchAvailableModels'), (_r, res) => json(res, 429, fixture('error-429-bare.json')));
    a.handle(M('retrieveUserQuotaSummary'), (_r, res) => json(res, 200, fixture('quota-summary.json')));
    const onlyBuckets = await provider.fetchQuotas(acct);
    expect(onlyBuckets.buckets).toHaveLength(4);
    expect(onlyBuckets.models.every((m) => m.source !== 'models')).toBe(true);

    a.handle(M('retrieveUserQuotaSummary'), (_r, res) =>
      json(res, 403, fixture('error-403-validation.json')),
    );
    const both = await caught(provider.fetchQuotas(acct));
    expect(both.kind).toBe('rate-limited');
  });
});

describe('first-byte deadline of streamed generations', () => {
  const gen = {
    accountId: 'acc',
    model: 'gemini-3-flash',
    project: 'p',
    request: { contents: [{ role: 'user', parts: [{ text: 'hi' }] }] },
  };

  it('fails a stream whose headers came but whose first event does not, on the virtual clock', async () => {
    const clock = new VirtualClock(Date.UTC(2026, 0, 1));
    let opened = false;
    a.handle(M('streamGenerateContent'), (_r, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.flushHeaders();
      opened = true; // …and nothing more.
    });
    const c = client({ clock, timeouts: { firstByteMs: 20_000 } });
    const first = c.streamGenerateContent(gen)[Symbol.asyncIterator]().next();
    const settled = caught(first);
    for (let i = 0; i < 200 && !opened; i++) await tick(5);
    await tick(20);
    await clock.advanceAsync(19_000);
    let done = false;
    void settled.then(() => (done = true));
    await tick(20);
    expect(done).toBe(false);
    await clock.advanceAsync(1_000);
    const e = await settled;
    expect(e.kind).toBe('transient');
    expect(e.message).toMatch(/no answer within 20 s \(the upstream stalled\)/);
    expect(e.retryAfterMs).toBeGreaterThan(0);
  });

  it('fails at once, without the next base URL, when the headers do not come in time', async () => {
    let calls = 0;
    const hold: ServerResponse[] = [];
    for (const s of [a, b])
      s.handle(M('streamGenerateContent'), (_r, res) => {
        calls++;
        hold.push(res); // never answered
      });
    const c = client({ baseUrls: [a.url, b.url], timeouts: { firstByteMs: 300 } });
    const e = await caught(c.streamGenerateContent(gen)[Symbol.asyncIterator]().next());
    expect(e.message).toMatch(/the upstream stalled/);
    expect(calls).toBe(1);
    for (const res of hold) res.destroy();
  });
});
