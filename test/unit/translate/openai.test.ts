import { describe, expect, it } from 'vitest';
import { formatSse, RequestValidationError, SignatureCache } from '../../../src/proxy/translate/common';
import {
  OpenAiStreamTranslator,
  openAiErrorBody,
  openAiModelsList,
  toOpenAiCompletion,
  translateOpenAiRequest,
} from '../../../src/proxy/translate/openai';
import { GeminiRequestSchema, type GeminiResponse } from '../../../src/upstream/gemini/schema';
import { fixture, geminiResponse, geminiStream, payloads } from './fixtures';

function expectInvalid(body: unknown, field: string, text?: RegExp): void {
  try {
    translateOpenAiRequest(body);
    expect.unreachable('the request should have been rejected');
  } catch (e) {
    expect(e).toBeInstanceOf(RequestValidationError);
    expect((e as RequestValidationError).field).toBe(field);
    if (text) expect((e as Error).message).toMatch(text);
  }
}

describe('OpenAI request → Gemini', () => {
  it('translates a Cline tool round trip', () => {
    const sigs = new SignatureCache();
    sigs.set('call_abc123', 'sig-from-last-turn');
    const t = translateOpenAiRequest(fixture('openai-request-cline'), { signatures: sigs });
    expect(t.model).toBe('claude-sonnet-4-6');
    expect(t.stream).toBe(true);
    expect(t.includeUsage).toBe(true);
    expect(GeminiRequestSchema.parse(t.request)).toEqual(t.request);
    const r = t.request;
    expect(r.systemInstruction).toEqual({
      parts: [{ text: 'You are Cline, a highly skilled software engineer.' }],
    });
    expect(r.contents.map((c) => c.role)).toEqual(['user', 'model', 'user']);
    expect(r.contents[0]?.parts).toHaveLength(2);
    expect(r.contents[1]?.parts).toEqual([
      { text: "I'll read the file first." },
      {
        functionCall: { name: 'read_file', args: { path: 'src/sum.ts' }, id: 'call_abc123' },
        thoughtSignature: 'sig-from-last-turn',
      },
    ]);
    expect(r.contents[2]?.parts).toEqual([
      {
        functionResponse: {
          name: 'read_file',
          id: 'call_abc123',
          response: { result: 'export const sum = (a: number, b: number) => a - b;\n' },
        },
      },
    ]);
    const decls = r.tools?.[0]?.functionDeclarations ?? [];
    expect(decls.map((d) => d.name)).toEqual(['read_file', 'attempt_completion']);
    expect(decls[0]?.parameters).toEqual({
      type: 'object',
      properties: {
        path: { type: 'string', description: 'The path of the file to read (relative to the workspace)' },
        offset: { type: 'integer', nullable: true, minimum: 0 },
        encoding: { type: 'string', enum: ['utf8', 'base64'] },
      },
      required: ['path'],
    });
    expect(decls[1]?.parameters?.required).toEqual(['result']);
    expect(r.toolConfig).toEqual({ functionCallingConfig: { mode: 'AUTO' } });
    expect(r.generationConfig).toEqual({ maxOutputTokens: 8192, temperature: 0 });
  });

  it('translates images, json_schema, reasoning effort, stop and the user id', () => {
    const t = translateOpenAiRequest(fixture('openai-request-sdk'));
    expect(t.stream).toBe(false);
    expect(t.request.systemInstruction?.parts[0]?.text).toBe('Answer in JSON.');
    expect(t.request.contents[0]?.parts[1]).toEqual({
      inlineData: { mimeType: 'image/png', data: 'iVBORw0KGgo=' },
    });
    expect(t.request.generationConfig).toEqual({
      maxOutputTokens: 1024,
      topP: 0.9,
      stopSequences: ['END'],
      thinkingConfig: { includeThoughts: true, thinkingBudget: 2048 },
      responseMimeType: 'application/json',
      responseSchema: { type: 'object', properties: { label: { type: 'string' } }, required: ['label'] },
    });
    const same = translateOpenAiRequest({
      ...fixture('openai-request-sdk'),
      messages: [{ role: 'user', content: 'x' }],
    });
    expect(same.sessionKey).toBe(t.sessionKey); // keyed by `user`, not by the prompt
  });

  it('maps tool_choice variants', () => {
    const base = { model: 'm', messages: [{ role: 'user', content: 'hi' }] };
    expect(translateOpenAiRequest({ ...base, tool_choice: 'required' }).request.toolConfig).toEqual({
      functionCallingConfig: { mode: 'ANY' },
    });
    expect(translateOpenAiRequest({ ...base, tool_choice: 'none' }).request.toolConfig).toEqual({
      functionCallingConfig: { mode: 'NONE' },
    });
    expect(
      translateOpenAiRequest({ ...base, tool_choice: { type: 'function', function: { name: 'f' } } }).request
        .toolConfig,
    ).toEqual({ functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['f'] } });
    expect(translateOpenAiRequest({ ...base, reasoning_effort: 'none' }).request.generationConfig).toEqual({
      thinkingConfig: { includeThoughts: false, thinkingBudget: 0 },
    });
  });

  it('rejects bad input naming the field', () => {
    const base = { model: 'm', messages: [{ role: 'user', content: 'hi' }] };
    expectInvalid({ ...base, n: 2 }, 'n', /n = 1/);
    expectInvalid({ messages: base.messages }, 'model');
    expectInvalid({ ...base, messages: [] }, 'messages');
    expectInvalid({ ...base, messages: [{ role: 'wizard', content: 'x' }] }, 'messages.0.role');
    expectInvalid({ ...base, temperature: 3 }, 'temperature');
    expectInvalid(
      {
        ...base,
        messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://x/y.png' } }] }],
      },
      'messages.0.content.0.image_url.url',
      /data: URLs/,
    );
    expectInvalid(
      { ...base, messages: [...base.messages, { role: 'tool', tool_call_id: 'nope', content: 'x' }] },
      'messages.1.tool_call_id',
      /"nope"/,
    );
    expectInvalid(
      {
        ...base,
        messages: [
          {
            role: 'assistant',
            content: null,
            tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{bad' } }],
          },
        ],
      },
      'messages.0.tool_calls.0.function.arguments',
    );
    expectInvalid({ ...base, messages: [{ role: 'system', content: 'only system' }] }, 'messages');
    expectInvalid('not json object', '(body)');
  });
});

