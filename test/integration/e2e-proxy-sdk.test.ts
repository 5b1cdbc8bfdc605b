/**
 * The whole product path over real sockets: official SDKs → Quota Pilot's proxy (guards,
 * translation, pool, failover) → Cloud Code client → the simulator.
 */
import Anthropic from '@anthropic-ai/sdk';
import { GoogleGenAI } from '@google/genai';
import OpenAI from 'openai';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { addSimulatorAccounts, simulatorOAuth } from '../../src/host/demo';
import { EngineHost } from '../../src/host/engineHost';
import type { RunningSimulator } from '../../src/simulator';
import type { ScenarioInput } from '../../src/simulator/scenario';
import { startSimulator } from '../../src/simulator';
import { MemoryTokenStore } from '../../src/upstream/cloudcode/oauth';

const KEY = 'qp-test-key-0123456789abcdef';

const scenario: ScenarioInput = {
  name: 'sdk-test',
  seed: 7,
  latency: { firstByteMs: 5, chunkGapMs: 2, chunks: 4 },
  accounts: [
    {
      id: 'a',
      email: 'a@example.com',
      tier: 'ULTRA',
      refreshToken: 'rt-a-000000000001',
      project: 'proj-a',
      remaining: { claude: 0.9, 'gemini-flash': 0.9 },
    },
    {
      id: 'b',
      email: 'b@example.com',
      tier: 'PRO',
      refreshToken: 'rt-b-000000000002',
      project: 'proj-b',
      remaining: { claude: 0.6, 'gemini-flash': 0.6 },
    },
    {
      id: 'c',
      email: 'c@example.com',
      tier: 'FREE',
      refreshToken: 'rt-c-000000000003',
      project: 'proj-c',
      remaining: { claude: 0.5, 'gemini-flash': 0.5 },
    },
  ],
};

let sim: RunningSimulator;
let host: EngineHost;
let url: string;

