/**
 * The Responses codec as the server uses it: translator notes reach the debug log, and the response
 * store keeps answers for previous_response_id within its bounds (idle time, store: false).
 */
import { describe, expect, it } from 'vitest';
import { RequestValidationError, SignatureCache } from '../../../src/proxy/translate/common';
import { RESPONSE_STORE_LIMITS, responsesCodec } from '../../../src/proxy/translate/responses';
import type { GeminiResponse } from '../../../src/upstream/gemini/schema';

const ANSWER: GeminiResponse = {
  candidates: [{ content: { role: 'model', parts: [{ text: 'Hi there' }] }, finishReason: 'STOP' }],
  responseId: 'r-1',
};

function setup() {
  let now = Date.UTC(2026, 0, 5, 9);
  const debug: string[] = [];
  const codec = responsesCodec({
    now: () => now,
    signatures: new SignatureCache(),
    debug: (line) => debug.push(line),
  });
  return { codec, debug, advance: (ms: number) => (now += ms) };
}

function answer(codec: ReturnType<typeof setup>['codec'], body: Record<string, unknown>): { id: string } {
  const t = codec.parse({ model: 'm', ...body });
  return codec.fromGemini(ANSWER, 'm', t) as { id: string };
}

describe('responsesCodec', () => {
  it('logs what the translator dropped at debug level', () => {
    const { codec, debug } = setup();
    codec.parse({ model: 'm', input: 'Hi', tools: [{ type: 'web_search' }] });
    expect(debug).toEqual([
      'responses: tools.0: built-in tool "web_search" dropped (the upstream has no equivalent)',
    ]);
    codec.parse({ model: 'm', input: 'Hi' });
    expect(debug).toHaveLength(1);
  });

  it('continues a stored response until it has been idle too long', () => {
    const { codec, advance } = setup();
    const first = answer(codec, { input: 'Hello' });
    expect(first.id).toMatch(/^resp_[0-9a-f]{32}$/);
    advance(RESPONSE_STORE_LIMITS.ttlMs - 1000);
    const t = codec.parse({ model: 'm', previous_response_id: first.id, input: 'And then?' });
    expect(t.request.contents.map((c) => c.parts[0]?.text)).toEqual(['Hello', 'Hi there', 'And then?']);
    expect(codec.stored?.get(first.id)).toMatchObject({ id: first.id, store: true });
    // Reading refreshed it; an idle hour later it is gone.
    advance(RESPONSE_STORE_LIMITS.ttlMs + 1);
    expect(() => codec.parse({ model: 'm', previous_response_id: first.id, input: 'x' })).toThrow(
      RequestValidationError,
    );
  });

  it('keeps nothing for store: false, and streamed answers like whole ones', () => {
    const { codec } = setup();
    const kept = answer(codec, { input: 'a', store: false });
    expect(codec.stored?.get(kept.id)).toBeUndefined();
    const t = codec.parse({ model: 'm', input: 'streamed', stream: true });
    const enc = codec.encoder('m', t);
    enc.push(ANSWER);
    const last = enc.end().at(-1);
    const id = (JSON.parse(last?.data ?? '{}') as { response: { id: string } }).response.id;
    expect(codec.stored?.get(id)).toMatchObject({ status: 'completed' });
    expect(codec.stored?.delete(id)).toBe(true);
    expect(codec.stored?.get(id)).toBeUndefined();
  });
});
