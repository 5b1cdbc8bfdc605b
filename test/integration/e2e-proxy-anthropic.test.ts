/**
 * Anthropic Messages as clients send them today, over real sockets: the bodies Claude Code and
 * opencode really sent (test/fixtures/clients) replayed against the proxy and the simulator, and
 * the official SDK with system-role messages, structured output and a tool round trip.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ScenarioInput } from '../../src/simulator/scenario';
import { type ProxyStack, startProxyStack } from '../support/proxyStack';

const KEY = 'qp-test-key-anthropic-0123456789';
const CLIENTS = join(__dirname, '..', 'fixtures', 'clients');

const scenario: ScenarioInput = {
  name: 'anthropic-clients',
  seed: 5,
  latency: { firstByteMs: 0, chunkGapMs: 0, chunks: 3 },
  accounts: ['a', 'b'].map((id, i) => ({
    id,
    email: `${id}@example.com`,
    tier: 'ULTRA' as const,
    refreshToken: `rt-${id}-00000000000${i}`,
    project: `proj-${id}`,
    remaining: { claude: 0.9, 'gemini-flash': 0.9 },
  })),
};

let stack: ProxyStack;
let url: string;

beforeAll(async () => {
  stack = await startProxyStack(scenario, KEY);
  ({ url } = stack);
});

afterAll(() => stack.close());

interface Exchange {
  method: string;
  path: string;
  requestHeaders: Record<string, string>;
  requestBody: unknown;
}

/** Every recorded Anthropic Messages request of a client. */
function recorded(client: string): Array<{ file: string; exchange: Exchange }> {
  const out: Array<{ file: string; exchange: Exchange }> = [];
  for (const file of readdirSync(join(CLIENTS, client)).filter((f) => f.endsWith('.json'))) {
    const f = JSON.parse(readFileSync(join(CLIENTS, client, file), 'utf8')) as { exchanges: Exchange[] };
    for (const exchange of f.exchanges) {
      if (exchange.method === 'POST' && /^\/v1\/messages(\?|$)/.test(exchange.path))
        out.push({ file, exchange });
    }
  }
  return out;
}

/** The SSE events of a streamed answer, parsed. */
function events(text: string): Array<{ event: string; data: Record<string, unknown> }> {
  return text
    .split('\n\n')
    .filter((f) => f.trim().length > 0)
    .map((frame) => {
      const event = /^event: (.*)$/m.exec(frame)?.[1] ?? '';
      const data = JSON.parse(/^data: (.*)$/m.exec(frame)?.[1] ?? 'null') as Record<string, unknown>;
      return { event, data };
    });
}

describe('recorded client bodies', () => {
  for (const client of ['claude-code', 'opencode']) {
    const bodies = recorded(client);
    it(`${client}: every recorded Messages request (${bodies.length}) is answered`, async () => {
      expect(bodies.length).toBeGreaterThan(0);
      for (const { file, exchange } of bodies) {
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(exchange.requestHeaders)) {
          if (!['x-api-key', 'authorization', 'content-length', 'accept-encoding', 'host'].includes(k))
            headers[k] = v;
        }
        headers['x-api-key'] = KEY;
        const res = await fetch(`${url}${exchange.path}`, {
          method: 'POST',
          headers,
          body: JSON.stringify(exchange.requestBody),
        });
        const text = await res.text();
        expect(res.status, `${file}: ${text.slice(0, 300)}`).toBe(200);
        const body = exchange.requestBody as { stream?: boolean };
        if (body.stream === true) {
          const evs = events(text);
          expect(evs[0]?.event).toBe('message_start');
          expect(evs[evs.length - 1]?.event).toBe('message_stop');
          expect(evs.some((e) => e.event === 'error')).toBe(false);
        } else {
          expect((JSON.parse(text) as { type: string }).type).toBe('message');
        }
      }
    });
  }

  it('claude-code: the recorded body has the mid-conversation system message this is about', () => {
    const roles = recorded('claude-code').flatMap(({ exchange }) =>
      (exchange.requestBody as { messages: Array<{ role: string }> }).messages.map((m) => m.role),
    );
    expect(roles).toContain('system');
  });
});

describe('the Anthropic SDK', () => {
  const weather: Anthropic.Tool = {
    name: 'get_weather',
    description: 'Weather for a city',
    input_schema: {
      type: 'object',
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      properties: { city: { type: 'string', minLength: 1 }, unit: { enum: ['c', 'f'] } },
      required: ['city'],
      additionalProperties: false,
    },
    strict: true,
  };

  it('system-role messages, structured output and a tool round trip with an image in the result', async () => {
    const client = new Anthropic({ baseURL: url, apiKey: KEY, maxRetries: 0 });
    const first = await client.messages.create({
      model: 'claude-opus-4-8',
      max_tokens: 512,
      thinking: { type: 'adaptive' },
      output_config: { effort: 'low' },
      tools: [weather],
      messages: [
        { role: 'system', content: 'You answer about weather.' },
        { role: 'user', content: 'Use get_weather for Paris.' },
        {
          role: 'system',
          content: [{ type: 'text', text: 'Be brief.', cache_control: { type: 'ephemeral' } }],
        },
      ],
    });
    const call = first.content.find((b) => b.type === 'tool_use');
    expect(first.stop_reason).toBe('tool_use');
    expect(call?.type === 'tool_use' ? call.name : '').toBe('get_weather');
    if (call?.type !== 'tool_use') return;

    const stream = client.messages.stream({
      model: 'claude-opus-4-8',
      max_tokens: 512,
      tools: [weather],
      messages: [
        { role: 'user', content: 'Use get_weather for Paris.' },
        { role: 'assistant', content: first.content },
        {
          role: 'user',
          content: [
            {
              type: 'tool_result',
              tool_use_id: call.id,
              content: [
                { type: 'text', text: '21 °C, sunny' },
                { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } },
              ],
            },
          ],
        },
        {
          role: 'system',
          content: 'The user reads on a phone.',
          clear_at: 'next_user_message',
        } as Anthropic.MessageParam,
      ],
    });
    const final = await stream.finalMessage();
    expect(final.stop_reason).toBe('end_turn');
    expect(final.content.some((b) => b.type === 'text' && b.text.length > 0)).toBe(true);

    const structured = await client.messages.create({
      model: 'claude-sonnet-4-6',
      max_tokens: 256,
      output_config: {
        format: {
          type: 'json_schema',
          schema: {
            type: 'object',
            properties: { city: { type: 'string' }, temp: { type: 'number' } },
            required: ['city', 'temp'],
            additionalProperties: false,
          },
        },
      },
      messages: [{ role: 'user', content: 'Weather in Paris as JSON.' }],
    });
    expect(structured.type).toBe('message');
  });

  it('a bad role is refused with Anthropic’s wording and type', async () => {
    const client = new Anthropic({ baseURL: url, apiKey: KEY, maxRetries: 0 });
    const err = await client.messages
      .create({
        model: 'claude-opus-4-8',
        max_tokens: 16,
        messages: [{ role: 'developer', content: 'x' } as unknown as Anthropic.MessageParam],
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.BadRequestError);
    const e = err as InstanceType<typeof Anthropic.BadRequestError>;
    expect(e.error).toEqual({
      type: 'error',
      error: {
        type: 'invalid_request_error',
        message: "messages.0.role: Input should be 'user', 'assistant' or 'system'",
      },
    });
  });
});