beforeEach(async () => {
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

afterEach(async () => {
  await host.dispose();
  await sim.close();
});

const weather = {
  name: 'get_weather',
  description: 'Weather for a city',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
};

function accountOf(id: string): string {
  return host.registry.get(id)?.email ?? id;
}

describe('official SDKs through the proxy', () => {
  it('OpenAI: chat, streaming and tools', async () => {
    const openai = new OpenAI({ baseURL: `${url}/v1`, apiKey: KEY, maxRetries: 0 });
    const r = await openai.chat.completions.create({
      model: 'claude-sonnet-4-5',
      messages: [{ role: 'user', content: 'Hello there' }],
    });
    expect(r.choices[0]?.message.content).toContain('Hello there');
    expect(r.usage?.total_tokens).toBeGreaterThan(0);

    const stream = await openai.chat.completions.create({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'Stream this' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let chunks = 0;
    for await (const c of stream) {
      chunks++;
      text += c.choices[0]?.delta.content ?? '';
    }
    expect(chunks).toBeGreaterThan(2);
    expect(text).toContain('Stream this');

    const tools = await openai.chat.completions.create({
      model: 'claude-sonnet-4-5',
      messages: [{ role: 'user', content: 'Weather in Paris?' }],
      tools: [{ type: 'function', function: weather }],
    });
    const call = tools.choices[0]?.message.tool_calls?.[0];
    expect(tools.choices[0]?.finish_reason).toBe('tool_calls');
    expect(call?.type === 'function' ? call.function.name : '').toBe('get_weather');
  });

  it('Anthropic: streaming messages with tools', async () => {
    const anthropic = new Anthropic({ baseURL: url, apiKey: KEY, maxRetries: 0 });
    const stream = anthropic.messages.stream({
      model: 'claude-sonnet-4-5',
      max_tokens: 512,
      messages: [{ role: 'user', content: 'Weather in Oslo?' }],
      tools: [
        {
          name: weather.name,
          description: weather.description,
          input_schema: weather.parameters as Anthropic.Tool.InputSchema,
        },
      ],
    });
    const msg = await stream.finalMessage();
    expect(msg.stop_reason).toBe('tool_use');
    const use = msg.content.find((b) => b.type === 'tool_use');
    expect(use?.type === 'tool_use' ? use.name : '').toBe('get_weather');
    const plain = await anthropic.messages.create({
      model: 'claude-opus-4-1',
      max_tokens: 256,
      messages: [{ role: 'user', content: 'Plain question' }],
    });
    expect(plain.content.some((b) => b.type === 'text' && b.text.includes('Plain question'))).toBe(true);
  });

  it('Gemini: generateContent and streaming', async () => {
    const ai = new GoogleGenAI({ apiKey: KEY, httpOptions: { baseUrl: url, apiVersion: 'v1beta' } });
    const r = await ai.models.generateContent({ model: 'gemini-3-flash', contents: 'Hi Gemini' });
    expect(r.text).toContain('Hi Gemini');
    let text = '';
    for await (const c of await ai.models.generateContentStream({
      model: 'gemini-3-flash',
      contents: 'Stream Gemini',
    })) {
      text += c.text ?? '';
    }
    expect(text).toContain('Stream Gemini');
  });

  it('Gemini on the SDK default API version (/v1 in @google/genai 3.x): generate, stream, countTokens, models', async () => {
    const ai = new GoogleGenAI({ apiKey: KEY, httpOptions: { baseUrl: url } });
    const r = await ai.models.generateContent({ model: 'gemini-3-flash', contents: 'Hi v1' });
    expect(r.text).toContain('Hi v1');
    let text = '';
    for await (const c of await ai.models.generateContentStream({
      model: 'gemini-3-flash',
      contents: 'Stream v1',
    })) {
      text += c.text ?? '';
    }
    expect(text).toContain('Stream v1');
    const counted = await ai.models.countTokens({ model: 'gemini-3-flash', contents: 'count me' });
    expect(counted.totalTokens).toBeGreaterThan(0);
    // GET /v1/models is shared with OpenAI's list: the Gemini SDK gets Gemini's shape.
    const names: string[] = [];
    for await (const m of await ai.models.list()) names.push(m.name ?? '');
    expect(names).toContain('models/gemini-3-flash');
    expect((await ai.models.get({ model: 'gemini-3-flash' })).name).toBe('models/gemini-3-flash');
    const openai = new OpenAI({ baseURL: `${url}/v1`, apiKey: KEY, maxRetries: 0 });
    expect((await openai.models.list()).data.map((m) => m.id)).toContain('gemini-3-flash');
  });
});

describe('routing and failover', () => {
  it('moves a session off an account exhausted mid-session; the client sees no error', async () => {
    const openai = new OpenAI({ baseURL: `${url}/v1`, apiKey: KEY, maxRetries: 0 });
    const ask = () =>
      openai.chat.completions.create({
        model: 'claude-sonnet-4-5',
        user: 'session-1',
        messages: [{ role: 'user', content: 'Keep going' }],
      });
    await ask();
    const first = host.pool.current()?.accountId as string;
    await ask();
    expect(host.pool.current()?.accountId).toBe(first);
    // The upstream runs out on that account without the engine knowing yet.
    sim.control.drain({ account: accountOf(first), pool: 'claude', toFraction: 0 });
    const r = await ask();
    expect(r.choices[0]?.message.content).toContain('Keep going');
    const second = host.pool.current()?.accountId;
    expect(second).not.toBe(first);
    expect(host.proxyStatus()).toMatchObject({ failovers: 1, avoided429: 1 });
    // The session stays on its new account.
    await ask();
    expect(host.pool.current()?.accountId).toBe(second);
  });

  it('answers at once in the client format, saying when, when every account is exhausted until a far reset', async () => {
    for (const a of sim.accounts) sim.control.drain({ account: a.email, pool: 'claude', toFraction: 0 });
    const res = await fetch(`${url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': KEY, 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({
        model: 'claude-sonnet-4-5',
        max_tokens: 50,
        messages: [{ role: 'user', content: 'x' }],
      }),
    });
    // The reset is hours away: a status no client retries, no Retry-After (see proxy/quotaAnswer.ts).
    expect(res.status).toBe(402);
    expect(res.headers.get('retry-after')).toBeNull();
    expect(res.headers.get('x-should-retry')).toBe('false');
    const body = (await res.json()) as { type: string; error: { type: string; message: string } };
    expect(body).toMatchObject({ type: 'error', error: { type: 'billing_error' } });
    expect(body.error.message).toMatch(/No account.*Quota returns at .* UTC \(in /);
  });

  it('refreshes an expired token exactly once under concurrent requests', async () => {
    const openai = new OpenAI({ baseURL: `${url}/v1`, apiKey: KEY, maxRetries: 0 });
    host.pool.pin('a@example.com');
    const before = sim.control.stats().tokenRefreshes['a'] ?? 0;
    sim.control.expireTokens('a');
    await Promise.all(
      Array.from({ length: 8 }, () =>
        openai.chat.completions.create({
          model: 'gemini-3-flash',
          messages: [{ role: 'user', content: 'hi' }],
        }),
      ),
    );
    expect((sim.control.stats().tokenRefreshes['a'] ?? 0) - before).toBe(1);
  });

  it('ends a stream reset midway with an error event in the client format', async () => {
    host.pool.pin('a@example.com');
    sim.control.addFault({ kind: 'connection-reset', account: 'a', once: true });
    const res = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'gemini-3-flash',
        stream: true,
        messages: [{ role: 'user', content: 'long answer' }],
      }),
    });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toMatch(/"error"/);
    expect(text).not.toMatch(/data: \[DONE\]\s*$/);
  });

  it('releases the reservation when the client aborts a stream', async () => {
    const ctl = new AbortController();
    const res = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      signal: ctl.signal,
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'gemini-3-flash',
        stream: true,
        messages: [{ role: 'user', content: 'abort me' }],
      }),
    });
    const reader = res.body!.getReader();
    await reader.read();
    ctl.abort();
    await new Promise((r) => setTimeout(r, 200));
    const held = host.registry.list().map((a) => host.ledger.reservedFor(a.id, 'gemini-3-flash').count);
    expect(held).toEqual([0, 0, 0]);
  });

  it('spreads parallel requests over nearly-empty accounts by their reservations', async () => {
    for (const a of sim.accounts)
      sim.control.drain({ account: a.email, pool: 'gemini-flash', toFraction: 0.15 });
    await host.refresh();
    const openai = new OpenAI({ baseURL: `${url}/v1`, apiKey: KEY, maxRetries: 0 });
    await Promise.all(
      Array.from({ length: 24 }, (_, i) =>
        openai.chat.completions.create({
          model: 'gemini-3-flash',
          messages: [{ role: 'user', content: `job ${i}` }],
        }),
      ),
    );
    const per = sim.control.stats().perAccount;
    const used = Object.values(per).filter((p) => p.requests > 0).length;
    expect(used).toBeGreaterThanOrEqual(2);
  });

  it('answers a body nested 10,000 levels deep with 400 in every format; no account is touched', async () => {
    // Built as text: serialising such a value overflows the stack (which is the point).
    const nested = '{"a":'.repeat(10_000) + '"leaf"' + '}'.repeat(10_000);
    const user = { role: 'user' as const, content: 'hi' };
    const withDeep = (body: unknown): string => JSON.stringify(body).replace('"__DEEP__"', nested);
    const cases: Array<[string, string, RegExp]> = [
      [
        '/v1beta/models/gemini-3-flash:generateContent',
        withDeep({
          contents: [{ role: 'user', parts: [{ text: 'hi' }] }],
          generationConfig: { responseSchema: '__DEEP__' },
        }),
        /generationConfig\.responseSchema/,
      ],
      [
        '/v1/messages',
        withDeep({
          model: 'gemini-3-flash',
          max_tokens: 10,
          messages: [
            user,
            { role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'f', input: '__DEEP__' }] },
          ],
        }),
        /messages\.1\.content\.0\.input/,
      ],
      [
        '/v1/messages/count_tokens',
        withDeep({
          model: 'gemini-3-flash',
          messages: [{ role: 'user', content: [{ type: 'text', text: 'x', extra: '__DEEP__' }] }],
        }),
        /messages\.0\.content\.0\.extra/,
      ],
      [
        '/v1/chat/completions',
        JSON.stringify({
          model: 'gemini-3-flash',
          messages: [
            user,
            {
              role: 'assistant',
              tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: nested } }],
            },
            { role: 'tool', tool_call_id: 'c1', content: 'ok' },
          ],
        }),
        /messages\.1\.tool_calls\.0\.function\.arguments/,
      ],
    ];
    const before = sim.control.stats().perAccount;
    for (const [path, body, field] of cases) {
      const r = await fetch(`${url}${path}`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${KEY}`,
          'content-type': 'application/json',
          'anthropic-version': '2023-06-01',
        },
        body,
      });
      const text = await r.text();
      expect(r.status, `${path}: ${text.slice(0, 300)}`).toBe(400);
      expect(text).toMatch(/deeper than 256 levels/);
      expect(text).toMatch(field);
      expect(text).not.toMatch(/Maximum call stack|RangeError|at .*\.ts/);
    }
    // Nothing reached the upstream, no account was cooled down, and the next request is served.
    expect(sim.control.stats().perAccount).toEqual(before);
    expect(host.state.snapshot().cooldowns).toEqual([]);
    const openai = new OpenAI({ baseURL: `${url}/v1`, apiKey: KEY, maxRetries: 0 });
    const ok = await openai.chat.completions.create({ model: 'gemini-3-flash', messages: [user] });
    expect(ok.choices[0]?.message.content).toContain('hi');
  });

  it('a call our own code cannot serialise is a 500 that blames no account and is not retried', async () => {
    const before = sim.control.stats().perAccount;
    const attempts: string[] = [];
    const call = host.backend.generate({
      model: 'gemini-3-flash',
      // A BigInt cannot be serialised: the failure is ours, before any byte goes upstream.
      request: { contents: [{ role: 'user', parts: [{ text: 'hi' }] }], labels: { n: 1n } } as never,
      sessionKey: 's-local',
      signal: new AbortController().signal,
      reporter: {
        attempt: ({ accountLabel }) => attempts.push(accountLabel),
        upstreamError: () => {},
        failover: () => {},
      },
    });
    await expect(call).rejects.toMatchObject({ kind: 'internal', status: 500 });
    await expect(call).rejects.not.toThrow(/BigInt/);
    expect(attempts).toHaveLength(1);
    expect(host.state.snapshot().cooldowns).toEqual([]);
    expect(sim.control.stats().perAccount).toEqual(before);
    const openai = new OpenAI({ baseURL: `${url}/v1`, apiKey: KEY, maxRetries: 0 });
    const ok = await openai.chat.completions.create({
      model: 'gemini-3-flash',
      messages: [{ role: 'user', content: 'after' }],
    });
    expect(ok.choices[0]?.message.content).toContain('after');
  });

  it('refuses a wrong key, a foreign Origin, a non-loopback Host and an oversized body', async () => {
    const post = (headers: Record<string, string>, body = '{}') =>
      fetch(`${url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body,
      });
    expect((await post({ authorization: 'Bearer wrong-key-000000000000' })).status).toBe(401);
    expect((await post({ authorization: `Bearer ${KEY}`, origin: 'https://evil.example' })).status).toBe(403);
    const big = JSON.stringify({
      model: 'x',
      messages: [{ role: 'user', content: 'x'.repeat(21 * 1024 * 1024) }],
    });
    expect((await post({ authorization: `Bearer ${KEY}` }, big)).status).toBe(413);
    const { request } = await import('node:http');
    const status = await new Promise<number>((resolve, reject) => {
      const u = new URL(url);
      const req = request(
        {
          host: u.hostname,
          port: u.port,
          path: '/v1/models',
          headers: { host: 'attacker.example', authorization: `Bearer ${KEY}` },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(403);
  });
});
