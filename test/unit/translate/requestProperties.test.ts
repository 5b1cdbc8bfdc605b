/**
 * Properties of request translation over generated conversations: the result always validates as a
 * Gemini request, turns alternate between user and model, and every functionResponse answers a
 * functionCall with the same id and name earlier in the conversation.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { translateAnthropicRequest } from '../../../src/proxy/translate/anthropic';
import { translateOpenAiRequest } from '../../../src/proxy/translate/openai';
import { type GeminiRequest, GeminiRequestSchema } from '../../../src/upstream/gemini/schema';

const nameArb = fc.constantFrom('Read', 'Bash', 'Edit');
const argsArb = fc.dictionary(
  fc.string({ maxLength: 5 }),
  fc.oneof(fc.string(), fc.integer(), fc.boolean()),
  {
    maxKeys: 3,
  },
);

/** A conversation as a list of steps; tool results always answer the calls just made. */
const stepsArb = fc.array(
  fc.oneof(
    fc.record({ kind: fc.constant('user' as const), text: fc.string({ maxLength: 20 }) }),
    fc.record({ kind: fc.constant('assistant' as const), text: fc.string({ maxLength: 20 }) }),
    fc.record({
      kind: fc.constant('tools' as const),
      text: fc.string({ maxLength: 10 }),
      calls: fc.array(fc.record({ name: nameArb, args: argsArb, result: fc.string({ maxLength: 10 }) }), {
        minLength: 1,
        maxLength: 3,
      }),
    }),
  ),
  { minLength: 1, maxLength: 8 },
);

function checkInvariants(request: GeminiRequest): void {
  expect(GeminiRequestSchema.parse(request)).toEqual(request);
  const calls = new Map<string, string>();
  request.contents.forEach((c, i) => {
    expect(['user', 'model']).toContain(c.role);
    if (i > 0) expect(c.role).not.toBe(request.contents[i - 1]?.role);
    expect(c.parts.length).toBeGreaterThan(0);
    for (const p of c.parts) {
      if (p.text !== undefined && p.thought !== true) expect(p.text.length).toBeGreaterThan(0);
      if (p.functionCall) {
        expect(c.role).toBe('model');
        calls.set(p.functionCall.id ?? '', p.functionCall.name);
      }
      if (p.functionResponse) {
        expect(c.role).toBe('user');
        expect(calls.get(p.functionResponse.id ?? '')).toBe(p.functionResponse.name);
      }
    }
  });
}

describe('request translation invariants', () => {
  it('OpenAI conversations', () => {
    fc.assert(
      fc.property(stepsArb, (steps) => {
        let n = 0;
        const messages: unknown[] = [{ role: 'user', content: 'start' }];
        for (const s of steps) {
          if (s.kind === 'user') messages.push({ role: 'user', content: s.text });
          else if (s.kind === 'assistant') messages.push({ role: 'assistant', content: s.text });
          else {
            const ids = s.calls.map(() => `call_${n++}`);
            messages.push({
              role: 'assistant',
              content: s.text || null,
              tool_calls: s.calls.map((c, i) => ({
                id: ids[i],
                type: 'function',
                function: { name: c.name, arguments: JSON.stringify(c.args) },
              })),
            });
            s.calls.forEach((c, i) =>
              messages.push({ role: 'tool', tool_call_id: ids[i], content: c.result }),
            );
          }
        }
        checkInvariants(translateOpenAiRequest({ model: 'm', messages }).request);
      }),
      { numRuns: 150 },
    );
  });

  it('Anthropic conversations', () => {
    fc.assert(
      fc.property(stepsArb, (steps) => {
        let n = 0;
        const messages: unknown[] = [{ role: 'user', content: 'start' }];
        for (const s of steps) {
          if (s.kind === 'user') messages.push({ role: 'user', content: s.text });
          else if (s.kind === 'assistant') messages.push({ role: 'assistant', content: s.text });
          else {
            const ids = s.calls.map(() => `toolu_${n++}`);
            messages.push({
              role: 'assistant',
              content: [
                { type: 'thinking', thinking: s.text, signature: `sig${n}` },
                ...s.calls.map((c, i) => ({ type: 'tool_use', id: ids[i], name: c.name, input: c.args })),
              ],
            });
            messages.push({
              role: 'user',
              content: s.calls.map((c, i) => ({
                type: 'tool_result',
                tool_use_id: ids[i],
                content: c.result,
              })),
            });
          }
        }
        checkInvariants(translateAnthropicRequest({ model: 'm', max_tokens: 100, messages }).request);
      }),
      { numRuns: 150 },
    );
  });
});
