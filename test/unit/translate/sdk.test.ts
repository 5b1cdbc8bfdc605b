/**
 * The official SDKs parse what the translators produce: each client gets a fetch function that runs
 * the request through our request translator, answers from a Gemini fixture, and writes the answer
 * (JSON or SSE) with our response translators. No network: these are the SDKs' own parsers at work.
 */
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import {
  AnthropicStreamTranslator,
  anthropicErrorBody,
  toAnthropicMessage,
  translateAnthropicRequest,
} from '../../../src/proxy/translate/anthropic';
import {
  type ClientEvent,
  formatSse,
  RequestValidationError,
  SignatureCache,
} from '../../../src/proxy/translate/common';
import {
  OpenAiStreamTranslator,
  openAiErrorBody,
  toOpenAiCompletion,
  translateOpenAiRequest,
} from '../../../src/proxy/translate/openai';
import type { GeminiResponse } from '../../../src/upstream/gemini/schema';
import { geminiResponse, geminiStream } from './fixtures';

type Answer = { whole: GeminiResponse; chunks: GeminiResponse[]; failAfter?: number };

function sse(events: ClientEvent[]): Response {
  return new Response(events.map(formatSse).join(''), { headers: { 'content-type': 'text/event-stream' } });
}

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
}

function bodyOf(init: RequestInit | undefined): unknown {
  return JSON.parse(typeof init?.body === 'string' ? init.body : '{}');
}

function openAiClient(answer: Answer, seen: unknown[]): OpenAI {
  const sigs = new SignatureCache();
  return new OpenAI({
    apiKey: 'local-test-key',
    baseURL: 'http://127.0.0.1:1/v1',
    maxRetries: 0,
    fetch: async (_url: string | URL | Request, init?: RequestInit) => {
      let t;
      try {
        t = translateOpenAiRequest(bodyOf(init), { signatures: sigs });
      } catch (e) {
        if (e instanceof RequestValidationError) return json(400, openAiErrorBody(e.toClientError()));
        throw e;
      }
      seen.push(t.request);
      const opts = { model: t.model, created: 1_790_000_000, signatures: sigs };
      if (!t.stream) return json(200, toOpenAiCompletion(answer.whole, opts));
      const tr = new OpenAiStreamTranslator({ ...opts, includeUsage: t.includeUsage });
      const evs: ClientEvent[] = [];
      for (const [i, c] of answer.chunks.entries()) {
        if (answer.failAfter === i)
          return sse([...evs, ...tr.error({ status: 503, message: 'Upstream went away; retry.' })]);
        evs.push(...tr.push(c));
      }
      return sse([...evs, ...tr.end()]);
    },
  });
}

function anthropicClient(answer: Answer, seen: unknown[]): Anthropic {
  return new Anthropic({
    apiKey: 'local-test-key',
    baseURL: 'http://127.0.0.1:1',
    maxRetries: 0,
    fetch: async (_url: string | URL | Request, init?: RequestInit) => {
      let t;
      try {
        t = translateAnthropicRequest(bodyOf(init));
      } catch (e) {
        if (e instanceof RequestValidationError) return json(400, anthropicErrorBody(e.toClientError()));
        throw e;
      }
      seen.push(t.request);
      if (!t.stream) return json(200, toAnthropicMessage(answer.whole, { model: t.model }));
      const tr = new AnthropicStreamTranslator({ model: t.model });
      const evs: ClientEvent[] = [];
      for (const [i, c] of answer.chunks.entries()) {
        if (answer.failAfter === i)
          return sse([...evs, ...tr.error({ status: 529, message: 'Overloaded; retry.' })]);
        evs.push(...tr.push(c));
      }
      return sse([...evs, ...tr.end()]);
    },
  });
}

const TOOL_ANSWER: Answer = {
  whole: geminiResponse('gemini-response-thinking-tool'),
  chunks: geminiStream('gemini-stream-thinking-tool'),
};

const tools: OpenAI.Chat.Completions.ChatCompletionTool[] = [
  {
    type: 'function',
    function: { name: 'Read', parameters: { type: 'object', properties: { file_path: { type: 'string' } } } },
  },
  {
    type: 'function',
    function: { name: 'Bash', parameters: { type: 'object', properties: { command: { type: 'string' } } } },
  },
];

