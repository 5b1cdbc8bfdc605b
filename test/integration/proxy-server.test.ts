import { request as httpRequest, type IncomingMessage } from 'node:http';
import { connect, createServer, type Socket } from 'node:net';
import Anthropic from '@anthropic-ai/sdk';
import { GoogleGenAI } from '@google/genai';
import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import {
  BackendError,
  NoAccountAvailableError,
  type BackendCall,
  type GeminiResponse,
  type ProxyBackend,
} from '../../src/proxy/backend';
import { redact, redactHeaders } from '../../src/proxy/redact';
import { ProxyServer } from '../../src/proxy/server';
import { createCodecs } from '../../src/proxy/translate/codecs';

const KEY = 'qp-test-key-0123456789abcdef';

function chunk(text: string, finish?: string): GeminiResponse {
  return {
    candidates: [
      { content: { role: 'model', parts: [{ text }] }, ...(finish ? { finishReason: finish } : {}) },
    ],
    usageMetadata: { promptTokenCount: 3, candidatesTokenCount: 2, totalTokenCount: 5 },
  };
}

type Script = (call: BackendCall) => AsyncIterable<GeminiResponse>;

class FakeBackend implements ProxyBackend {
  calls: BackendCall[] = [];
  script: Script = async function* () {
    yield chunk('hello', 'STOP');
  };
  generateError: Error | undefined;
  pulled = 0;
  async generate(call: BackendCall): Promise<{ response: GeminiResponse }> {
    this.calls.push(call);
    call.reporter.attempt({ accountId: 'a1', accountLabel: 'work' });
    if (this.generateError) throw this.generateError;
    return { response: chunk('hello', 'STOP') };
  }
  async stream(call: BackendCall): Promise<AsyncIterable<GeminiResponse>> {
    this.calls.push(call);
    if (this.generateError) throw this.generateError;
    const inner = this.script(call);
    const count = (): void => {
      this.pulled += 1;
    };
    return (async function* () {
      for await (const c of inner) {
        count();
        yield c;
      }
    })();
  }
  async countTokens(): Promise<{ totalTokens: number }> {
    return { totalTokens: 42 };
  }
  async listModels() {
    return [{ id: 'gemini-3-flash', displayName: 'Gemini 3 Flash', provider: 'google' as const }];
  }
  quotaGauges() {
    return [{ accountLabel: 'work', model: 'gemini-3-flash', remainingFraction: 0.5 }];
  }
  admin = {
    status: async () => ({ accounts: [] }),
    usage: async () => ({ total: 0 }),
    createReservation: async () => ({ id: 'r1' }),
    releaseReservation: async (id: string) => id === 'r1',
    refreshNow: async () => ({ refreshed: 1 }),
    resetCooldowns: async () => ({ cleared: 2 }),
  };
}

let server: ProxyServer | undefined;
const lines: string[] = [];

async function start(
  backend: FakeBackend,
  extra: {
    maxBodyBytes?: number;
    requestTimeoutMs?: number;
    bodyTimeoutMs?: number;
    maxConnections?: number;
  } = {},
) {
  server = await ProxyServer.start({
    backend,
    key: KEY,
    port: 0,
    codecs: createCodecs({ now: () => Date.now() }),
    logger: { info: (l) => lines.push(l), warn: (l) => lines.push(l), error: (l) => lines.push(l) },
    sseKeepAliveMs: 0,
    ...extra,
  });
  return server;
}

afterEach(async () => {
  await server?.stop();
  server = undefined;
});

interface Res {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function call(
  path: string,
  opts: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Res> {
  const port = (server as ProxyServer).port;
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: '127.0.0.1', port, path, method: opts.method ?? 'GET', headers: opts.headers },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

const AUTH = { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' };
const OPENAI_BODY = JSON.stringify({ model: 'gemini-3-flash', messages: [{ role: 'user', content: 'hi' }] });
const ANTHROPIC_BODY = JSON.stringify({
  model: 'gemini-3-flash',
  max_tokens: 10,
  messages: [{ role: 'user', content: 'hi' }],
});
const GEMINI_BODY = JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'hi' }] }] });
const ROUTES = {
  openai: ['/v1/chat/completions', OPENAI_BODY],
  anthropic: ['/v1/messages', ANTHROPIC_BODY],
  gemini: ['/v1beta/models/gemini-3-flash:generateContent', GEMINI_BODY],
} as const;

function errorShape(format: string, body: string): string {
  const j = JSON.parse(body) as Record<string, { message?: string; type?: string; status?: string }>;
  if (format === 'anthropic') {
    expect(j.type).toBe('error');
    return `${j.error?.type}`;
  }
  if (format === 'openai') return `${j.error?.type}`;
  return `${j.error?.status}`;
}

