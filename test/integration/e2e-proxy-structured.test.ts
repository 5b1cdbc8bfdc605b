/**
 * Structured output through the whole stack: official SDKs → the proxy → Cloud Code client → the
 * simulator, which answers JSON that satisfies the schema the client asked for (Gemini
 * `responseMimeType` + `responseSchema` / `responseJsonSchema`, OpenAI `response_format:
 * json_schema`, Anthropic `output_config.format`).
 */
import Anthropic from '@anthropic-ai/sdk';
import { GoogleGenAI, Type } from '@google/genai';
import { Ajv } from 'ajv';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ScenarioInput } from '../../src/simulator/scenario';
import { type ProxyStack, startProxyStack } from '../support/proxyStack';

const KEY = 'qp-test-key-0123456789abcdef';

const scenario: ScenarioInput = {
  name: 'structured-test',
  seed: 11,
  latency: { firstByteMs: 0, chunkGapMs: 1, chunks: 4 },
  accounts: [
    {
      id: 'a',
      email: 'a@example.com',
      tier: 'ULTRA',
      refreshToken: 'rt-a-000000000001',
      project: 'proj-a',
      remaining: { claude: 0.9, 'gemini-flash': 0.9 },
    },
  ],
};

let stack: ProxyStack;
let url: string;

beforeAll(async () => {
  stack = await startProxyStack(scenario, KEY);
  ({ url } = stack);
});

afterAll(() => stack.close());

const ajv = new Ajv({ strict: false, validateFormats: false, allErrors: true });
/** OpenAPI-style upper-case types as JSON Schema. */
function jsonSchema(s: unknown): unknown {
  if (Array.isArray(s)) return s.map(jsonSchema);
  if (typeof s !== 'object' || s === null) return s;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(s))
    out[k] = k === 'type' && typeof v === 'string' ? v.toLowerCase() : jsonSchema(v);
  return out;
}
function problems(schema: unknown, value: unknown): string | null {
  const validate = ajv.compile(jsonSchema(schema) as object);
  return validate(value) ? null : ajv.errorsText(validate.errors);
}

const recipe = {
  type: Type.OBJECT,
  properties: {
    recipeName: { type: Type.STRING },
    ingredients: { type: Type.ARRAY, items: { type: Type.STRING }, minItems: 2 },
    minutes: { type: Type.INTEGER, minimum: 5, maximum: 90 },
    difficulty: { type: Type.STRING, enum: ['easy', 'medium', 'hard'] },
    reason: { type: Type.STRING, nullable: true },
  },
  required: ['recipeName', 'ingredients', 'minutes', 'difficulty'],
  propertyOrdering: ['recipeName', 'difficulty', 'ingredients', 'minutes', 'reason'],
};

const plainRecipe = {
  type: 'object',
  properties: {
    title: { type: 'string' },
    steps: { type: 'array', items: { type: 'string' }, minItems: 1 },
    vegan: { type: 'boolean' },
  },
  required: ['title', 'steps', 'vegan'],
  additionalProperties: false,
};

describe('structured output through the proxy', () => {
  it('Gemini SDK: responseSchema and responseJsonSchema, whole and streamed', async () => {
    const ai = new GoogleGenAI({ apiKey: KEY, httpOptions: { baseUrl: url, apiVersion: 'v1beta' } });
    const r = await ai.models.generateContent({
      model: 'gemini-3-flash',
      contents: 'A hard recipe for bread, please',
      config: { responseMimeType: 'application/json', responseSchema: recipe },
    });
    const doc = JSON.parse(r.text ?? '') as Record<string, unknown>;
    expect(problems(recipe, doc)).toBeNull();
    expect(doc.difficulty).toBe('hard');
    expect(Object.keys(doc)).toEqual(['recipeName', 'difficulty', 'ingredients', 'minutes']);
    expect(r.usageMetadata?.totalTokenCount).toBeGreaterThan(0);

    let streamed = '';
    let chunks = 0;
    for await (const c of await ai.models.generateContentStream({
      model: 'gemini-3-flash',
      contents: 'A hard recipe for bread, please',
      config: { responseMimeType: 'application/json', responseSchema: recipe },
    })) {
      chunks++;
      streamed += c.text ?? '';
    }
    expect(chunks).toBeGreaterThan(1);
    expect(JSON.parse(streamed)).toEqual(doc);

    // Gemini CLI's router: JSON Schema with OpenAPI-style type names.
    const router = {
      type: 'OBJECT',
      properties: {
        complexity_reasoning: { type: 'STRING', description: 'Brief explanation for the score.' },
        complexity_score: { type: 'INTEGER', description: 'Complexity score from 1-100.' },
      },
      required: ['complexity_reasoning', 'complexity_score'],
    };
    const routed = await ai.models.generateContent({
      model: 'gemini-3-flash',
      contents: 'say hi',
      config: { responseMimeType: 'application/json', responseJsonSchema: router },
    });
    const decision = JSON.parse(routed.text ?? '') as { complexity_score: number };
    expect(problems(router, decision)).toBeNull();
    expect(decision.complexity_score).toBeGreaterThanOrEqual(1);
    expect(decision.complexity_score).toBeLessThanOrEqual(100);

    const family = await ai.models.generateContent({
      model: 'gemini-3-flash',
      contents: 'The violin is a string instrument. Which family?',
      config: {
        responseMimeType: 'text/x.enum',
        responseSchema: { type: Type.STRING, format: 'enum', enum: ['Percussion', 'String', 'Woodwind'] },
      },
    });
    expect(family.text).toBe('String');
  });

  it('OpenAI SDK: response_format json_schema', async () => {
    const openai = new OpenAI({ baseURL: `${url}/v1`, apiKey: KEY, maxRetries: 0 });
    const r = await openai.chat.completions.create({
      model: 'gemini-3-flash',
      messages: [{ role: 'user', content: 'A vegan soup' }],
      response_format: {
        type: 'json_schema',
        json_schema: { name: 'recipe', schema: plainRecipe, strict: true },
      },
    });
    expect(problems(plainRecipe, JSON.parse(r.choices[0]?.message.content ?? ''))).toBeNull();
    const obj = await openai.chat.completions.create({
      model: 'gemini-3-flash',
      messages: [{ role: 'user', content: 'Answer in JSON' }],
      response_format: { type: 'json_object' },
    });
    expect(JSON.parse(obj.choices[0]?.message.content ?? '')).toBeTypeOf('object');
  });

  it('Anthropic SDK: output_config.format json_schema, streamed', async () => {
    const anthropic = new Anthropic({ baseURL: url, apiKey: KEY, maxRetries: 0 });
    const stream = anthropic.messages.stream({
      model: 'claude-sonnet-4-5',
      max_tokens: 512,
      messages: [{ role: 'user', content: 'A vegan soup' }],
      output_config: { format: { type: 'json_schema', schema: plainRecipe } },
    });
    const msg = await stream.finalMessage();
    const text = msg.content.map((b) => (b.type === 'text' ? b.text : '')).join('');
    expect(problems(plainRecipe, JSON.parse(text))).toBeNull();
  });
});
