/**
 * The @google/genai SDK parses what the Gemini-format module produces: its fetch hook runs the
 * request through the Gemini codec and answers with our JSON or SSE frames.
 */
import { GoogleGenAI } from '@google/genai';
import { describe, expect, it } from 'vitest';
import { type ClientEvent, formatSse, RequestValidationError } from '../../../src/proxy/translate/common';
import { geminiCodec } from '../../../src/proxy/translate/gemini';
import { geminiResponse, geminiStream } from './fixtures';

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
}

function client(seen: Array<{ model: string; method: string; body: unknown }>): GoogleGenAI {
  const fetchHook = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
    const body: unknown = JSON.parse(typeof init?.body === 'string' ? init.body : '{}');
    const codec = geminiCodec();
    try {
      const m = /^\/v1(?:beta)?\/models\/([^/:]+):(\w+)$/.exec(url.pathname);
      if (!m) return json(404, codec.errorBody({ status: 404, message: `no route ${url.pathname}` }));
      const [, model = '', method = ''] = m;
      seen.push({ model, method, body });
      if (method === 'countTokens') {
        codec.countTokens?.parse(body, model);
        return json(200, codec.countTokens?.answer(11));
      }
      const t = codec.parse(body);
      if (method === 'generateContent') {
        return json(200, codec.fromGemini(geminiResponse('gemini-response-text'), model, t));
      }
      const tr = codec.encoder(model, t);
      const evs: ClientEvent[] = [
        ...geminiStream('gemini-stream-text').flatMap((c) => tr.push(c)),
        ...tr.end(),
      ];
      return new Response(evs.map(formatSse).join(''), { headers: { 'content-type': 'text/event-stream' } });
    } catch (e) {
      if (e instanceof RequestValidationError) return json(400, codec.errorBody(e.toClientError()));
      throw e;
    }
  };
  return new GoogleGenAI({
    apiKey: 'local-test-key',
    httpOptions: { baseUrl: 'http://127.0.0.1:1', fetch: fetchHook as typeof fetch },
  });
}

describe('@google/genai SDK', () => {
  it('parses generateContent, the SSE stream and countTokens', async () => {
    const seen: Array<{ model: string; method: string; body: unknown }> = [];
    const ai = client(seen);
    const whole = await ai.models.generateContent({
      model: 'gemini-3-pro-high',
      contents: 'Write a haiku about quotas.',
      config: {
        systemInstruction: 'You are a poet.',
        temperature: 0.5,
        thinkingConfig: { includeThoughts: true },
      },
    });
    expect(whole.text).toBe('Hello! How can I help?');
    expect(whole.usageMetadata?.totalTokenCount).toBe(19);

    let text = '';
    let finish: string | undefined;
    for await (const chunk of await ai.models.generateContentStream({
      model: 'gemini-3-pro-high',
      contents: 'go',
    })) {
      text += chunk.text ?? '';
      finish = chunk.candidates?.[0]?.finishReason ?? finish;
    }
    expect(text).toBe('Quota runs low, switch accounts.');
    expect(finish).toBe('MAX_TOKENS');

    const count = await ai.models.countTokens({ model: 'gemini-3-pro-high', contents: 'hello' });
    expect(count.totalTokens).toBe(11);
    expect(seen.map((s) => s.method)).toEqual(['generateContent', 'streamGenerateContent', 'countTokens']);
    expect(seen[0]?.body).toMatchObject({
      systemInstruction: { parts: [{ text: 'You are a poet.' }] },
      generationConfig: { temperature: 0.5, thinkingConfig: { includeThoughts: true } },
    });
  });

  it('surfaces a 400 naming the field through the SDK error', async () => {
    const seen: Array<{ model: string; method: string; body: unknown }> = [];
    const ai = client(seen);
    const call = ai.models.generateContent({
      model: 'gemini-3-pro-high',
      contents: [{ role: 'user', parts: [{ text: 'x' }] }],
      config: { maxOutputTokens: -5 },
    });
    await expect(call).rejects.toThrow(/generationConfig\.maxOutputTokens/);
    await expect(call).rejects.toMatchObject({ status: 400 });
    expect(seen).toHaveLength(1);
  });
});
