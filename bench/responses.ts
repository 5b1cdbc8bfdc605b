/**
 * Responses API translation cost per request, on the body Codex CLI 0.171 really sends on its
 * defaults (62 kB: developer prompt, tools in additional_tools, one tool round trip): translating the
 * request beside the JSON.parse of the same body (which every request pays anyway), and translating a
 * streamed answer (thought, text, a tool call; 40 chunks) into `response.*` events beside the Chat
 * Completions stream translator on the same chunks.
 */
import { OpenAiStreamTranslator } from '../src/proxy/translate/openai';
import { ResponsesStreamTranslator, translateResponsesRequest } from '../src/proxy/translate/responses';
import type { GeminiResponse } from '../src/upstream/gemini/schema';
import codexBody from '../test/fixtures/translate/responses-request-codex-0.171.json';
import { consume } from './harness';
import type { BenchSuite } from './harness';

const RAW = JSON.stringify(codexBody);

function chunks(): GeminiResponse[] {
  const out: GeminiResponse[] = [];
  const part = (p: Record<string, unknown>): GeminiResponse => ({
    candidates: [{ content: { role: 'model', parts: [p] } }],
    responseId: 'bench-1',
  });
  for (let i = 0; i < 10; i++) out.push(part({ text: `thinking step ${i} `, thought: true }));
  for (let i = 0; i < 29; i++) out.push(part({ text: `word${i} ` }));
  out.push({
    candidates: [
      {
        content: {
          role: 'model',
          parts: [{ functionCall: { name: 'functions__exec', args: { input: 'ls' } } }],
        },
        finishReason: 'STOP',
      },
    ],
    usageMetadata: { promptTokenCount: 20_000, candidatesTokenCount: 300, thoughtsTokenCount: 100 },
    responseId: 'bench-1',
  });
  return out;
}

export const responsesSuite: BenchSuite = {
  name: 'responses',
  run(bench) {
    bench.run('baseline: JSON.parse of the Codex body', () => consume(JSON.parse(RAW)), {
      iterations: 2000,
      note: `${Math.round(RAW.length / 1024)} kB`,
    });
    bench.run(
      'translate the Codex request (parse + translate)',
      () => consume(translateResponsesRequest(JSON.parse(RAW))),
      {
        iterations: 2000,
      },
    );
    const t = translateResponsesRequest(JSON.parse(RAW));
    const stream = chunks();
    bench.run(
      'baseline: chat.completion.chunk stream, 40 chunks',
      () => {
        const s = new OpenAiStreamTranslator({ model: 'm', created: 0, includeUsage: true });
        for (const c of stream) consume(s.push(c));
        consume(s.end());
      },
      { iterations: 2000 },
    );
    bench.run(
      'response.* stream, 40 chunks (Codex tools echoed in 3 events)',
      () => {
        const s = new ResponsesStreamTranslator(t, { model: 'm', created: 0 });
        for (const c of stream) consume(s.push(c));
        consume(s.end());
      },
      { iterations: 2000 },
    );
  },
};
