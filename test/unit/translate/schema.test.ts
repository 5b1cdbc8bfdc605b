import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RequestValidationError } from '../../../src/proxy/translate/common';
import {
  MAX_SCHEMA_DEPTH,
  toUpstreamParameters,
  toUpstreamResponseSchema,
} from '../../../src/proxy/translate/schema';
import { schemaProblems } from '../../../src/simulator/schemaCheck';

/** The simulator's (Google's) verdict on a converted schema, as function parameters and as a response schema. */
function upstreamVerdict(parameters: unknown, responseSchema?: unknown): string[] {
  return schemaProblems({
    contents: [{ role: 'user', parts: [{ text: 'hi' }] }],
    tools: [{ functionDeclarations: [{ name: 'f', parameters }] }],
    ...(responseSchema === undefined ? {} : { generationConfig: { responseSchema } }),
  });
}

function thrown(fn: () => unknown): RequestValidationError {
  try {
    fn();
  } catch (err) {
    if (err instanceof RequestValidationError) return err;
    throw err;
  }
  throw new Error('expected a RequestValidationError');
}

function depthOf(v: unknown): number {
  if (typeof v !== 'object' || v === null) return 0;
  return 1 + Math.max(0, ...Object.values(v).map(depthOf));
}

describe('toUpstreamParameters', () => {
  it('keeps the shape and drops what the upstream refuses', () => {
    const out = toUpstreamParameters(
      {
        $schema: 'http://json-schema.org/draft-07/schema#',
        type: 'object',
        properties: {
          path: { type: 'string', description: 'file', format: 'uri', pattern: '^/' },
          when: { type: 'string', format: 'date-time' },
          count: { type: ['integer', 'null'], minimum: 0, default: 1, format: 'int32' },
          mode: { const: 'fast' },
          tags: { type: 'array' },
          kind: { enum: ['a', 'b', null] },
          level: { type: 'integer', enum: [1, 2, 3], description: 'How loud.' },
          gone: false,
        },
        required: ['path', 'ghost', 'path', 'gone'],
        additionalProperties: false,
      },
      'tools.0.input_schema',
    );
    expect(out).toEqual({
      type: 'object',
      properties: {
        path: { type: 'string', description: 'file' },
        when: { type: 'string', format: 'date-time' },
        count: { type: 'integer', nullable: true, minimum: 0, format: 'int32' },
        mode: { type: 'string', enum: ['fast'] },
        tags: { type: 'array', items: { type: 'string' } },
        kind: { type: 'string', nullable: true, enum: ['a', 'b'] },
        level: { type: 'integer', description: 'How loud. Allowed values: 1, 2, 3.' },
      },
      required: ['path'],
    });
    expect(upstreamVerdict(out)).toEqual([]);
  });

  it('inlines $refs (also recursive ones, bounded), merges allOf, maps unions and type lists', () => {
    const out = toUpstreamParameters(
      {
        type: 'object',
        $defs: {
          Point: { type: 'object', properties: { x: { type: 'number' } }, required: ['x'] },
          Node: { type: 'object', properties: { next: { $ref: '#/$defs/Node' }, v: { type: 'string' } } },
        },
        properties: {
          p: { $ref: '#/$defs/Point', description: 'a point' },
          q: { anyOf: [{ type: 'string' }, { type: 'null' }] },
          r: { oneOf: [{ type: 'string' }, { type: 'number' }] },
          s: {
            allOf: [
              { type: 'object', properties: { a: { type: 'string' } } },
              { properties: { b: { type: 'string' } }, required: ['b'] },
            ],
          },
          t: { type: ['string', 'array'], items: { type: 'integer' }, minLength: 2 },
          list: { $ref: '#/$defs/Node' },
        },
      },
      'tools.0.input_schema',
    );
    const props = out.properties as Record<string, Record<string, unknown>>;
    expect(props.p).toEqual({
      type: 'object',
      properties: { x: { type: 'number' } },
      required: ['x'],
      description: 'a point',
    });
    expect(props.q).toEqual({ type: 'string', nullable: true });
    expect(props.r).toEqual({ anyOf: [{ type: 'string' }, { type: 'number' }] });
    expect(props.s).toEqual({
      type: 'object',
      properties: { a: { type: 'string' }, b: { type: 'string' } },
      required: ['b'],
    });
    expect(props.t).toEqual({
      anyOf: [
        { type: 'string', minLength: 2 },
        { type: 'array', items: { type: 'integer' } },
      ],
    });
    // Node → next → Node → next → (cut) object
    expect(JSON.stringify(props.list)).toContain('"next"');
    expect(depthOf(props.list)).toBeLessThan(12);
    expect(upstreamVerdict(out)).toEqual([]);
  });

  it('moves the keywords beside a union into its branches', () => {
    const out = toUpstreamParameters(
      {
        type: 'object',
        properties: {
          v: { type: 'array', anyOf: [{ items: { type: 'string' } }, { items: { type: 'number' } }] },
        },
      },
      'p',
    );
    expect((out.properties as Record<string, unknown>).v).toEqual({
      anyOf: [
        { type: 'array', items: { type: 'string' } },
        { type: 'array', items: { type: 'number' } },
      ],
    });
    expect(upstreamVerdict(out)).toEqual([]);
  });

  it('merges a root union of objects into one object', () => {
    const out = toUpstreamParameters(
      {
        anyOf: [
          {
            type: 'object',
            properties: { a: { type: 'string' }, k: { type: 'string' } },
            required: ['a', 'k'],
          },
          {
            type: 'object',
            properties: { b: { type: 'string' }, k: { type: 'string' } },
            required: ['b', 'k'],
          },
        ],
      },
      'p',
    );
    expect(out).toEqual({
      type: 'object',
      properties: { a: { type: 'string' }, k: { type: 'string' }, b: { type: 'string' } },
      required: ['k'],
    });
  });

  it('keeps property names that are JavaScript built-ins as plain properties', () => {
    const schema = JSON.parse(
      '{"type":"object","properties":{"__proto__":{"type":"string"},"constructor":{"type":"number"}},"required":["__proto__"]}',
    ) as unknown;
    const out = toUpstreamParameters(schema, 'p');
    expect(Object.keys(out.properties as object)).toEqual(['__proto__', 'constructor']);
    expect(JSON.parse(JSON.stringify(out))).toEqual(
      JSON.parse(
        '{"type":"object","properties":{"__proto__":{"type":"string"},"constructor":{"type":"number"}},"required":["__proto__"]}',
      ),
    );
  });

  it.each([
    [{ type: 123 }, 'tools.0.input_schema.type'],
    [{ type: 'string' }, 'tools.0.input_schema.type'],
    [{ type: 'object', properties: { a: 'string' } }, 'tools.0.input_schema.properties.a'],
    [{ type: 'object', properties: { a: { type: 'strin' } } }, 'tools.0.input_schema.properties.a.type'],
    [
      { type: 'object', properties: { a: { $ref: '#/$defs/Nope' } } },
      'tools.0.input_schema.properties.a.$ref',
    ],
    [
      { type: 'object', properties: { a: { $ref: 'https://example.com/s.json' } } },
      'tools.0.input_schema.properties.a.$ref',
    ],
    [{ type: 'object', properties: { a: { anyOf: [] } } }, 'tools.0.input_schema.properties.a.anyOf'],
    [{ type: 'object', properties: { a: { enum: [] } } }, 'tools.0.input_schema.properties.a.enum'],
    [
      { type: 'object', properties: { a: { allOf: [{ type: 'string' }, { type: 'number' }] } } },
      'tools.0.input_schema.properties.a.allOf.1',
    ],
    [{ anyOf: [{ type: 'string' }, { type: 'object' }] }, 'tools.0.input_schema'],
    [false, 'tools.0.input_schema'],
    ['object', 'tools.0.input_schema'],
  ])('refuses %j with a 400 naming %s', (schema, field) => {
    const err = thrown(() => toUpstreamParameters(schema, 'tools.0.input_schema'));
    expect(err.field).toBe(field);
    expect(err.message.startsWith(`${field}: `)).toBe(true);
    expect(err.toClientError().status).toBe(400);
  });

  it('refuses schemas nested deeper than the limit, naming where, without a stack overflow', () => {
    let deep: Record<string, unknown> = { type: 'string' };
    for (let i = 0; i < 10_000; i++) deep = { anyOf: [deep, { type: 'number' }] };
    const err = thrown(() =>
      toUpstreamParameters({ type: 'object', properties: { x: deep } }, 'tools.0.input_schema'),
    );
    expect(err.field).toMatch(/^tools\.0\.input_schema\.properties\.x(\.anyOf\.0)+$/);
    expect(err.message).toContain(`deeper than ${MAX_SCHEMA_DEPTH} levels`);
  });

  it('refuses $ref fan-outs that would explode, naming the schema', () => {
    const defs: Record<string, unknown> = { d0: { type: 'string' } };
    for (let i = 1; i <= 20; i++) {
      defs[`d${i}`] = {
        type: 'object',
        properties: { a: { $ref: `#/$defs/d${i - 1}` }, b: { $ref: `#/$defs/d${i - 1}` } },
      };
    }
    const err = thrown(() =>
      toUpstreamParameters({ $ref: '#/$defs/d20', $defs: defs }, 'tools.0.input_schema'),
    );
    expect(err.field).toBe('tools.0.input_schema');
    expect(err.message).toContain('nodes');
  });
});

