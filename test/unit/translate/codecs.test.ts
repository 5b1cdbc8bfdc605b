import { describe, expect, it } from 'vitest';
import { sessionHeader } from '../../../src/proxy/translate/codec';
import { createCodecs } from '../../../src/proxy/translate/codecs';
import { RequestValidationError } from '../../../src/proxy/translate/common';
import { fixture, geminiResponse, geminiStream, payloads } from './fixtures';

const NOW = 1_790_000_123_456;

describe('codecs for the routes', () => {
  const codecs = createCodecs({ now: () => NOW });

  it('OpenAI: parse, session key (header first), answer and stream', () => {
    const c = codecs.openai;
    const req = c.parse(fixture('openai-request-cline'));
    expect([c.model(req), c.stream(req)]).toEqual(['claude-sonnet-4-6', true]);
    expect(c.toGemini(req).contents).toHaveLength(3);
    const noHeader = c.sessionKey(req, {});
    expect(c.sessionKey(req, { 'x-session-id': ['abc', 'def'] })).toBe(
      c.sessionKey(req, { 'x-session-id': 'abc' }),
    );
    expect(c.sessionKey(req, { 'x-session-id': 'abc' })).not.toBe(noHeader);
    expect(c.sessionKey(req, { 'x-session-id': '  ' })).toBe(noHeader);
    const answer = c.fromGemini(geminiResponse('gemini-response-thinking-tool'), 'alias', req) as {
      created: number;
      model: string;
      choices: Array<{ message: { tool_calls: Array<{ id: string }> } }>;
    };
    expect(answer).toMatchObject({ created: Math.floor(NOW / 1000), model: 'alias' });
    // The shared store kept the call's signature for the next turn.
    const id = answer.choices[0]?.message.tool_calls[0]?.id ?? '';
    expect(codecs.signatures.get(id)).toBe('c2lnLWNhbGw=');
    const enc = c.encoder('alias', req);
    const events = [...geminiStream('gemini-stream-text').flatMap((ch) => enc.push(ch)), ...enc.end()];
    expect(payloads(events).at(-1)).toMatchObject({ choices: [], usage: { total_tokens: 15 } });
    expect(() => c.parse({ model: 'm' })).toThrow(RequestValidationError);
  });

  it('Anthropic: parse, count_tokens body without max_tokens, answer and stream', () => {
    const c = codecs.anthropic;
    const body = fixture('anthropic-request-claude-code');
    const req = c.parse(body);
    expect([c.model(req), c.stream(req)]).toEqual(['claude-sonnet-4-6-thinking', true]);
    delete body.max_tokens;
    expect(c.countTokens?.parse(body, undefined).request.contents).toEqual(c.toGemini(req).contents);
    expect(c.countTokens?.answer(42)).toEqual({ input_tokens: 42 });
    expect(c.fromGemini(geminiResponse('gemini-response-text'), 'alias', req)).toMatchObject({
      type: 'message',
      model: 'alias',
    });
    expect(c.encoder('alias', req).end()[0]?.event).toBe('message_start');
  });

  it('Gemini: validation only, session from the header, the sessionId or the prompt', () => {
    const c = codecs.gemini;
    const req = c.parse(fixture('gemini-request'));
    expect(c.toGemini(req)).toBe(req);
    const byPrompt = c.sessionKey(req, {});
    expect(c.sessionKey({ ...req, sessionId: 's-1' }, {})).not.toBe(byPrompt);
    expect(c.sessionKey(req, { 'x-session-id': 'h' })).not.toBe(byPrompt);
    expect(c.fromGemini(geminiResponse('gemini-response-text'), 'x', req)).toMatchObject({
      responseId: 'resp-text-1',
    });
    expect(c.encoder('x', req).push(geminiResponse('gemini-response-text'))).toHaveLength(1);
    expect(() => c.parse({ contents: [] })).toThrow(/contents/);
  });

  it('reads the session header', () => {
    expect(sessionHeader({})).toBeUndefined();
    expect(sessionHeader({ 'x-session-id': ' a ' })).toBe('a');
  });
});