describe('openai SDK', () => {
  it('parses the non-streamed completion and the stream into the same message', async () => {
    const seen: unknown[] = [];
    const client = openAiClient(TOOL_ANSWER, seen);
    const messages: OpenAI.Chat.Completions.ChatCompletionMessageParam[] = [
      { role: 'system', content: 'be brief' },
      { role: 'user', content: 'fix the test' },
    ];
    const whole = await client.chat.completions.create({ model: 'claude-sonnet-4-6', messages, tools });
    const runner = client.chat.completions.stream({
      model: 'claude-sonnet-4-6',
      messages,
      tools,
      stream_options: { include_usage: true },
    });
    const contentDeltas: string[] = [];
    runner.on('content', (d) => contentDeltas.push(d));
    const streamed = await runner.finalChatCompletion();
    expect(seen).toHaveLength(2);
    const a = whole.choices[0]?.message;
    const b = streamed.choices[0]?.message;
    expect(b?.content).toBe(a?.content);
    expect(contentDeltas.join('')).toBe('Reading it now.');
    expect(b?.tool_calls).toEqual(a?.tool_calls);
    expect(a?.tool_calls?.map((c) => (c.type === 'function' ? c.function.name : ''))).toEqual([
      'Read',
      'Bash',
    ]);
    expect(streamed.choices[0]?.finish_reason).toBe('tool_calls');
    expect(streamed.usage?.total_tokens).toBe(1265);

    // Next turn, sent by the SDK with the tool results, reaches Gemini with the calls paired.
    await client.chat.completions.create({
      model: 'claude-sonnet-4-6',
      messages: [
        ...messages,
        a as OpenAI.Chat.Completions.ChatCompletionAssistantMessageParam,
        ...(a?.tool_calls ?? []).map((c) => ({ role: 'tool' as const, tool_call_id: c.id, content: 'ok' })),
      ],
      tools,
    });
    const last = seen[2] as {
      contents: Array<{ role: string; parts: Array<Record<string, { id?: string }>> }>;
    };
    expect(last.contents.map((c) => c.role)).toEqual(['user', 'model', 'user']);
    expect(last.contents[2]?.parts.map((p) => p.functionResponse?.id)).toEqual(
      a?.tool_calls?.map((c) => c.id),
    );
    expect(last.contents[1]?.parts[1]?.thoughtSignature).toBe('c2lnLWNhbGw=');
  });

  it('raises the SDK error types for a 400 and for a stream that fails midway', async () => {
    const client = openAiClient({ ...TOOL_ANSWER, failAfter: 2 }, []);
    const bad = client.chat.completions.create({
      model: 'm',
      messages: [{ role: 'user', content: 'x' }],
      n: 3,
    });
    await expect(bad).rejects.toBeInstanceOf(OpenAI.BadRequestError);
    await expect(bad).rejects.toThrow(/n = 1/);
    const stream = await client.chat.completions.create({
      model: 'm',
      messages: [{ role: 'user', content: 'x' }],
      stream: true,
    });
    const read = async () => {
      for await (const _chunk of stream) {
        // drain
      }
    };
    await expect(read()).rejects.toThrow(/Upstream went away/);
  });
});

describe('@anthropic-ai/sdk', () => {
  it('parses the non-streamed message and the stream into the same message', async () => {
    const client = anthropicClient(TOOL_ANSWER, []);
    const params: Anthropic.MessageCreateParams = {
      model: 'claude-sonnet-4-6-thinking',
      max_tokens: 4096,
      thinking: { type: 'enabled', budget_tokens: 2048 },
      messages: [{ role: 'user', content: 'fix the test' }],
      tools: [
        { name: 'Read', input_schema: { type: 'object', properties: { file_path: { type: 'string' } } } },
      ],
    };
    const whole = await client.messages.create({ ...params, stream: false });
    const stream = client.messages.stream(params);
    const thinking: string[] = [];
    stream.on('thinking', (d) => thinking.push(d));
    const streamed = await stream.finalMessage();
    expect(streamed.content).toEqual(whole.content);
    expect(thinking.join('')).toBe('I should read the file before answering.');
    expect(streamed.stop_reason).toBe('tool_use');
    expect(streamed.usage.output_tokens).toBe(65);
    expect(whole.content.map((b) => b.type)).toEqual([
      'thinking',
      'text',
      'thinking',
      'tool_use',
      'tool_use',
    ]);
  });

  it('raises the SDK error types for a 400 and for a stream that fails midway', async () => {
    const client = anthropicClient({ ...TOOL_ANSWER, failAfter: 3 }, []);
    const bad = client.messages.create({
      model: 'm',
      max_tokens: 0,
      messages: [{ role: 'user', content: 'x' }],
    });
    await expect(bad).rejects.toBeInstanceOf(Anthropic.BadRequestError);
    await expect(bad).rejects.toThrow(/max_tokens/);
    const stream = client.messages.stream({
      model: 'm',
      max_tokens: 10,
      messages: [{ role: 'user', content: 'x' }],
    });
    await expect(stream.finalMessage()).rejects.toThrow(/Overloaded; retry/);
  });
});
