/**
 * The OpenAI Responses API over real sockets: the official `openai` SDK's `client.responses` →
 * Quota Pilot's proxy → Cloud Code client → the simulator. Whole and streamed answers, a function
 * tool round trip, namespace tools, the session key, previous_response_id with the response store,
 * and the error shape.
 */
import OpenAI from 'openai';
import type { ResponseInputItem, ResponseStreamEvent } from 'openai/resources/responses/responses';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { addSimulatorAccounts, simulatorOAuth } from '../../src/host/demo';
import { EngineHost } from '../../src/host/engineHost';
import type { RunningSimulator } from '../../src/simulator';
import type { ScenarioInput } from '../../src/simulator/scenario';
import { startSimulator } from '../../src/simulator';
import { MemoryTokenStore } from '../../src/upstream/cloudcode/oauth';

const KEY = 'qp-test-key-0123456789abcdef';

const scenario: ScenarioInput = {
  name: 'responses-test',
  seed: 11,
  latency: { firstByteMs: 5, chunkGapMs: 2, chunks: 4 },
  accounts: ['a', 'b', 'c'].map((id, i) => ({
    id,
    email: `${id}@example.com`,
    tier: 'PRO' as const,
    refreshToken: `rt-${id}-00000000000${i}`,
    project: `proj-${id}`,
    remaining: { claude: 0.9 - i * 0.1, 'gemini-flash': 0.9 - i * 0.1 },
  })),
};

let sim: RunningSimulator;
let host: EngineHost;
let client: OpenAI;

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
  client = new OpenAI({ baseURL: `${host.proxyStatus().url as string}/v1`, apiKey: KEY, maxRetries: 0 });
});

afterEach(async () => {
  await host.dispose();
  await sim.close();
});

const weather = {
  type: 'function' as const,
  name: 'get_weather',
  description: 'Weather for a city',
  strict: false,
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
};