describe('toUpstreamResponseSchema', () => {
  it('takes any root type; a schema that allows anything gives no schema', () => {
    expect(toUpstreamResponseSchema({ type: 'array', items: { type: 'string' } }, 'f')).toEqual({
      type: 'array',
      items: { type: 'string' },
    });
    expect(toUpstreamResponseSchema({}, 'f')).toBeUndefined();
    expect(toUpstreamResponseSchema(true, 'f')).toBeUndefined();
  });
});

// ---------------------------------------------------------------------------------------------
// Property: random schemas → a schema the upstream (simulator) accepts, or a 400 naming a path.

const KEYWORDS = [
  'type',
  'properties',
  'items',
  'prefixItems',
  'required',
  'enum',
  'const',
  'anyOf',
  'oneOf',
  'allOf',
  '$ref',
  '$defs',
  'definitions',
  'additionalProperties',
  'nullable',
  'format',
  'pattern',
  'minimum',
  'maximum',
  'minItems',
  'maxItems',
  'minLength',
  'description',
  'title',
  'default',
  'not',
  'if',
  'then',
  'propertyOrdering',
  'exclusiveMinimum',
] as const;

const typeName = fc.constantFrom(
  'string',
  'number',
  'integer',
  'boolean',
  'object',
  'array',
  'null',
  'STRING',
  'Object',
  'strin',
);
const refValue = fc.constantFrom(
  '#',
  '#/$defs/A',
  '#/$defs/B',
  '#/definitions/C',
  '#/properties/a',
  '#/$defs/Missing',
  'other.json#/x',
);