describe('proxy server', () => {
  it('serves /healthz without a key and leaks no secret', async () => {
    await start(new FakeBackend());
    const r = await call('/healthz');
    expect(r.status).toBe(200);
    const j = JSON.parse(r.body) as { ok: boolean; pid: number };
    expect(j.ok).toBe(true);
    expect(j.pid).toBe(process.pid);
    expect(r.body).not.toContain(KEY);
  });

  it('answers HEAD / and GET / without a key, naming the service and nothing else', async () => {
    await start(new FakeBackend());
    const head = await call('/', { method: 'HEAD' });
    expect([head.status, head.body]).toEqual([200, '']);
    const get = await call('/');
    expect(get.status).toBe(200);
    expect(JSON.parse(get.body)).toEqual({ ok: true, service: 'Quota Pilot proxy' });
    // Other paths still need the key.
    expect((await call('/x')).status).toBe(401);
  });

  it('answers GET /v1/models in the format of the client that asks', async () => {
    await start(new FakeBackend());
    const bearer = { authorization: `Bearer ${KEY}` };
    const openai = JSON.parse((await call('/v1/models', { headers: bearer })).body) as { object: string };
    expect(openai.object).toBe('list');
    const anthropic = JSON.parse(
      (await call('/v1/models', { headers: { 'x-api-key': KEY, 'anthropic-version': '2023-06-01' } })).body,
    ) as { has_more: boolean };
    expect(anthropic.has_more).toBe(false);
    const geminiHeaders: Array<Record<string, string>> = [
      { 'x-goog-api-key': KEY },
      { 'x-goog-api-client': 'genai-js/3', ...bearer },
    ];
    for (const headers of geminiHeaders) {
      const gemini = JSON.parse((await call('/v1/models', { headers })).body) as {
        models: Array<{ name: string }>;
      };
      expect(gemini.models.map((m) => m.name)).toContain('models/gemini-3-flash');
      const one = JSON.parse((await call('/v1/models/gemini-3-flash', { headers })).body) as { name: string };
      expect(one.name).toBe('models/gemini-3-flash');
    }
    const viaQuery = await call(`/v1/models?key=${KEY}`);
    expect(JSON.parse(viaQuery.body)).toHaveProperty('models');
    // A Gemini client without the key gets its own error shape, on /v1 as on /v1beta.
    const refused = await call('/v1/models/gemini-3-flash:generateContent', {
      method: 'POST',
      headers: { 'x-goog-api-key': 'wrong-key-0123456789' },
      body: GEMINI_BODY,
    });
    expect(refused.status).toBe(401);
    expect(errorShape('gemini', refused.body)).toBe('UNAUTHENTICATED');
  });

  for (const [format, [path, body]] of Object.entries(ROUTES)) {
    it(`refuses in the ${format} format: missing/wrong key, foreign Host, foreign Origin, oversized body`, async () => {
      await start(new FakeBackend(), { maxBodyBytes: 1024 });
      const ct = { 'content-type': 'application/json' };
      const missing = await call(path, { method: 'POST', headers: ct, body });
      expect(missing.status).toBe(401);
      expect(errorShape(format, missing.body)).toMatch(/auth|UNAUTHENTICATED/);
      const wrong = await call(path, {
        method: 'POST',
        headers: { ...ct, 'x-api-key': 'x'.repeat(30) },
        body,
      });
      expect(wrong.status).toBe(401);
      const host = await call(path, { method: 'POST', headers: { ...AUTH, host: 'evil.example:80' }, body });
      expect(host.status).toBe(403);
      expect(host.body).toMatch(/loopback/);
      const origin = await call(path, {
        method: 'POST',
        headers: { ...AUTH, origin: 'https://evil.example' },
        body,
      });
      expect(origin.status).toBe(403);
      const big = await call(path, { method: 'POST', headers: AUTH, body: 'x'.repeat(5000) });
      expect(big.status).toBe(413);
      expect(errorShape(format, big.body)).toMatch(/invalid_request|request_too_large|INVALID_ARGUMENT/);
      const ok = await call(path, { method: 'POST', headers: AUTH, body });
      expect(ok.status).toBe(200);
    });
  }

  it('accepts ?key= and x-goog-api-key on Gemini routes and a loopback Origin with CORS', async () => {
    await start(new FakeBackend());
    const r = await call(`/v1beta/models/gemini-3-flash:generateContent?key=${KEY}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: 'http://localhost:5173' },
      body: GEMINI_BODY,
    });
    expect(r.status).toBe(200);
    expect(r.headers['access-control-allow-origin']).toBe('http://localhost:5173');
    const pre = await call('/v1/chat/completions', {
      method: 'OPTIONS',
      headers: { origin: 'vscode-webview://abc123', 'access-control-request-method': 'POST' },
    });
    expect(pre.status).toBe(204);
    expect(lines.join('\n')).not.toContain(KEY);
  });

  it('answers NoAccountAvailableError with 429 and Retry-After in the client format', async () => {
    const b = new FakeBackend();
    b.generateError = new NoAccountAvailableError('gemini-3-flash', 1_000_000 + 90_000, 1_000_000);
    await start(b);
    for (const [format, [path, body]] of Object.entries(ROUTES)) {
      const r = await call(path, { method: 'POST', headers: AUTH, body });
      expect(r.status).toBe(429);
      expect(r.headers['retry-after']).toBe('90');
      expect(errorShape(format, r.body)).toMatch(/rate_limit|RESOURCE_EXHAUSTED/);
    }
  });

  it('streams chunk by chunk: the client sees the first event before the backend finishes', async () => {
    const b = new FakeBackend();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    b.script = async function* () {
      yield chunk('first');
      await gate;
      yield chunk(' second', 'STOP');
    };
    await start(b);
    const port = (server as ProxyServer).port;
    const text = await new Promise<string>((resolve, reject) => {
      const req = httpRequest(
        { host: '127.0.0.1', port, path: '/v1/chat/completions', method: 'POST', headers: AUTH },
        (res) => {
          let all = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => {
            all += d;
            if (all.includes('first')) release();
          });
          res.on('end', () => resolve(all));
        },
      );
      req.on('error', reject);
      req.end(JSON.stringify({ ...JSON.parse(OPENAI_BODY), stream: true }));
    });
    expect(text).toContain('first');
    expect(text).toContain('second');
    expect(text.trim().endsWith('data: [DONE]')).toBe(true);
  });

  it('ends a stream with an error event in the client format when the upstream fails mid-stream', async () => {
    const b = new FakeBackend();
    b.script = async function* () {
      yield chunk('partial');
      throw new BackendError('upstream', 'upstream broke; retry');
    };
    await start(b);
    const r = await call('/v1/messages', {
      method: 'POST',
      headers: AUTH,
      body: JSON.stringify({ ...JSON.parse(ANTHROPIC_BODY), stream: true }),
    });
    expect(r.status).toBe(200);
    expect(r.body).toContain('partial');
    expect(r.body).toMatch(/event: error\ndata: .*upstream broke/);
  });

  it('aborts the backend call when the client disconnects', async () => {
    const b = new FakeBackend();
    let seen: AbortSignal | undefined;
    b.script = async function* (c) {
      seen = c.signal;
      yield chunk('one');
      await new Promise<void>((resolve) =>
        c.signal.addEventListener('abort', () => resolve(), { once: true }),
      );
    };
    await start(b);
    const port = (server as ProxyServer).port;
    await new Promise<void>((resolve) => {
      const req = httpRequest(
        { host: '127.0.0.1', port, path: '/v1/chat/completions', method: 'POST', headers: AUTH },
        (res) => {
          res.once('data', () => {
            req.destroy();
            resolve();
          });
        },
      );
      req.on('error', () => {});
      req.end(JSON.stringify({ ...JSON.parse(OPENAI_BODY), stream: true }));
    });
    await expect.poll(() => seen?.aborted).toBe(true);
  });

  it('pauses the backend iterator while a slow client does not read (backpressure)', async () => {
    const b = new FakeBackend();
    const big = 'y'.repeat(64 * 1024);
    b.script = async function* () {
      for (let i = 0; i < 400; i++) yield chunk(big);
    };
    await start(b);
    const port = (server as ProxyServer).port;
    const req = httpRequest({
      host: '127.0.0.1',
      port,
      path: '/v1/chat/completions',
      method: 'POST',
      headers: AUTH,
    });
    const res = await new Promise<IncomingMessage>((resolve) => {
      req.on('response', resolve);
      req.end(JSON.stringify({ ...JSON.parse(OPENAI_BODY), stream: true }));
    });
    res.pause();
    await new Promise((r) => setTimeout(r, 300));
    const pulledWhilePaused = b.pulled;
    // 400 chunks of 64 KiB = 25 MiB; socket buffers hold only a small part of it.
    expect(pulledWhilePaused).toBeLessThan(200);
    await new Promise((r) => setTimeout(r, 200));
    expect(b.pulled).toBe(pulledWhilePaused);
    req.destroy();
  });

  it('serves the admin API and metrics', async () => {
    await start(new FakeBackend());
    const created = await call('/quota-pilot/v1/reservations', {
      method: 'POST',
      headers: AUTH,
      body: JSON.stringify({ model: 'gemini-3-flash', tokens: 1000 }),
    });
    expect(created.status).toBe(201);
    const bad = await call('/quota-pilot/v1/reservations', {
      method: 'POST',
      headers: AUTH,
      body: JSON.stringify({ model: 'gemini-3-flash', tokens: -1 }),
    });
    expect(bad.status).toBe(400);
    expect((await call('/quota-pilot/v1/reservations/r1', { method: 'DELETE', headers: AUTH })).status).toBe(
      200,
    );
    expect(
      (await call('/quota-pilot/v1/reservations/nope', { method: 'DELETE', headers: AUTH })).status,
    ).toBe(404);
    const reset = await call('/quota-pilot/v1/cooldowns/reset', { method: 'POST', headers: AUTH });
    expect(JSON.parse(reset.body)).toEqual({ cleared: 2 });
    expect((await call('/quota-pilot/v1/status', { headers: AUTH })).status).toBe(200);
    expect((await call('/metrics')).status).toBe(401);
    const m = await call('/metrics', { headers: AUTH });
    expect(m.status).toBe(200);
    for (const line of m.body.trim().split('\n')) {
      expect(line).toMatch(/^(# (HELP|TYPE) \w+ .+|\w+(\{[^}]*\})? [-+\d.eInfa]+)$/);
    }
    expect(m.body).toContain('quota_pilot_requests_total{route="admin.reservations.create",status="201"} 1');
    expect(m.body).toContain('quota_pilot_quota_remaining_ratio{account="work",model="gemini-3-flash"} 0.5');
  });

  it('answers past the deadline with 504', async () => {
    const b = new FakeBackend();
    b.generate = (c) =>
      new Promise((_resolve, reject) => c.signal.addEventListener('abort', () => reject(c.signal.reason)));
    await start(b, { requestTimeoutMs: 100 });
    const r = await call('/v1/chat/completions', { method: 'POST', headers: AUTH, body: OPENAI_BODY });
    expect(r.status).toBe(504);
    expect(r.body).toMatch(/deadline/);
  });

  it('refuses a non-loopback bind address and reports a taken port clearly', async () => {
    await expect(
      ProxyServer.start({ backend: new FakeBackend(), key: KEY, host: '0.0.0.0', codecs: {} }),
    ).rejects.toThrow(/only listens on 127.0.0.1/);
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const port = (blocker.address() as { port: number }).port;
    await expect(
      ProxyServer.start({ backend: new FakeBackend(), key: KEY, port, codecs: {} }),
    ).rejects.toThrow(`port ${port} is taken; set quotaPilot.proxy.port or stop the other process`);
    blocker.close();
  });
});

describe('redact', () => {
  it('masks keys, bearer tokens, Google tokens and ?key=', () => {
    const text = `Bearer abc.def key=${KEY} ya29.a0AfH6SMB x 1//0gAbcdefghijklmno sk-abcdefghijklmnopqrs`;
    const out = redact(`/v1beta/x?key=${KEY}&a=1 ${text}`, [KEY]);
    for (const secret of [KEY, 'abc.def', 'ya29.', '1//0g', 'sk-abc']) expect(out).not.toContain(secret);
    expect(redactHeaders({ authorization: 'Bearer x', 'x-api-key': KEY, accept: 'text/plain' })).toEqual({
      authorization: '[redacted]',
      'x-api-key': '[redacted]',
      accept: 'text/plain',
    });
  });
});

describe('official SDKs against the server and a scripted backend', () => {
  it('raise their own rate-limit / API errors with our message', async () => {
    const b = new FakeBackend();
    await start(b);
    const url = (server as ProxyServer).url;
    b.generateError = new NoAccountAvailableError('gemini-3-flash', 1_000_000 + 5_000, 1_000_000);
    const openai = new OpenAI({ baseURL: `${url}/v1`, apiKey: KEY, maxRetries: 0 });
    await expect(
      openai.chat.completions.create({
        model: 'gemini-3-flash',
        messages: [{ role: 'user', content: 'hi' }],
      }),
    ).rejects.toBeInstanceOf(OpenAI.RateLimitError);
    const anthropic = new Anthropic({ baseURL: url, apiKey: KEY, maxRetries: 0 });
    await expect(
      anthropic.messages.create({
        model: 'gemini-3-flash',
        max_tokens: 5,
        messages: [{ role: 'user', content: 'hi' }],
      }),
    ).rejects.toBeInstanceOf(Anthropic.RateLimitError);
    b.generateError = undefined;
    b.script = async function* () {
      yield chunk('partial');
      throw new BackendError('upstream', 'upstream broke mid-stream; retry');
    };
    const stream = await openai.chat.completions.create({
      model: 'gemini-3-flash',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
    });
    let text = '';
    await expect(
      (async () => {
        for await (const c of stream) text += c.choices[0]?.delta.content ?? '';
      })(),
    ).rejects.toThrow(/upstream broke mid-stream/);
    expect(text).toBe('partial');
    const ai = new GoogleGenAI({ apiKey: KEY, httpOptions: { baseUrl: url, apiVersion: 'v1beta' } });
    const r = await ai.models.generateContent({ model: 'gemini-3-flash', contents: 'hi' });
    expect(r.text).toBe('hello');
  });
});

/** A raw socket to the server: writes `text`, resolves with everything read until the server closes. */
function rawExchange(
  text: string,
  opts: { holdOpenMs?: number } = {},
): Promise<{ reply: string; ms: number }> {
  const port = (server as ProxyServer).port;
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = connect(port, '127.0.0.1');
    let reply = '';
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => (reply += d));
    socket.on('error', reject);
    socket.on('close', () => resolve({ reply, ms: Date.now() - started }));
    socket.write(text);
    // Bounded: give up after holdOpenMs (default 5 s) with whatever arrived.
    setTimeout(() => socket.destroy(), opts.holdOpenMs ?? 5_000).unref();
  });
}

