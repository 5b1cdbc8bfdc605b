import { describe, expect, it } from 'vitest';
import { GeminiRequestSchema, GeminiResponseSchema } from '../../../src/upstream/gemini/schema';

describe('Gemini wire schemas', () => {
  it('accepts a request with every part kind and keeps unknown fields', () => {
    const body = {
      contents: [
        { role: 'user', parts: [{ text: 'hi' }, { inlineData: { mimeType: 'image/png', data: 'AAAA' } }] },
        {
          role: 'model',
          parts: [
            { text: 'plan', thought: true, thoughtSignature: 'sig' },
            { functionCall: { name: 'ls', args: { path: '.' }, id: 'call_1' } },
          ],
        },
        { role: 'user', parts: [{ functionResponse: { name: 'ls', response: { out: 'a' }, id: 'call_1' } }] },
      ],
      generationConfig: { thinkingConfig: { includeThoughts: true, thinkingBudget: 1024 }, seed: 7 },
      futureField: { x: 1 },
    };
    const parsed = GeminiRequestSchema.parse(body);
    expect(parsed).toEqual(body);
  });

  it('names the field that is wrong', () => {
    const r = GeminiRequestSchema.safeParse({ contents: [{ role: 'user', parts: [{ text: 5 }] }] });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.path).toEqual(['contents', 0, 'parts', 0, 'text']);
  });

  it('accepts a response chunk with usage and unknown finish reasons', () => {
    const chunk = {
      candidates: [
        { content: { role: 'model', parts: [{ text: 'x' }] }, finishReason: 'NEW_REASON', index: 0 },
      ],
      usageMetadata: { promptTokenCount: 3, candidatesTokenCount: 1, totalTokenCount: 4 },
      modelVersion: 'gemini-3-pro-high',
      responseId: 'r1',
    };
    expect(GeminiResponseSchema.parse(chunk)).toEqual(chunk);
  });
});