const { schema: schemaArb } = fc.letrec<{ schema: unknown; keywordValue: unknown }>((tie) => ({
  schema: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom(true, false, {}, { type: 'string' }),
    fc.dictionary(fc.constantFrom(...KEYWORDS), tie('keywordValue'), { maxKeys: 5 }),
    fc.jsonValue({ maxDepth: 2 }),
  ),
  keywordValue: fc.oneof(
    { depthSize: 'small' },
    typeName,
    fc.array(typeName, { maxLength: 3 }),
    refValue,
    fc.dictionary(fc.constantFrom('a', 'b', 'A', 'B', 'C', '__proto__'), tie('schema'), { maxKeys: 3 }),
    fc.array(tie('schema'), { maxLength: 3 }),
    fc.array(fc.oneof(fc.string({ maxLength: 3 }), fc.integer(), fc.constant(null), fc.boolean()), {
      maxLength: 4,
    }),
    fc.jsonValue({ maxDepth: 1 }),
    tie('schema'),
  ),
}));

function checkOutcome(fn: () => unknown, base: string): void {
  let out: unknown;
  try {
    out = fn();
  } catch (err) {
    expect(err).toBeInstanceOf(RequestValidationError);
    const e = err as RequestValidationError;
    expect(e.field === base || e.field.startsWith(`${base}.`)).toBe(true);
    expect(e.message.startsWith(`${e.field}: `)).toBe(true);
    return;
  }
  expect(depthOf(out)).toBeLessThanOrEqual(2 * MAX_SCHEMA_DEPTH + 4);
  JSON.stringify(out);
}

describe('schema normalisation (property)', () => {
  it('tool schemas: a schema the upstream accepts, or a 400 naming a path below the schema — never anything else', () => {
    fc.assert(
      fc.property(schemaArb, (schema) => {
        checkOutcome(() => {
          const out = toUpstreamParameters(schema, 'tools.3.input_schema');
          expect(upstreamVerdict(out)).toEqual([]);
          return out;
        }, 'tools.3.input_schema');
      }),
      { numRuns: 1500, seed: 20261201 },
    );
  });

  it('response schemas: the same', () => {
    fc.assert(
      fc.property(schemaArb, (schema) => {
        checkOutcome(() => {
          const out = toUpstreamResponseSchema(schema, 'output_config.format.schema');
          if (out !== undefined) expect(upstreamVerdict({ type: 'object', properties: {} }, out)).toEqual([]);
          return out;
        }, 'output_config.format.schema');
      }),
      { numRuns: 1500, seed: 71 },
    );
  });
});

describe('the property arbitrary', () => {
  it('produces convertible schemas as well as refused ones', () => {
    let ok = 0;
    let refused = 0;
    fc.assert(
      fc.property(schemaArb, (schema) => {
        try {
          toUpstreamParameters(schema, 'p');
          ok++;
        } catch {
          refused++;
        }
      }),
      { numRuns: 500, seed: 3 },
    );
    expect(ok).toBeGreaterThan(100);
    expect(refused).toBeGreaterThan(50);
  });
});
