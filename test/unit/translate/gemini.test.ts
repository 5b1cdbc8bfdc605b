import { describe, expect, it } from 'vitest';
import type { RequestValidationError } from '../../../src/proxy/translate/common';
import {
  GeminiStreamTranslator,
  geminiErrorBody,
  geminiModelsList,
  toGeminiCountTokens,
  toGeminiResponse,
  translateGeminiCountTokens,
  geminiCodec,
} from '../../../src/proxy/translate/gemini';
import { GeminiModelsListSchema } from '../../../src/upstream/gemini/schema';
import { fixture, geminiResponse, geminiStream, payloads } from './fixtures';

describe('Gemini requests', () => {
  it('passes the request through, unknown fields included', () => {
    const body = { ...fixture('gemini-request'), labels: { team: 'a' } };
    const c = geminiCodec();
    const t = c.parse(body);
    expect(c.toGemini(t)).toEqual(body);
    expect(c.sessionKey(c.parse(body), {})).toBe(c.sessionKey(t, {}));
    expect(c.sessionKey(t, { 'x-session-id': 's' })).not.toBe(c.sessionKey(t, {}));
  });

  it('names the bad field', () => {
    const bad = (body: unknown, field: string) => {
      try {
        geminiCodec().parse(body);
        expect.unreachable();
      } catch (e) {
        expect((e as RequestValidationError).field).toBe(field);
      }
    };
    bad({ contents: [{ role: 'user', parts: [{ text: 1 }] }] }, 'contents.0.parts.0.text');
    bad({ contents: [] }, 'contents');
    bad({}, 'contents');
    bad(
      { contents: [{ parts: [] }], generationConfig: { maxOutputTokens: -1 } },
      'generationConfig.maxOutputTokens',
    );
  });

  it('handles countTokens both ways', () => {
    const contents = [{ role: 'user', parts: [{ text: 'hi' }] }];
    expect(translateGeminiCountTokens({ contents }, 'm')).toEqual({ model: 'm', request: { contents } });
    expect(
      translateGeminiCountTokens(
        {
          generateContentRequest: {
            model: 'models/m',
            contents,
            systemInstruction: { parts: [{ text: 's' }] },
          },
        },
        'm',
      ),
    ).toEqual({ model: 'm', request: { contents, systemInstruction: { parts: [{ text: 's' }] } } });
    expect(() => translateGeminiCountTokens({}, 'm')).toThrow(/contents/);
    expect(toGeminiCountTokens({ totalTokens: 7 })).toEqual({ totalTokens: 7 });
  });
});

describe('Gemini responses', () => {
  it('returns the public API shape, never the Cloud Code envelope', () => {
    const inner = geminiResponse('gemini-response-text');
    expect(toGeminiResponse(inner)).toEqual(inner);
    expect(toGeminiResponse({ response: inner, traceId: 't' } as never)).toEqual(inner);
    const { modelVersion: _m, ...noVersion } = inner;
    expect(toGeminiResponse(noVersion, 'gemini-3-pro-high').modelVersion).toBe('gemini-3-pro-high');
  });

  it('streams each chunk as one data frame and nothing after', () => {
    const chunks = geminiStream('gemini-stream-text');
    const t = new GeminiStreamTranslator();
    const events = [...chunks.flatMap((c) => t.push({ response: c, traceId: 'x' } as never)), ...t.end()];
    expect(events.every((e) => e.event === undefined)).toBe(true);
    expect(payloads(events)).toEqual(chunks);
    expect(t.usage?.totalTokens).toBe(15);
  });

  it('reports a failed stream and errors in the Google shape', () => {
    const t = new GeminiStreamTranslator();
    expect(t.error({ status: 429, message: 'out of quota' })).toEqual([
      {
        data: JSON.stringify({ error: { code: 429, message: 'out of quota', status: 'RESOURCE_EXHAUSTED' } }),
      },
    ]);
    expect(t.push(geminiResponse('gemini-response-text'))).toEqual([]);
    expect(geminiErrorBody({ status: 400, message: 'bad' }).error.status).toBe('INVALID_ARGUMENT');
    expect(geminiErrorBody({ status: 502, message: 'bad' }).error.status).toBe('INTERNAL');
  });

  it('lists models', () => {
    const l = geminiModelsList([
      {
        id: 'gemini-3-pro-high',
        displayName: 'Gemini 3 Pro (High)',
        provider: 'google',
        maxTokens: 1_048_576,
        maxOutputTokens: 65_536,
      },
    ]);
    expect(GeminiModelsListSchema.parse(l)).toEqual(l);
    expect(l.models[0]).toMatchObject({
      name: 'models/gemini-3-pro-high',
      inputTokenLimit: 1_048_576,
      outputTokenLimit: 65_536,
    });
  });
});
