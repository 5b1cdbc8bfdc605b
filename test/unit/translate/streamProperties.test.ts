/**
 * Property: however Gemini splits an answer into stream chunks, the client stream adds up to the
 * non-streamed translation of the whole answer (OpenAI and Anthropic formats).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  AnthropicStreamTranslator,
  accumulateAnthropicEvents,
  toAnthropicMessage,
} from '../../../src/proxy/translate/anthropic';
import { OpenAiStreamTranslator, toOpenAiCompletion } from '../../../src/proxy/translate/openai';
import type { GeminiPart, GeminiResponse } from '../../../src/upstream/gemini/schema';

const partArb: fc.Arbitrary<GeminiPart> = fc.oneof(
  fc.record({ text: fc.string({ minLength: 1, maxLength: 12 }) }),
  fc.record({ text: fc.string({ minLength: 1, maxLength: 12 }), thought: fc.constant(true) }),
  fc.record({
    text: fc.string({ minLength: 1, maxLength: 12 }),
    thought: fc.constant(true),
    thoughtSignature: fc.base64String({ minLength: 4, maxLength: 12 }),
  }),
  fc.record(
    {
      functionCall: fc.record({
        name: fc.constantFrom('Read', 'Bash', 'Edit'),
        args: fc.dictionary(fc.string(), fc.jsonValue()),
      }),
      thoughtSignature: fc.base64String({ minLength: 4, maxLength: 12 }),
    },
    { requiredKeys: ['functionCall'] },
  ),
);

const caseArb = fc.record({
  parts: fc.array(partArb, { maxLength: 8 }),
  /** Where to cut each text part in two (fraction of its length). */
  cuts: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 8, maxLength: 8 }),
  finishReason: fc.constantFrom('STOP', 'MAX_TOKENS', 'SAFETY', undefined),
});

function chunked(parts: GeminiPart[], cuts: number[], finishReason: string | undefined): GeminiResponse[] {
  const pieces: GeminiPart[] = [];
  parts.forEach((p, i) => {
    const text = p.text;
    if (p.functionCall || text === undefined || text.length < 2) {
      pieces.push(p);
      return;
    }
    const at = Math.max(1, Math.min(text.length - 1, Math.floor((cuts[i] ?? 0.5) * text.length)));
    const { thoughtSignature, ...rest } = p;
    pieces.push({ ...rest, text: text.slice(0, at) });
    pieces.push({
      ...rest,
      text: text.slice(at),
      ...(thoughtSignature === undefined ? {} : { thoughtSignature }),
    });
  });
  const usageMetadata = { promptTokenCount: 10, candidatesTokenCount: 5, totalTokenCount: 15 };
  const chunks: GeminiResponse[] = pieces.map((p) => ({
    responseId: 'r-prop',
    candidates: [{ content: { role: 'model', parts: [p] }, index: 0 }],
  }));
  chunks.push({
    responseId: 'r-prop',
    candidates: [
      { content: { role: 'model', parts: [] }, index: 0, ...(finishReason ? { finishReason } : {}) },
    ],
    usageMetadata,
  });
  return chunks;
}

function whole(parts: GeminiPart[], finishReason: string | undefined): GeminiResponse {
  return {
    responseId: 'r-prop',
    candidates: [{ content: { role: 'model', parts }, index: 0, ...(finishReason ? { finishReason } : {}) }],
    usageMetadata: { promptTokenCount: 10, candidatesTokenCount: 5, totalTokenCount: 15 },
  };
}

describe('stream = non-stream, for any chunking', () => {
  it('OpenAI', () => {
    fc.assert(
      fc.property(caseArb, ({ parts, cuts, finishReason }) => {
        const t = new OpenAiStreamTranslator({ model: 'm', created: 1, includeUsage: true });
        const events = [...chunked(parts, cuts, finishReason).flatMap((c) => t.push(c)), ...t.end()];
        expect(events.at(-1)?.data).toBe('[DONE]');
        let content = '';
        let reasoning = '';
        let finish: unknown;
        const calls: Array<{ id: string; type: 'function'; function: { name: string; arguments: string } }> =
          [];
        for (const e of events.slice(0, -1)) {
          const c = JSON.parse(e.data) as {
            choices: Array<{ delta: Record<string, unknown>; finish_reason: string | null }>;
          };
          for (const ch of c.choices) {
            if (ch.finish_reason) finish = ch.finish_reason;
            if (typeof ch.delta.content === 'string') content += ch.delta.content;
            if (typeof ch.delta.reasoning_content === 'string') reasoning += ch.delta.reasoning_content;
            type TC = { index: number; id?: string; function: { name?: string; arguments: string } };
            for (const tc of (ch.delta.tool_calls as TC[] | undefined) ?? []) {
              if (tc.id)
                calls[tc.index] = {
                  id: tc.id,
                  type: 'function',
                  function: { name: tc.function.name ?? '', arguments: '' },
                };
              const call = calls[tc.index];
              if (call) call.function.arguments += tc.function.arguments;
            }
          }
        }
        const expected = toOpenAiCompletion(whole(parts, finishReason), { model: 'm', created: 1 })
          .choices[0];
        expect(content).toBe(expected?.message.content ?? '');
        expect(reasoning).toBe(expected?.message.reasoning_content ?? '');
        expect(calls).toEqual(expected?.message.tool_calls ?? []);
        expect(finish).toBe(expected?.finish_reason);
      }),
      { numRuns: 200 },
    );
  });

  it('Anthropic', () => {
    fc.assert(
      fc.property(caseArb, ({ parts, cuts, finishReason }) => {
        const t = new AnthropicStreamTranslator({ model: 'm' });
        const events = [...chunked(parts, cuts, finishReason).flatMap((c) => t.push(c)), ...t.end()];
        // Blocks are well nested: every start is stopped before the next starts.
        let open: number | undefined;
        for (const e of events) {
          const d = JSON.parse(e.data) as { type: string; index?: number };
          if (d.type === 'content_block_start') {
            expect(open).toBeUndefined();
            open = d.index;
          } else if (d.type === 'content_block_stop') {
            expect(d.index).toBe(open);
            open = undefined;
          } else if (d.type === 'content_block_delta') {
            expect(d.index).toBe(open);
          }
        }
        expect(events.map((e) => e.event).slice(-2)).toEqual(['message_delta', 'message_stop']);
        const streamed = accumulateAnthropicEvents(events);
        const expected = toAnthropicMessage(whole(parts, finishReason), { model: 'm' });
        expect(streamed.content).toEqual(expected.content);
        expect(streamed.stop_reason).toBe(expected.stop_reason);
      }),
      { numRuns: 200 },
    );
  });
});
