import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  cleanJsonSchema,
  deriveSessionKey,
  formatSse,
  normalizeUsage,
  parseBody,
  RequestValidationError,
  SignatureCache,
  stableToolCallId,
  stopKindOf,
} from '../../../src/proxy/translate/common';

const DROPPED = [
  '$schema',
  '$id',
  '$ref',
  '$defs',
  'definitions',
  'additionalProperties',
  'default',
  'examples',
  'const',
  'oneOf',
  'allOf',
  'exclusiveMinimum',
  'pattern',
];

function keysDeep(v: unknown, out: Set<string> = new Set()): Set<string> {
  if (Array.isArray(v)) v.forEach((x) => keysDeep(x, out));
  else if (typeof v === 'object' && v !== null) {
    for (const [k, x] of Object.entries(v)) {
      out.add(k);
      // Property names are user data, not keywords.
      if (k === 'properties' && typeof x === 'object' && x !== null)
        Object.values(x).forEach((p) => keysDeep(p, out));
      else keysDeep(x, out);
    }
  }
  return out;
}

describe('cleanJsonSchema', () => {
  it('drops keywords Gemini rejects and keeps the shape', () => {
    const cleaned = cleanJsonSchema({
      $schema: 'http://json-schema.org/draft-07/schema#',
      type: 'object',
      properties: {
        path: { type: 'string', description: 'file', format: 'uri', pattern: '^/' },
        when: { type: 'string', format: 'date-time' },
        count: { type: ['integer', 'null'], minimum: 0, default: 1, format: 'int32' },
        mode: { const: 'fast' },
        tags: { type: 'array' },
        kind: { enum: ['a', 'b', null] },
      },
      required: ['path', 'ghost', 'path'],
      additionalProperties: false,
    });
    expect(cleaned).toEqual({
      type: 'object',
      properties: {
        path: { type: 'string', description: 'file' },
        when: { type: 'string', format: 'date-time' },
        count: { type: 'integer', nullable: true, minimum: 0, format: 'int32' },
        mode: { type: 'string', enum: ['fast'] },
        tags: { type: 'array', items: { type: 'string' } },
        kind: { type: 'string', enum: ['a', 'b'] },
      },
      required: ['path'],
    });
  });

  it('resolves local $refs, merges allOf and maps oneOf/anyOf with null to nullable', () => {
    const cleaned = cleanJsonSchema({
      type: 'object',
      $defs: { Point: { type: 'object', properties: { x: { type: 'number' } }, required: ['x'] } },
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
        loop: { $ref: '#/$defs/Missing' },
      },
    });
    expect(cleaned.properties).toEqual({
      p: { type: 'object', properties: { x: { type: 'number' } }, required: ['x'], description: 'a point' },
      q: { type: 'string', nullable: true },
      r: { anyOf: [{ type: 'string' }, { type: 'number' }] },
      s: { type: 'object', properties: { a: { type: 'string' }, b: { type: 'string' } }, required: ['b'] },
      loop: { type: 'object' },
    });
  });

  it('survives self-referencing schemas', () => {
    const cleaned = cleanJsonSchema({
      $ref: '#/definitions/Node',
      definitions: { Node: { type: 'object', properties: { next: { $ref: '#/definitions/Node' } } } },
    });
    expect(cleaned.type).toBe('object');
    expect(JSON.stringify(cleaned).length).toBeLessThan(100_000);
  });

  it('never throws and never leaves a rejected keyword, whatever the input', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 5 }), (v) => {
        const out = cleanJsonSchema(v);
        const keys = keysDeep(out);
        for (const k of DROPPED) expect(keys.has(k)).toBe(false);
        expect(typeof out.type === 'string' || Array.isArray(out.anyOf)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});

describe('ids, reasons, usage', () => {
  it('keeps upstream tool ids and derives stable ones otherwise', () => {
    expect(stableToolCallId('call_', 'up-1', 'r', 0, 'f')).toBe('up-1');
    const a = stableToolCallId('call_', undefined, 'resp', 0, 'f');
    expect(a).toMatch(/^call_[0-9a-f]{24}$/);
    expect(stableToolCallId('call_', undefined, 'resp', 0, 'f')).toBe(a);
    expect(stableToolCallId('call_', undefined, 'resp', 1, 'f')).not.toBe(a);
    expect(stableToolCallId('toolu_', '', 'resp', 0, 'f')).toMatch(/^toolu_/);
  });

  it('maps finish reasons', () => {
    expect(stopKindOf('STOP', false)).toBe('stop');
    expect(stopKindOf('STOP', true)).toBe('tool_use');
    expect(stopKindOf(undefined, true)).toBe('tool_use');
    expect(stopKindOf('MAX_TOKENS', true)).toBe('max_tokens');
    expect(stopKindOf('SAFETY', false)).toBe('safety');
    expect(stopKindOf('MALFORMED_FUNCTION_CALL', false)).toBe('error');
  });

  it('counts reasoning as output and caps cached tokens at the prompt', () => {
    expect(
      normalizeUsage({
        promptTokenCount: 10,
        candidatesTokenCount: 5,
        thoughtsTokenCount: 3,
        cachedContentTokenCount: 4,
      }),
    ).toEqual({
      inputTokens: 10,
      cachedInputTokens: 4,
      outputTokens: 8,
      reasoningTokens: 3,
      totalTokens: 18,
    });
    expect(normalizeUsage(undefined).totalTokens).toBe(0);
  });
});

describe('session keys', () => {
  it('prefers the header, then the client id, then the prompt', () => {
    const base = { system: 'sys', firstUserText: 'hello' };
    const byPrompt = deriveSessionKey(base);
    expect(deriveSessionKey({ ...base })).toBe(byPrompt);
    expect(deriveSessionKey({ ...base, firstUserText: 'other' })).not.toBe(byPrompt);
    const byClient = deriveSessionKey({ ...base, clientId: 'user@example.com' });
    expect(byClient).not.toBe(byPrompt);
    expect(byClient).not.toContain('example');
    expect(deriveSessionKey({ ...base, clientId: 'user@example.com', headerSessionId: 's1' })).toBe(
      deriveSessionKey({ headerSessionId: 's1' }),
    );
    expect(deriveSessionKey({ ...base, clientId: '  ' })).toBe(byPrompt);
  });
});

describe('helpers', () => {
  it('formats SSE frames', () => {
    expect(formatSse({ data: '{}' })).toBe('data: {}\n\n');
    expect(formatSse({ event: 'ping', data: '{"type":"ping"}' })).toBe(
      'event: ping\ndata: {"type":"ping"}\n\n',
    );
  });

  it('names the bad field in validation errors', () => {
    const schema = z.object({ a: z.object({ b: z.number() }) });
    try {
      parseBody(schema, { a: { b: 'x' } }, 'thing');
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(RequestValidationError);
      const err = e as RequestValidationError;
      expect(err.field).toBe('a.b');
      expect(err.message).toMatch(/^Invalid thing: a\.b: /);
      expect(err.toClientError()).toEqual({ status: 400, message: err.message, param: 'a.b' });
    }
  });

  it('evicts the least recently used signature', () => {
    const c = new SignatureCache(2);
    c.set('a', '1');
    c.set('b', '2');
    expect(c.get('a')).toBe('1');
    c.set('c', '3');
    expect(c.get('b')).toBeUndefined();
    expect(c.get('a')).toBe('1');
    expect(c.size).toBe(2);
  });
});