function statusOf(reply: string): number {
  return Number(/^HTTP\/1\.1 (\d{3})/.exec(reply)?.[1] ?? 0);
}

describe('request framing over raw sockets', () => {
  const head = (extra: string, body: string): string =>
    `POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:${(server as ProxyServer).port}\r\n` +
    `Authorization: Bearer ${KEY}\r\nConnection: close\r\n${extra}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;

  it('refuses a second Host header with 400', async () => {
    await start(new FakeBackend());
    const { reply } = await rawExchange(
      head('Host: evil.example\r\nContent-Type: application/json\r\n', OPENAI_BODY),
    );
    expect(statusOf(reply)).toBe(400);
    expect(reply).toMatch(/2 Host headers; send exactly one/);
  });

  it('checks Content-Type and refuses compressed bodies with 415; JSON with parameters passes', async () => {
    const b = new FakeBackend();
    await start(b);
    const form = await rawExchange(head('Content-Type: application/x-www-form-urlencoded\r\n', OPENAI_BODY));
    expect(statusOf(form.reply)).toBe(415);
    expect(form.reply).toMatch(/Content-Type: application\/json/);
    const br = await rawExchange(
      head('Content-Type: application/json\r\nContent-Encoding: br\r\n', OPENAI_BODY),
    );
    expect(statusOf(br.reply)).toBe(415);
    expect(br.reply).toMatch(/uncompressed/);
    expect(b.calls).toHaveLength(0);
    const ok = await rawExchange(head('Content-Type: application/json; charset=utf-8\r\n', OPENAI_BODY));
    expect(statusOf(ok.reply)).toBe(200);
    const none = await rawExchange(head('', OPENAI_BODY));
    expect(statusOf(none.reply)).toBe(200);
  });

  it('answers 408 when the body stalls, long before the request deadline', async () => {
    await start(new FakeBackend(), { bodyTimeoutMs: 300, requestTimeoutMs: 60_000 });
    const port = (server as ProxyServer).port;
    const partial =
      `POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: Bearer ${KEY}\r\n` +
      `Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"model":`;
    const { reply, ms } = await rawExchange(partial);
    expect(statusOf(reply)).toBe(408);
    expect(reply).toMatch(/did not arrive within/);
    expect(ms).toBeLessThan(4_000);
  });

  it('caps open connections and answers the one over the cap with 503', async () => {
    await start(new FakeBackend(), { maxConnections: 2 });
    const port = (server as ProxyServer).port;
    const idle: Socket[] = [];
    try {
      for (let i = 0; i < 2; i++) {
        const s = connect(port, '127.0.0.1');
        await new Promise((r) => s.once('connect', r));
        idle.push(s);
      }
      await new Promise((r) => setTimeout(r, 50));
      const { reply } = await rawExchange(`GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`);
      expect(statusOf(reply)).toBe(503);
      expect(reply).toMatch(/2 connections open, its limit/);
    } finally {
      for (const s of idle) s.destroy();
    }
    await new Promise((r) => setTimeout(r, 50));
    expect((await call('/healthz')).status).toBe(200);
  });
});