describe('Responses API through the proxy with the official SDK', () => {
  it('answers whole, with usage', async () => {
    const r = await client.responses.create({
      model: 'claude-sonnet-4-5',
      instructions: 'Be brief.',
      input: 'Hello there',
      store: false,
    });
    expect(r.object).toBe('response');
    expect(r.status).toBe('completed');
    expect(r.output_text).toContain('Hello there');
    expect(r.usage?.input_tokens).toBeGreaterThan(0);
    expect(r.usage?.total_tokens).toBe((r.usage?.input_tokens ?? 0) + (r.usage?.output_tokens ?? 0));
  });

  it('streams the response.* events in order, numbered, ending in response.completed', async () => {
    const stream = await client.responses.create({
      model: 'gemini-3-flash',
      input: [{ role: 'user', content: [{ type: 'input_text', text: 'Stream this' }] }],
      reasoning: { effort: 'low', summary: 'auto' },
      include: ['reasoning.encrypted_content'],
      stream: true,
    });
    const events: ResponseStreamEvent[] = [];
    for await (const e of stream) events.push(e);
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
    const types = events.map((e) => e.type);
    expect(types.slice(0, 2)).toEqual(['response.created', 'response.in_progress']);
    expect(types[types.length - 1]).toBe('response.completed');
    expect(types.filter((t) => t === 'response.output_text.delta').length).toBeGreaterThan(1);
    const text = events.map((e) => (e.type === 'response.output_text.delta' ? e.delta : '')).join('');
    expect(text).toContain('Stream this');
    const done = events[events.length - 1];
    expect(done?.type === 'response.completed' ? done.response.usage?.output_tokens : 0).toBeGreaterThan(0);
  });

  it('runs a function tool round trip, whole and streamed', async () => {
    const input: ResponseInputItem[] = [{ role: 'user', content: 'Weather in Paris?' }];
    const first = await client.responses.create({ model: 'claude-sonnet-4-5', input, tools: [weather] });
    const call = first.output.find((o) => o.type === 'function_call');
    expect(call?.type === 'function_call' ? call.name : '').toBe('get_weather');
    const args = JSON.parse(call?.type === 'function_call' ? call.arguments : '{}') as Record<
      string,
      unknown
    >;
    expect(typeof args.city).toBe('string');

    // The client sends the whole conversation back with the tool's output (store: false, as Codex).
    const stream = client.responses.stream({
      model: 'claude-sonnet-4-5',
      store: false,
      tools: [weather],
      input: [
        ...input,
        ...(first.output as ResponseInputItem[]),
        {
          type: 'function_call_output',
          call_id: call?.type === 'function_call' ? call.call_id : '',
          output: '18 °C',
        },
      ],
    });
    const second = await stream.finalResponse();
    expect(second.status).toBe('completed');
    expect(second.output_text).toMatch(/after get_weather returned "18 °C"/);
  });

  it('flattens namespace tools upstream and names the call by namespace and name', async () => {
    const r = await client.responses.create({
      model: 'claude-sonnet-4-5',
      input: 'Weather in Rome?',
      tools: [
        {
          type: 'namespace',
          name: 'weather',
          description: 'Weather tools',
          tools: [{ ...weather, name: 'current' }],
        },
      ],
    });
    const call = r.output.find((o) => o.type === 'function_call');
    expect(call).toMatchObject({ type: 'function_call', name: 'current', namespace: 'weather' });
  });

  it('keeps a prompt_cache_key conversation on one account', async () => {
    const ask = (text: string, key?: string) =>
      client.responses.create({
        model: 'claude-sonnet-4-5',
        input: text,
        ...(key === undefined ? {} : { prompt_cache_key: key }),
      });
    const before = host.pool.sessionCount();
    await ask('first turn', 'conv-42');
    const account = host.pool.current()?.accountId;
    await ask('a different second turn', 'conv-42');
    expect(host.pool.current()?.accountId).toBe(account);
    // One conversation, one session; without the key each prompt is its own session.
    expect(host.pool.sessionCount()).toBe(before + 1);
    await ask('no key here');
    expect(host.pool.sessionCount()).toBe(before + 2);
  });

  it('continues from previous_response_id and reads stored responses back', async () => {
    const first = await client.responses.create({
      model: 'claude-sonnet-4-5',
      input: 'Weather in Paris?',
      tools: [weather],
    });
    const call = first.output.find((o) => o.type === 'function_call');
    // Only the tool output goes up: the proxy supplies the conversation so far.
    const stream = client.responses.stream({
      model: 'claude-sonnet-4-5',
      previous_response_id: first.id,
      tools: [weather],
      input: [
        {
          type: 'function_call_output',
          call_id: call?.type === 'function_call' ? call.call_id : '',
          output: '18 °C',
        },
      ],
    });
    const second = await stream.finalResponse();
    expect(second.output_text).toMatch(/after get_weather returned "18 °C"/);
    expect(second.previous_response_id).toBe(first.id);

    const again = await client.responses.retrieve(second.id);
    expect(again.id).toBe(second.id);
    expect(again.output_text).toBe(second.output_text);
    expect(again.output.map((o) => o.id)).toEqual(second.output.map((o) => o.id));
    await client.responses.delete(second.id);
    await expect(client.responses.retrieve(second.id)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
  });

  it('keeps nothing for store: false and says what to send instead', async () => {
    const r = await client.responses.create({ model: 'claude-sonnet-4-5', input: 'private', store: false });
    await expect(client.responses.retrieve(r.id)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    const err = await client.responses
      .create({ model: 'claude-sonnet-4-5', input: 'again', previous_response_id: r.id })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    const e = err as InstanceType<typeof OpenAI.BadRequestError>;
    expect(e.status).toBe(400);
    expect(e.param).toBe('previous_response_id');
    expect(e.message).toMatch(/send the whole conversation in `input`/i);
  });
});
