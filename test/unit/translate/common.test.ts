import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  deriveSessionKey,
  formatSse,
  normalizeUsage,
  parseBody,
  RequestValidationError,
  SignatureCache,
  stableToolCallId,
  stopKindOf,
} from '../../../src/proxy/translate/common';

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
