import { describe, expect, it } from 'vitest';
import {
  GenerateContentEnvelopeSchema,
  parseUpstream,
  type GenerateContentResponse,
} from '../../../src/upstream/cloudcode/schemas';
import type { GeminiRequest, GeminiResponse } from '../../../src/upstream/gemini/schema';

describe('types line up with the Gemini wire schemas', () => {
  it('a client response is a GeminiResponse and a GeminiRequest is a client request', () => {
    const r: GenerateContentResponse = { candidates: [] };
    const asGemini: GeminiResponse = r;
    const req: GeminiRequest = { contents: [] };
    const asClient: Record<string, unknown> = req;
    expect([asGemini, asClient]).toHaveLength(2);
  });

  it('a candidate content without parts reads as an empty part list', () => {
    const env = parseUpstream(
      GenerateContentEnvelopeSchema,
      { response: { candidates: [{ content: { role: 'model' }, finishReason: 'STOP' }] } },
      'streamGenerateContent',
    );
    expect(env.response.candidates?.[0]?.content?.parts).toEqual([]);
  });
});
