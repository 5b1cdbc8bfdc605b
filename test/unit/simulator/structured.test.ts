import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { catalogModel, type CatalogModel } from '../../../src/core/catalog';
import { buildAnswer, type Answer } from '../../../src/simulator/generate';
import type { GenerateRequest } from '../../../src/simulator/wire';

const flash = catalogModel('gemini-3-flash') as CatalogModel;

function text(a: Answer): string {
  return a.chunks
    .flat()
    .filter((p) => typeof p.text === 'string' && p.thought !== true)
    .map((p) => p.text)
    .join('');
}

function ask(prompt: string, generationConfig: Record<string, unknown>): GenerateRequest {
  return { contents: [{ role: 'user', parts: [{ text: prompt }] }], generationConfig };
}

const ajv = new Ajv({ strict: false, validateFormats: false, allErrors: true });
/** OpenAPI-style upper-case types as JSON Schema; `nullable` is understood by Ajv. */
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

interface Fixture {
  exchanges: Array<{ path: string; requestBody: GenerateRequest }>;
}
const geminiCli = JSON.parse(
  readFileSync('test/fixtures/clients/gemini-cli/plain-404-model-names.json', 'utf8'),
) as Fixture;

describe('structured output (responseMimeType application/json)', () => {
  it("answers Gemini CLI's router classifier with JSON its schema accepts, streamed or whole", () => {
    const classifier = geminiCli.exchanges.find((e) => e.path.includes('flash-lite:generateContent'));
    expect(classifier).toBeDefined();
    const body = (classifier as { requestBody: GenerateRequest }).requestBody;
    const a = buildAnswer(flash, body, 4);
    const doc = JSON.parse(text(a)) as { complexity_reasoning: unknown; complexity_score: unknown };
    expect(problems(body.generationConfig?.responseJsonSchema, doc)).toBeNull();
    // What Gemini CLI itself checks (zod: reasoning string, score number 1..100).
    expect(typeof doc.complexity_reasoning).toBe('string');
    expect(doc.complexity_reasoning).toMatch(/^Simulated reasoning about the request ".+"\.$/);
    expect(doc.complexity_score).toBeGreaterThanOrEqual(1);
    expect(doc.complexity_score).toBeLessThanOrEqual(100);
    // It asked for thoughts: they come first, apart from the JSON text.
    expect(a.chunks[0]?.[0]?.thought).toBe(true);
    expect(a.usage.candidatesTokenCount).toBe(Math.ceil(text(a).length / 4));
    expect(a.usage.totalTokenCount).toBe(
      a.usage.promptTokenCount + a.usage.candidatesTokenCount + (a.usage.thoughtsTokenCount ?? 0),
    );
    // The whole answer is the same document, and the same request gets the same answer.
    expect(text(buildAnswer(flash, body, 1))).toBe(text(a));
    expect(buildAnswer(flash, body, 4)).toEqual(a);
  });

  it('picks the enum value the prompt names, else the first (flash / pro router)', () => {
    const router = {
      type: 'object',
      properties: {
        reasoning: { type: 'string', description: 'A brief summary of the user objective…' },
        model_choice: { type: 'string', enum: ['flash', 'pro'] },
      },
      required: ['reasoning', 'model_choice'],
    };
    const config = { responseMimeType: 'application/json', responseJsonSchema: router };
    const simple = JSON.parse(text(buildAnswer(flash, ask('say hi', config), 3))) as Record<string, unknown>;
    expect(simple).toEqual({
      reasoning: 'Simulated reasoning about the request "say hi".',
      model_choice: 'flash',
    });
    const named = JSON.parse(
      text(buildAnswer(flash, ask('Use the pro model to design a backend', config), 3)),
    ) as Record<string, unknown>;
    expect(named.model_choice).toBe('pro');
  });

  it('satisfies an OpenAPI-style responseSchema: types, nullable, formats, bounds, ordering', () => {
    const schema = {
      type: 'OBJECT',
      properties: {
        recipes: {
          type: 'ARRAY',
          minItems: 2,
          maxItems: 4,
          items: {
            type: 'OBJECT',
            properties: {
              recipeName: { type: 'STRING' },
              servings: { type: 'INTEGER', minimum: 2, maximum: 8 },
              rating: { type: 'NUMBER', description: 'A rating between 0 and 5.' },
              cooked: { type: 'STRING', format: 'date-time', nullable: true },
              course: { type: 'STRING', format: 'enum', enum: ['starter', 'main', 'dessert'] },
              tags: { type: 'ARRAY', items: { type: 'STRING' }, minItems: 1 },
            },
            required: ['recipeName', 'servings', 'rating', 'course'],
            propertyOrdering: ['course', 'recipeName', 'servings', 'rating'],
          },
        },
        vegetarian: { type: 'BOOLEAN' },
      },
      required: ['recipes'],
    };
    const a = buildAnswer(
      flash,
      ask('Give me two dessert recipes', { responseMimeType: 'application/json', responseSchema: schema }),
      5,
    );
    const doc = JSON.parse(text(a)) as { recipes: Array<Record<string, unknown>> };
    expect(problems(schema, doc)).toBeNull();
    expect(doc.recipes).toHaveLength(2);
    const first = doc.recipes[0] as Record<string, unknown>;
    expect(Object.keys(first).slice(0, 4)).toEqual(['course', 'recipeName', 'servings', 'rating']);
    expect(first.course).toBe('dessert');
    expect(first.recipeName).toBe('sample recipe name');
    expect(a.chunks.length).toBeGreaterThan(1);
  });

  it('satisfies a JSON Schema responseJsonSchema with $ref, anyOf and const', () => {
    const schema = {
      $defs: {
        step: { type: 'object', properties: { n: { type: 'integer', minimum: 1 } }, required: ['n'] },
      },
      type: 'object',
      properties: {
        kind: { const: 'plan' },
        steps: { type: 'array', items: { $ref: '#/$defs/step' }, minItems: 1 },
        note: { anyOf: [{ type: 'string', maxLength: 10 }, { type: 'null' }] },
        id: { type: 'string', format: 'uuid' },
      },
      required: ['kind', 'steps', 'note', 'id'],
      additionalProperties: false,
    };
    const a = buildAnswer(
      flash,
      ask('Plan it', { responseMimeType: 'application/json', responseJsonSchema: schema }),
      3,
    );
    const doc = JSON.parse(text(a)) as { id: string };
    expect(problems(schema, doc)).toBeNull();
    expect(doc.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-a[0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('answers a small JSON object without a schema, and snake_case fields work too', () => {
    const plain = JSON.parse(
      text(buildAnswer(flash, ask('hi', { responseMimeType: 'application/json' }), 3)),
    );
    expect(plain).toEqual({ response: 'Simulated gemini-3-flash reply to: "hi"' });
    const snake = ask('hi', {
      response_mime_type: 'application/json',
      response_schema: { type: 'OBJECT', properties: { ok: { type: 'BOOLEAN' } } },
    });
    expect(JSON.parse(text(buildAnswer(flash, snake, 2)))).toEqual({ ok: false });
  });

  it('answers text/x.enum with one bare enum value', () => {
    const schema = { type: 'STRING', format: 'enum', enum: ['Percussion', 'String', 'Woodwind'] };
    const config = { responseMimeType: 'text/x.enum', responseSchema: schema };
    expect(text(buildAnswer(flash, ask('What family is the violin? A string instrument.', config), 3))).toBe(
      'String',
    );
    expect(text(buildAnswer(flash, ask('Which family?', config), 3))).toBe('Percussion');
  });

  it('still answers prose for text/plain and calls a tool the prompt asks for', () => {
    expect(text(buildAnswer(flash, ask('hi', { responseMimeType: 'text/plain' }), 2))).toBe(
      'Simulated gemini-3-flash reply to: "hi"',
    );
    const withTool: GenerateRequest = {
      ...ask('Use the get_weather tool for Paris', { responseMimeType: 'application/json' }),
      tools: [
        { functionDeclarations: [{ name: 'get_weather', parameters: { type: 'OBJECT', properties: {} } }] },
      ],
    };
    expect(buildAnswer(flash, withTool, 2).chunks[0]?.[0]?.functionCall?.name).toBe('get_weather');
  });
});
