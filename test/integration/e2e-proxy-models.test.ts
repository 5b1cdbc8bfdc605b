/**
 * Model names through the whole path (SDKs → proxy → pool → simulator): the names real clients send
 * resolve against the catalog the simulator's fetchAvailableModels returns, unknown names get a 404
 * in the client's format that lists what is available, names of JavaScript built-ins are ordinary
 * unknown names, and neither refused names nor keys pasted into the model field reach the ledger.
 */
import Anthropic from '@anthropic-ai/sdk';
import { GoogleGenAI } from '@google/genai';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addSimulatorAccounts, simulatorOAuth } from '../../src/host/demo';
import { EngineHost } from '../../src/host/engineHost';
import type { RunningSimulator } from '../../src/simulator';
import { startSimulator } from '../../src/simulator';
import type { ScenarioInput } from '../../src/simulator/scenario';
import { MemoryTokenStore } from '../../src/upstream/cloudcode/oauth';

const KEY = 'qp-test-key-0123456789abcdef';

const scenario: ScenarioInput = {
  name: 'models-test',
  seed: 3,
  latency: { firstByteMs: 1, chunkGapMs: 1, chunks: 2 },
  accounts: [
    {
      id: 'a',
      email: 'a@example.com',
      tier: 'PRO',
      refreshToken: 'rt-a-000000000001',
      project: 'proj-a',
    },
  ],
};

let sim: RunningSimulator;
let host: EngineHost;
let url: string;
const logLines: string[] = [];

