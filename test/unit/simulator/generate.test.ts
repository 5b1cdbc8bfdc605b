import { describe, expect, it } from 'vitest';
import { catalogModel, type CatalogModel } from '../../../src/core/catalog';
import {
  buildAnswer,
  sampleFromSchema,
  splitText,
  summarizeLastUserMessage,
} from '../../../src/simulator/generate';
import type { GenerateRequest } from '../../../src/simulator/wire';

const sonnet = catalogModel('claude-sonnet-4-6') as CatalogModel;
const sonnetThinking = catalogModel('claude-sonnet-4-6-thinking') as CatalogModel;
const image = catalogModel('gemini-3.1-flash-image') as CatalogModel;

function req(text: string, extra: Partial<GenerateRequest> = {}): GenerateRequest {
  return { contents: [{ role: 'user', parts: [{ text }] }], ...extra };
}

describe('deterministic answers', () => {
  it('echoes a summary of the last user message, split into chunks, with usage', () => {
    const a = buildAnswer(sonnet, req('What   is\nthe time?'), 3);
    expect(a.chunks.map((c) => c.map((p) => p.text).join('')).join('')).toBe(
      'Simulated claude-sonnet-4-6 reply to: "What is the time?"',
    );
    expect(a.chunks).toHaveLength(3);
    expect(a.usage.totalTokenCount).toBe(a.usage.promptTokenCount + a.usage.candidatesTokenCount);
    expect(a.usage.thoughtsTokenCount).toBeUndefined();
    expect(buildAnswer(sonnet, req('What   is\nthe time?'), 3)).toEqual(a);
  });

  it('summarises the last user turn, skipping model turns and cutting long text', () => {
    expect(
      summarizeLastUserMessage([
        { role: 'user', parts: [{ text: 'first' }] },
        { role: 'model', parts: [{ text: 'reply' }] },
      ]),
    ).toBe('first');
    expect(summarizeLastUserMessage([{ role: 'user', parts: [{ text: 'x'.repeat(200) }] }])).toHaveLength(80);
  });

  it('adds a signed thought part for thinking models and when thinkingConfig asks', () => {
    const a = buildAnswer(sonnetThinking, req('hi'), 2);
    expect(a.chunks[0]?.[0]).toMatchObject({ thought: true, text: 'Thinking about the request: "hi".' });
    expect(a.chunks[0]?.[0]?.thoughtSignature).toMatch(/^[A-Za-z0-9+/]+=*$/);
    expect(a.usage.thoughtsTokenCount).toBeGreaterThan(0);
    const asked = buildAnswer(
      sonnet,
      req('hi', { generationConfig: { thinkingConfig: { includeThoughts: true } } }),
      2,
    );
    expect(asked.chunks[0]?.[0]?.thought).toBe(true);
    const off = buildAnswer(
      sonnetThinking,
      req('hi', { generationConfig: { thinkingConfig: { includeThoughts: false } } }),
      2,
    );
    expect(off.chunks.flat().some((p) => p.thought)).toBe(false);
    const noThinking = buildAnswer(
      image,
      req('hi', { generationConfig: { thinkingConfig: { includeThoughts: true } } }),
      2,
    );
    expect(noThinking.chunks.flat().some((p) => p.thought)).toBe(false);
  });

  it('calls the function the prompt asks for with arguments matching its schema', () => {
    const tools = [
      {
        functionDeclarations: [
          {
            name: 'get_weather',
            parameters: {
              type: 'OBJECT',
              properties: {
                city: { type: 'STRING' },
                unit: { type: 'string', enum: ['c', 'f'] },
                days: { type: 'integer', minimum: 1 },
                verbose: { type: 'boolean' },
              },
              required: ['city', 'unit', 'days'],
            },
          },
          { name: 'other' },
        ],
      },
    ];
    const a = buildAnswer(sonnet, req('weather?', { tools }), 3);
    expect(a.chunks).toEqual([
      [{ functionCall: { name: 'get_weather', args: { city: 'sample', unit: 'c', days: 1 } } }],
    ]);
    // After the tool result, a text answer.
    const after = buildAnswer(
      sonnet,
      {
        tools,
        contents: [
          { role: 'user', parts: [{ text: 'weather?' }] },
          { role: 'model', parts: [{ functionCall: { name: 'get_weather', args: {} } }] },
          { role: 'user', parts: [{ functionResponse: { name: 'get_weather', response: { t: 20 } } }] },
        ],
      },
      1,
    );
    expect(after.chunks[0]?.[0]?.text).toBe(
      'Simulated claude-sonnet-4-6 answer after get_weather returned "{"t":20}". You asked: "weather?"',
    );
    // Mode NONE: no call.
    const none = buildAnswer(
      sonnet,
      req('x', { tools, toolConfig: { functionCallingConfig: { mode: 'NONE' } } }),
      1,
    );
    expect(none.chunks[0]?.[0]?.functionCall).toBeUndefined();
  });

  it('samples JSON schemas roughly', () => {
    expect(sampleFromSchema({ type: 'array', items: { type: 'number' } })).toEqual([1]);
    expect(sampleFromSchema({ anyOf: [{ type: 'string' }, { type: 'null' }] })).toBe('sample');
    expect(sampleFromSchema({ type: ['null', 'boolean'] })).toBe(false);
    expect(sampleFromSchema({ properties: { a: { type: 'string' } } })).toEqual({ a: 'sample' });
  });

  it('splits text on word boundaries', () => {
    expect(splitText('a b c d', 2)).toEqual(['a b ', 'c d']);
    expect(splitText('one', 5)).toEqual(['one']);
    expect(splitText('a b', 5).join('')).toBe('a b');
  });
});
