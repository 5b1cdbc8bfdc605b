/**
 * Tool and output schemas over real sockets: clients of the three formats → the proxy → the
 * simulator, which refuses schemas outside Google's subset as Google does. Schemas the proxy can
 * convert are answered; those it cannot get a 400 naming the path, never reach the upstream and
 * leave every account usable.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EngineHost } from '../../src/host/engineHost';
import type { RunningSimulator } from '../../src/simulator';
import type { ScenarioInput } from '../../src/simulator/scenario';
import { type ProxyStack, startProxyStack } from '../support/proxyStack';

const KEY = 'qp-test-key-schemas-0123456789';

const scenario: ScenarioInput = {
  name: 'schemas',
  seed: 11,
  latency: { firstByteMs: 0, chunkGapMs: 0, chunks: 2 },
  accounts: ['a', 'b'].map((id, i) => ({
    id,
    email: `${id}@example.com`,
    tier: 'PRO' as const,
    refreshToken: `rt-${id}-00000000000${i}`,
    project: `proj-${id}`,
    remaining: { claude: 0.9, 'gemini-flash': 0.9 },
  })),
};

let stack: ProxyStack;
let sim: RunningSimulator;
let host: EngineHost;
let url: string;

beforeAll(async () => {
  stack = await startProxyStack(scenario, KEY);
  ({ sim, host, url } = stack);
});

afterAll(() => stack.close());

function generateCalls(): number {
  const r = sim.control.stats().requests;
  return (r.generateContent ?? 0) + (r.streamGenerateContent ?? 0);
}

async function post(path: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': KEY, 'anthropic-version': '2023-06-01' },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

let deep: Record<string, unknown> = { type: 'string' };
for (let i = 0; i < 60; i++) deep = { anyOf: [deep, { type: 'integer' }] };

const requests = {
  anthropic: (schema: unknown) => ({
    path: '/v1/messages',
    body: {
      model: 'claude-sonnet-4-6',
      max_tokens: 64,
      messages: [{ role: 'user', content: 'Use f.' }],
      tools: [{ name: 'f', input_schema: schema }],
    },
    field: 'tools.0.input_schema',
  }),
  openai: (schema: unknown) => ({
    path: '/v1/chat/completions',
    body: {
      model: 'claude-sonnet-4-6',
      messages: [{ role: 'user', content: 'Use f.' }],
      tools: [{ type: 'function', function: { name: 'f', parameters: schema } }],
    },
    field: 'tools.0.function.parameters',
  }),
  gemini: (schema: unknown) => ({
    path: '/v1beta/models/gemini-3-flash:generateContent',
    body: {
      contents: [{ role: 'user', parts: [{ text: 'Use f.' }] }],
      tools: [{ functionDeclarations: [{ name: 'f', parameters: schema }] }],
    },
    field: 'tools.0.functionDeclarations.0.parameters',
  }),
};

function errorMessage(format: keyof typeof requests, json: Record<string, unknown>): string {
  const error = json.error as Record<string, unknown>;
  if (format === 'anthropic') expect(json.type).toBe('error');
  return String(error.message);
}

describe('schemas the upstream cannot take', () => {
  it('the simulator refuses them as Google does', async () => {
    const token = sim.control.issueAccessToken('a').accessToken;
    const res = await fetch(`${sim.baseUrl}/v1internal:generateContent`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        project: 'proj-a',
        model: 'gemini-3-flash',
        request: {
          contents: [{ role: 'user', parts: [{ text: 'hi' }] }],
          tools: [
            {
              functionDeclarations: [
                {
                  name: 'f',
                  parameters: {
                    type: 'object',
                    additionalProperties: false,
                    properties: { a: { type: ['string', 'null'] } },
                  },
                },
              ],
            },
          ],
        },
      }),
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { status: string; message: string } };
    expect(body.error.status).toBe('INVALID_ARGUMENT');
    expect(body.error.message).toContain(
      `Unknown name "additionalProperties" at 'request.tools[0].function_declarations[0].parameters': Cannot find field.`,
    );
    expect(body.error.message).toContain('Proto field is not repeating, cannot start list.');
  });

  for (const format of ['anthropic', 'openai', 'gemini'] as const) {
    it(`${format}: a non-object root and a too-deep union answer 400 naming the path, and every account stays usable`, async () => {
      for (const [schema, field] of [
        [{ type: 123 }, `${requests[format](null).field}.type`],
        [
          { type: 'object', properties: { x: deep } },
          new RegExp(
            `^${requests[format](null).field.replace(/\./g, '\\.')}\\.properties\\.x(\\.anyOf\\.0)+$`,
          ),
        ],
      ] as const) {
        const before = generateCalls();
        const r = requests[format](schema);
        const res = await post(r.path, r.body);
        expect(res.status).toBe(400);
        const message = errorMessage(format, res.json);
        if (typeof field === 'string') expect(message.startsWith(`${field}: `)).toBe(true);
        else expect(message.split(': ')[0]).toMatch(field);
        expect(generateCalls()).toBe(before); // refused before reaching the upstream
      }
      // Both accounts still serve at once (nothing was cooled down).
      for (let i = 0; i < 2; i++) {
        const ok = requests[format]({ type: 'object', properties: { city: { type: 'string' } } });
        const res = await post(ok.path, ok.body);
        expect(res.status).toBe(200);
      }
      const snap = host.snapshot();
      expect(snap.cooldowns).toEqual([]);
      for (const a of snap.accounts) expect(a.cooldowns).toEqual([]);
    });

    it(`${format}: JSON-Schema keywords outside the subset are converted and the tool is called`, async () => {
      const r = requests[format]({
        $schema: 'https://json-schema.org/draft/2020-12/schema',
        type: 'object',
        $defs: { Unit: { type: 'string', enum: ['c', 'f'] } },
        properties: {
          city: { type: 'string', minLength: 1, pattern: '^[A-Z]' },
          unit: { $ref: '#/$defs/Unit' },
          days: { type: ['integer', 'null'], exclusiveMinimum: 0 },
          mode: { const: 'fast' },
          extra: { type: 'object', additionalProperties: { type: 'string' } },
        },
        required: ['city'],
        additionalProperties: false,
      });
      const res = await post(r.path, r.body);
      expect(res.status).toBe(200);
      const text = JSON.stringify(res.json);
      expect(text).toMatch(/"tool_use"|"tool_calls"|"functionCall"/);
      expect(text).toContain('city');
    });
  }
});