beforeAll(async () => {
  sim = await startSimulator({ scenario, port: 0 });
  host = await EngineHost.create({
    dataDir: null,
    tokenStore: new MemoryTokenStore(),
    oauth: simulatorOAuth(sim),
    baseUrls: [sim.baseUrl],
    proxy: { enabled: true, port: 0, key: KEY },
    logger: {
      info: (l) => logLines.push(l),
      warn: () => {},
      error: () => {},
      debug: () => {},
    },
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

async function post(path: string, body: unknown, headers: Record<string, string> = {}) {
  const r = await fetch(`${url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return { status: r.status, json: (await r.json()) as Record<string, unknown> };
}

async function get(path: string, headers: Record<string, string> = {}) {
  const r = await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${KEY}`, ...headers } });
  return (await r.json()) as Record<string, unknown>;
}

describe('model names through the proxy', () => {
  it("serves the clients' default names with the model the catalog offers, logging each choice once", async () => {
    const anthropic = new Anthropic({ baseURL: url, apiKey: KEY, maxRetries: 0 });
    for (let i = 0; i < 2; i++) {
      const m = await anthropic.messages.create({
        model: 'claude-opus-5-5',
        max_tokens: 50,
        messages: [{ role: 'user', content: 'hello opus' }],
      });
      expect(m.model).toBe('claude-opus-5-5');
    }
    const ai = new GoogleGenAI({ apiKey: KEY, httpOptions: { baseUrl: url, apiVersion: 'v1beta' } });
    for (const model of ['gemini-3.1-pro-preview', 'gemini-3.8-flash', 'gemini-3.5-flash-lite']) {
      const r = await ai.models.generateContent({ model, contents: 'hi' });
      expect(r.text).toBeTruthy();
    }
    const openai = new OpenAI({ baseURL: `${url}/v1`, apiKey: KEY, maxRetries: 0 });
    const c = await openai.chat.completions.create({
      model: 'gpt-5.2-codex',
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(c.choices[0]?.message.content).toBeTruthy();

    const usage = JSON.stringify(host.ledger.summary());
    for (const id of ['claude-opus-4-6-thinking', 'gemini-pro-agent', 'gemini-3-flash'])
      expect(usage).toContain(id);
    const opusLines = logLines.filter((l) => l.startsWith('model "claude-opus-5-5"'));
    expect(opusLines).toEqual([
      'model "claude-opus-5-5" → claude-opus-4-6-thinking (Claude Opus 5.5 is newer than any offered; the best offered is 4.6)',
    ]);
    expect(logLines.some((l) => l.startsWith('model "gemini-3.5-flash-lite" → gemini-3-flash'))).toBe(true);
  });

  it('answers an unknown name with a 404 in each format that names it and lists what is available', async () => {
    const openai = new OpenAI({ baseURL: `${url}/v1`, apiKey: KEY, maxRetries: 0 });
    const err = await openai.chat.completions
      .create({ model: 'my-local-model', messages: [{ role: 'user', content: 'hi' }] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.NotFoundError);
    expect(String((err as Error).message)).toMatch(/"my-local-model".*Available: .*gemini-3-flash/);

    const anthropic = new Anthropic({ baseURL: url, apiKey: KEY, maxRetries: 0 });
    const aerr = await anthropic.messages
      .create({ model: 'llama-3-70b', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] })
      .catch((e: unknown) => e);
    expect(aerr).toBeInstanceOf(Anthropic.NotFoundError);

    const g = await post('/v1beta/models/gemini-embedding-001:generateContent', {
      contents: [{ role: 'user', parts: [{ text: 'hi' }] }],
    });
    expect(g.status).toBe(404);
    expect(g.json).toMatchObject({ error: { code: 404, status: 'NOT_FOUND' } });
  });

  it.each(['constructor', '__proto__', 'toString', 'valueOf'])(
    'answers "model": "%s" with a 404, not a 500',
    async (model) => {
      const r = await post('/v1/chat/completions', { model, messages: [{ role: 'user', content: 'hi' }] });
      expect(r.status).toBe(404);
      expect(JSON.stringify(r.json)).toContain(`"${model}\\"`);
    },
  );

  it('keeps refused names and pasted keys out of the ledger and out of the answer', async () => {
    const key = 'sk-ant-api03-' + 'Zm9vYmFyYmF6cXV4'.repeat(4);
    const r = await post(
      '/v1/messages',
      { model: key, max_tokens: 5, messages: [{ role: 'user', content: 'x' }] },
      {
        'anthropic-version': '2023-06-01',
      },
    );
    expect(r.status).toBe(404);
    expect(JSON.stringify(r.json)).not.toContain(key.slice(13, 40));
    const ok = await post('/v1/chat/completions', {
      model: 'claude-sonnet-4-5-20250929',
      messages: [{ role: 'user', content: 'x' }],
    });
    expect(ok.status).toBe(200);
    const usage = JSON.stringify(host.ledger.summary());
    expect(usage).toContain('claude-sonnet-4-6');
    for (const name of [key, 'my-local-model', 'constructor', 'claude-sonnet-4-5-20250929'])
      expect(usage).not.toContain(name);
    const metrics = await (
      await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${KEY}` } })
    ).text();
    expect(metrics).toMatch(/quota_pilot_unknown_model_requests_total \d+/);
  });

  it('lists the upstream catalog plus the names clients send, in every format', async () => {
    const openai = (await get('/v1/models')) as { data: Array<{ id: string }> };
    const ids = openai.data.map((m) => m.id);
    for (const id of ['gemini-pro-agent', 'claude-opus-4-6-thinking', 'gemini-3.1-flash-image'])
      expect(ids).toContain(id);
    for (const alias of ['claude-opus-5-5', 'gemini-3.1-pro-preview', 'gemini-3.5-flash-lite'])
      expect(ids).toContain(alias);
    const anthropic = (await get('/v1/models', { 'anthropic-version': '2023-06-01' })) as {
      data: Array<{ id: string; display_name: string }>;
    };
    expect(anthropic.data.find((m) => m.id === 'claude-opus-5-5')?.display_name).toContain('Claude Opus 4.6');
    const gemini = (await get('/v1beta/models')) as { models: Array<{ name: string }> };
    expect(gemini.models.map((m) => m.name)).toContain('models/gemini-3.8-flash');
    const one = (await get('/v1beta/models/gemini-3.1-pro-preview')) as { name: string; displayName: string };
    expect(one).toMatchObject({ name: 'models/gemini-3.1-pro-preview' });
    expect(one.displayName).toContain('Gemini 3.1 Pro');
  });

  it('reserves under the resolved model and refuses a reservation for a model nobody offers', async () => {
    const ok = await post('/quota-pilot/v1/reservations', { model: 'claude-opus-5-5', tokens: 1000 });
    expect(ok.status).toBe(201);
    expect(ok.json).toMatchObject({ model: 'claude-opus-4-6-thinking' });
    const bad = await post('/quota-pilot/v1/reservations', { model: 'nobody-serves-this', tokens: 1000 });
    expect(bad.status).toBe(404);
  });
});