const CREATED = 1_790_000_000;

describe('Gemini response → chat.completion', () => {
  it('maps text, usage and finish reason', () => {
    const c = toOpenAiCompletion(geminiResponse('gemini-response-text'), {
      model: 'gemini-3-pro-high',
      created: CREATED,
    });
    expect(c).toEqual({
      id: 'chatcmpl-resp-text-1',
      object: 'chat.completion',
      created: CREATED,
      model: 'gemini-3-pro-high',
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: 'Hello! How can I help?', refusal: null },
          logprobs: null,
          finish_reason: 'stop',
        },
      ],
      usage: {
        prompt_tokens: 12,
        completion_tokens: 7,
        total_tokens: 19,
        prompt_tokens_details: { cached_tokens: 0 },
        completion_tokens_details: { reasoning_tokens: 0 },
      },
    });
  });

  it('maps reasoning, tool calls with stable ids and keeps call signatures', () => {
    const sigs = new SignatureCache();
    const resp = geminiResponse('gemini-response-thinking-tool');
    const c = toOpenAiCompletion(resp, { model: 'm', created: CREATED, signatures: sigs });
    const msg = c.choices[0]?.message;
    expect(msg?.content).toBe('Reading it now.');
    expect(msg?.reasoning_content).toBe('I should read the file before answering.');
    expect(msg?.tool_calls?.map((t) => [t.function.name, t.function.arguments])).toEqual([
      ['Read', '{"file_path":"src/sum.ts"}'],
      ['Bash', '{"command":"npm test"}'],
    ]);
    const [first, second] = msg?.tool_calls ?? [];
    expect(first?.id).toMatch(/^call_[0-9a-f]{24}$/);
    expect(second?.id).toBe('toolu_upstream_2');
    expect(
      toOpenAiCompletion(resp, { model: 'm', created: CREATED }).choices[0]?.message.tool_calls?.[0]?.id,
    ).toBe(first?.id);
    expect(sigs.get(first?.id ?? '')).toBe('c2lnLWNhbGw=');
    expect(c.choices[0]?.finish_reason).toBe('tool_calls');
    expect(c.usage).toMatchObject({
      prompt_tokens: 1200,
      completion_tokens: 65,
      total_tokens: 1265,
      prompt_tokens_details: { cached_tokens: 1000 },
      completion_tokens_details: { reasoning_tokens: 25 },
    });
    // The next request sends the signature back on the call it belongs to.
    const next = translateOpenAiRequest(
      {
        model: 'm',
        messages: [
          { role: 'user', content: 'fix it' },
          { role: 'assistant', content: msg?.content, tool_calls: msg?.tool_calls },
          { role: 'tool', tool_call_id: first?.id, content: 'file text' },
          { role: 'tool', tool_call_id: second?.id, content: 'tests pass' },
        ],
      },
      { signatures: sigs },
    );
    expect(next.request.contents[1]?.parts[1]?.thoughtSignature).toBe('c2lnLWNhbGw=');
    expect(next.request.contents[2]?.parts.map((p) => p.functionResponse?.name)).toEqual(['Read', 'Bash']);
  });

  it('maps MAX_TOKENS, SAFETY and prompt blocks', () => {
    const mk = (finishReason: string): GeminiResponse => ({
      candidates: [{ content: { role: 'model', parts: [{ text: 'x' }] }, finishReason }],
    });
    const reason = (r: GeminiResponse) =>
      toOpenAiCompletion(r, { model: 'm', created: 0 }).choices[0]?.finish_reason;
    expect(reason(mk('MAX_TOKENS'))).toBe('length');
    expect(reason(mk('SAFETY'))).toBe('content_filter');
    expect(reason({ promptFeedback: { blockReason: 'SAFETY' } })).toBe('content_filter');
  });
});

function runStream(chunks: GeminiResponse[], includeUsage: boolean) {
  const t = new OpenAiStreamTranslator({ model: 'm', created: CREATED, includeUsage });
  const events = [...chunks.flatMap((c) => t.push(c)), ...t.end()];
  return { t, events };
}

describe('Gemini stream → chat.completion.chunk', () => {
  it('emits role, deltas, finish, usage and [DONE] in order, adding up to the non-streamed answer', () => {
    const chunks = geminiStream('gemini-stream-thinking-tool');
    const { t, events } = runStream(chunks, true);
    expect(events.every((e) => e.event === undefined)).toBe(true);
    expect(events[events.length - 1]?.data).toBe('[DONE]');
    const frames = payloads(events);
    type Chunk = {
      id: string;
      object: string;
      choices: Array<{ delta: Record<string, unknown>; finish_reason: string | null }>;
      usage?: unknown;
    };
    const cs = frames as unknown as Chunk[];
    expect(cs.every((c) => c.object === 'chat.completion.chunk' && c.id === 'chatcmpl-resp-tool-1')).toBe(
      true,
    );
    const kinds = cs.map((c) => {
      const ch = c.choices[0];
      if (!ch) return 'usage';
      if (ch.finish_reason) return `finish:${ch.finish_reason}`;
      return Object.keys(ch.delta).join('+');
    });
    expect(kinds).toEqual([
      'role+content',
      'reasoning_content',
      'reasoning_content',
      'content',
      'content',
      'tool_calls',
      'tool_calls',
      'tool_calls',
      'tool_calls',
      'finish:tool_calls',
      'usage',
    ]);
    const deltas = cs.flatMap((c) => c.choices.map((ch) => ch.delta));
    const content = deltas.map((d) => (typeof d.content === 'string' ? d.content : '')).join('');
    const reasoning = deltas
      .map((d) => (typeof d.reasoning_content === 'string' ? d.reasoning_content : ''))
      .join('');
    type TC = { index: number; id?: string; function: { name?: string; arguments: string } };
    const calls: Array<{ id: string; name: string; args: string }> = [];
    for (const d of deltas) {
      for (const tc of (d.tool_calls as TC[] | undefined) ?? []) {
        if (tc.id) calls[tc.index] = { id: tc.id, name: tc.function.name ?? '', args: '' };
        const call = calls[tc.index];
        if (call) call.args += tc.function.arguments;
      }
    }
    const whole = geminiResponse('gemini-response-thinking-tool');
    const expected = toOpenAiCompletion(whole, { model: 'm', created: CREATED }).choices[0]?.message;
    expect(content).toBe(expected?.content);
    expect(reasoning).toBe(expected?.reasoning_content);
    expect(calls).toEqual(
      expected?.tool_calls?.map((c) => ({ id: c.id, name: c.function.name, args: c.function.arguments })),
    );
    expect(cs[cs.length - 1]?.usage).toEqual(
      toOpenAiCompletion(whole, { model: 'm', created: CREATED }).usage,
    );
    expect(t.usage?.totalTokens).toBe(1265);
  });

  it('omits the usage chunk unless asked and maps MAX_TOKENS to length', () => {
    const { events } = runStream(geminiStream('gemini-stream-text'), false);
    const cs = payloads(events) as Array<{ choices: Array<{ finish_reason: string | null }> }>;
    expect(cs.at(-1)?.choices[0]?.finish_reason).toBe('length');
    expect(cs.every((c) => c.choices.length === 1)).toBe(true);
    expect(events.at(-1)?.data).toBe('[DONE]');
  });

  it('still opens and closes an empty stream, and reports errors without [DONE]', () => {
    const empty = new OpenAiStreamTranslator({ model: 'm', created: 0, includeUsage: false });
    const evs = empty.end();
    expect(evs.map((e) => e.data === '[DONE]')).toEqual([false, false, true]);
    expect(empty.end()).toEqual([]);
    const failing = new OpenAiStreamTranslator({ model: 'm', created: 0, includeUsage: true });
    failing.push({ candidates: [{ content: { role: 'model', parts: [{ text: 'a' }] } }] });
    const err = failing.error({ status: 429, message: 'All accounts are out of quota.' });
    expect(err).toEqual([
      {
        data: JSON.stringify({
          error: {
            message: 'All accounts are out of quota.',
            type: 'rate_limit_error',
            code: 'rate_limit_exceeded',
            param: null,
          },
        }),
      },
    ]);
    expect(failing.end()).toEqual([]);
    expect(formatSse(err[0] ?? { data: '' })).toMatch(/^data: \{"error"/);
  });
});

describe('errors and models', () => {
  it('shapes error bodies', () => {
    expect(openAiErrorBody({ status: 400, message: 'bad', param: 'messages.0.role' })).toEqual({
      error: { message: 'bad', type: 'invalid_request_error', code: null, param: 'messages.0.role' },
    });
    expect(openAiErrorBody({ status: 401, message: 'key' }).error.type).toBe('authentication_error');
    expect(openAiErrorBody({ status: 502, message: 'up' }).error.type).toBe('server_error');
  });

  it('lists models', () => {
    expect(openAiModelsList([{ id: 'gemini-3-pro-high', displayName: 'G', provider: 'google' }], 5)).toEqual({
      object: 'list',
      data: [{ id: 'gemini-3-pro-high', object: 'model', created: 5, owned_by: 'google' }],
    });
  });
});
