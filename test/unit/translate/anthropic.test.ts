import { describe, expect, it } from 'vitest';
import {
  AnthropicStreamTranslator,
  accumulateAnthropicEvents,
  anthropicErrorBody,
  anthropicModelsList,
  toAnthropicCountTokens,
  toAnthropicMessage,
  translateAnthropicCountTokens,
  translateAnthropicRequest,
} from '../../../src/proxy/translate/anthropic';
import { RequestValidationError, SignatureCache } from '../../../src/proxy/translate/common';
import { GeminiRequestSchema, type GeminiResponse } from '../../../src/upstream/gemini/schema';
import { fixture, geminiResponse, geminiStream, payloads } from './fixtures';

function expectInvalid(body: unknown, field: string, text?: RegExp): void {
  try {
    translateAnthropicRequest(body);
    expect.unreachable('the request should have been rejected');
  } catch (e) {
    expect(e).toBeInstanceOf(RequestValidationError);
    expect((e as RequestValidationError).field).toBe(field);
    if (text) expect((e as Error).message).toMatch(text);
  }
}

describe('Anthropic request → Gemini', () => {
  it('translates a Claude Code turn with thinking, tool_use and tool_result', () => {
    const t = translateAnthropicRequest(fixture('anthropic-request-claude-code'));
    expect(t.model).toBe('claude-sonnet-4-6-thinking');
    expect(t.stream).toBe(true);
    const r = t.request;
    expect(GeminiRequestSchema.parse(r)).toEqual(r);
    expect(r.systemInstruction?.parts).toEqual([
      { text: "You are Claude Code, Anthropic's official CLI for Claude." },
      { text: 'Working directory: /project' },
    ]);
    expect(r.contents).toEqual([
      { role: 'user', parts: [{ text: 'List the files in src/' }] },
      {
        role: 'model',
        parts: [
          {
            text: 'The user wants a listing. I will use the Bash tool.',
            thought: true,
            thoughtSignature: 'EqQBCkYIBxgCKkDsig1',
          },
          { text: 'Let me list them.' },
          {
            functionCall: {
              name: 'Bash',
              args: { command: 'ls src/', description: 'List files' },
              id: 'toolu_01A',
            },
          },
        ],
      },
      {
        role: 'user',
        parts: [
          { functionResponse: { name: 'Bash', response: { result: 'index.ts\nsum.ts' }, id: 'toolu_01A' } },
          { text: 'Now read sum.ts' },
        ],
      },
    ]);
    const decls = r.tools?.[0]?.functionDeclarations ?? [];
    expect(decls[0]?.parameters).toEqual({
      type: 'object',
      properties: {
        command: { type: 'string' },
        timeout: { type: 'number', minimum: 0 },
        description: { type: 'string' },
      },
      required: ['command'],
    });
    expect(decls[1]?.parameters).toEqual({
      type: 'object',
      properties: { file_path: { type: 'string' } },
      required: ['file_path'],
    });
    expect(r.toolConfig).toEqual({ functionCallingConfig: { mode: 'AUTO' } });
    expect(r.generationConfig).toEqual({
      maxOutputTokens: 32000,
      temperature: 1,
      thinkingConfig: { includeThoughts: true, thinkingBudget: 10000 },
    });
    // Claude Code's metadata.user_id keys the session, whatever the prompt.
    const other = fixture('anthropic-request-claude-code');
    other.system = 'different';
    expect(translateAnthropicRequest(other).sessionKey).toBe(t.sessionKey);
  });

  it('maps errors in tool results, images, tool_choice and stop sequences', () => {
    const t = translateAnthropicRequest({
      model: 'm',
      max_tokens: 100,
      top_k: 5,
      stop_sequences: ['\n\nHuman:'],
      tool_choice: { type: 'tool', name: 'Read' },
      tools: [
        { name: 'Read', input_schema: { type: 'object' } },
        { type: 'web_search_20250305', name: 'web_search' },
      ],
      messages: [
        { role: 'user', content: 'go' },
        { role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'Read', input: {} }] },
        {
          role: 'user',
          content: [
            {
              type: 'tool_result',
              tool_use_id: 't1',
              is_error: true,
              content: [
                { type: 'text', text: 'ENOENT' },
                { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'AAA=' } },
              ],
            },
          ],
        },
      ],
    });
    expect(t.request.contents[2]?.parts).toEqual([
      { functionResponse: { name: 'Read', response: { error: 'ENOENT' }, id: 't1' } },
      { inlineData: { mimeType: 'image/png', data: 'AAA=' } },
    ]);
    expect(t.request.tools?.[0]?.functionDeclarations?.map((d) => d.name)).toEqual(['Read']);
    expect(t.request.toolConfig).toEqual({
      functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['Read'] },
    });
    expect(t.request.generationConfig).toEqual({
      maxOutputTokens: 100,
      topK: 5,
      stopSequences: ['\n\nHuman:'],
    });
  });

  it("rejects bad input naming the field, in Anthropic's words", () => {
    const base = { model: 'm', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] };
    expectInvalid({ model: 'm', messages: base.messages }, 'max_tokens', /^max_tokens: Field required$/);
    expectInvalid(
      { ...base, messages: [{ role: 'developer', content: 'x' }] },
      'messages.0.role',
      /^messages\.0\.role: Input should be 'user', 'assistant' or 'system'$/,
    );
    expectInvalid(
      { ...base, messages: [{ role: 'user', content: [{ type: 'text' }] }] },
      'messages.0.content.0.text',
      /^messages\.0\.content\.0\.text: Field required$/,
    );
    expectInvalid(
      {
        ...base,
        messages: [{ role: 'user', content: [{ type: 'tool_result', tool_use_id: 'x', content: 'r' }] }],
      },
      'messages.0.content.0.tool_use_id',
      /^messages\.0\.content\.0: unexpected `tool_use_id` found in `tool_result` blocks: x\. Each `tool_result` block must have a corresponding `tool_use` block in the previous message\.$/,
    );
    expectInvalid(
      {
        ...base,
        messages: [
          { role: 'user', content: [{ type: 'image', source: { type: 'file', file_id: 'file_1' } }] },
        ],
      },
      'messages.0.content.0.source',
      /base64 or URL/,
    );
    expectInvalid(
      { ...base, thinking: { type: 'enabled', budget_tokens: -1 } },
      'thinking.budget_tokens',
      /^thinking\.budget_tokens: Input should be greater than or equal to 0$/,
    );
    expectInvalid(
      { ...base, temperature: 1.5 },
      'temperature',
      /^temperature: Input should be less than or equal to 1$/,
    );
    expectInvalid({ ...base, messages: [] }, 'messages', /^messages: List should have at least 1 item/);
    expectInvalid(
      { ...base, messages: [{ role: 'system', content: 'only a system message' }] },
      'messages',
      /non-empty content/,
    );
  });

  it('keeps the thinking budget below max_tokens', () => {
    const base = { model: 'm', messages: [{ role: 'user', content: 'hi' }] };
    const gen = (max: number, budget: number) =>
      translateAnthropicRequest({
        ...base,
        max_tokens: max,
        thinking: { type: 'enabled', budget_tokens: budget },
      }).request.generationConfig;
    expect(gen(100, 10)?.thinkingConfig).toEqual({ includeThoughts: true, thinkingBudget: 10 });
    expect(gen(100, 500)?.thinkingConfig).toEqual({ includeThoughts: true, thinkingBudget: 99 });
    expect(gen(1, 500)?.thinkingConfig).toBeUndefined();
  });

  it('translates count_tokens and its answer', () => {
    const body = fixture('anthropic-request-claude-code');
    delete body.max_tokens;
    const c = translateAnthropicCountTokens(body);
    expect(c.model).toBe('claude-sonnet-4-6-thinking');
    expect(c.request.contents).toHaveLength(3);
    expect(c.request.generationConfig).toBeUndefined();
    expect(toAnthropicCountTokens({ totalTokens: 42 })).toEqual({ input_tokens: 42 });
    expect(() => translateAnthropicCountTokens({ model: 'm' })).toThrow(RequestValidationError);
  });
});

describe('Gemini response → message', () => {
  it('maps text and usage', () => {
    const m = toAnthropicMessage(geminiResponse('gemini-response-text'), { model: 'gemini-3-pro-high' });
    expect(m).toEqual({
      id: 'msg_resp-text-1',
      type: 'message',
      role: 'assistant',
      model: 'gemini-3-pro-high',
      content: [{ type: 'text', text: 'Hello! How can I help?' }],
      stop_reason: 'end_turn',
      stop_sequence: null,
      usage: {
        input_tokens: 12,
        output_tokens: 7,
        cache_read_input_tokens: 0,
        cache_creation_input_tokens: 0,
      },
    });
  });

  it('maps thinking with signatures and tool calls', () => {
    const sigs = new SignatureCache();
    const m = toAnthropicMessage(geminiResponse('gemini-response-thinking-tool'), {
      model: 'm',
      signatures: sigs,
    });
    expect(m.content).toEqual([
      {
        type: 'thinking',
        thinking: 'I should read the file before answering.',
        signature: 'c2lnLXRob3VnaHQ=',
      },
      { type: 'text', text: 'Reading it now.' },
      { type: 'thinking', thinking: '', signature: 'c2lnLWNhbGw=' },
      {
        type: 'tool_use',
        id: expect.stringMatching(/^toolu_[0-9a-f]{24}$/),
        name: 'Read',
        input: { file_path: 'src/sum.ts' },
      },
      { type: 'tool_use', id: 'toolu_upstream_2', name: 'Bash', input: { command: 'npm test' } },
    ]);
    expect(m.stop_reason).toBe('tool_use');
    expect(m.usage).toEqual({
      input_tokens: 200,
      output_tokens: 65,
      cache_read_input_tokens: 1000,
      cache_creation_input_tokens: 0,
    });
    const readId = (m.content[3] as { id: string }).id;
    expect(sigs.get(readId)).toBe('c2lnLWNhbGw=');

    // Round trip: the client sends the blocks back with the tool results.
    const next = translateAnthropicRequest(
      {
        model: 'm',
        max_tokens: 2000,
        messages: [
          { role: 'user', content: 'fix the test' },
          { role: 'assistant', content: m.content },
          {
            role: 'user',
            content: [
              { type: 'tool_result', tool_use_id: readId, content: 'export const sum = …' },
              { type: 'tool_result', tool_use_id: 'toolu_upstream_2', content: '1 failing' },
            ],
          },
        ],
      },
      { signatures: sigs },
    );
    expect(next.request.contents[1]?.parts).toEqual([
      {
        text: 'I should read the file before answering.',
        thought: true,
        thoughtSignature: 'c2lnLXRob3VnaHQ=',
      },
      { text: 'Reading it now.' },
      {
        functionCall: { name: 'Read', args: { file_path: 'src/sum.ts' }, id: readId },
        thoughtSignature: 'c2lnLWNhbGw=',
      },
      { functionCall: { name: 'Bash', args: { command: 'npm test' }, id: 'toolu_upstream_2' } },
    ]);
    expect(
      next.request.contents[2]?.parts.map((p) => [p.functionResponse?.id, p.functionResponse?.name]),
    ).toEqual([
      [readId, 'Read'],
      ['toolu_upstream_2', 'Bash'],
    ]);
    // Without the store, the empty thinking block's signature still lands on the call that follows it.
    const bare = translateAnthropicRequest({
      model: 'm',
      max_tokens: 10,
      messages: [
        { role: 'user', content: 'x' },
        { role: 'assistant', content: m.content.slice(2, 4) },
      ],
    });
    expect(bare.request.contents[1]?.parts[0]?.thoughtSignature).toBe('c2lnLWNhbGw=');
  });

  it('maps MAX_TOKENS and SAFETY', () => {
    const mk = (finishReason: string): GeminiResponse => ({
      candidates: [{ content: { role: 'model', parts: [{ text: 'x' }] }, finishReason }],
    });
    expect(toAnthropicMessage(mk('MAX_TOKENS'), { model: 'm' }).stop_reason).toBe('max_tokens');
    expect(toAnthropicMessage(mk('SAFETY'), { model: 'm' }).stop_reason).toBe('refusal');
  });
});

describe('Gemini stream → Messages events', () => {
  it('emits the exact event sequence and adds up to the non-streamed message', () => {
    const t = new AnthropicStreamTranslator({ model: 'm' });
    const events = [...geminiStream('gemini-stream-thinking-tool').flatMap((c) => t.push(c)), ...t.end()];
    for (const e of events) expect((JSON.parse(e.data) as { type: string }).type).toBe(e.event);
    const seq = payloads(events).map((p) => {
      const d = p.delta as { type?: string } | undefined;
      const b = p.content_block as { type?: string } | undefined;
      return [p.type, b?.type ?? d?.type, p.index].filter((x) => x !== undefined).join(':');
    });
    expect(seq).toEqual([
      'message_start',
      'ping',
      'content_block_start:thinking:0',
      'content_block_delta:thinking_delta:0',
      'content_block_delta:thinking_delta:0',
      'content_block_delta:signature_delta:0',
      'content_block_stop:0',
      'content_block_start:text:1',
      'content_block_delta:text_delta:1',
      'content_block_delta:text_delta:1',
      'content_block_stop:1',
      'content_block_start:thinking:2',
      'content_block_delta:signature_delta:2',
      'content_block_stop:2',
      'content_block_start:tool_use:3',
      'content_block_delta:input_json_delta:3',
      'content_block_stop:3',
      'content_block_start:tool_use:4',
      'content_block_delta:input_json_delta:4',
      'content_block_stop:4',
      'message_delta',
      'message_stop',
    ]);
    const start = payloads(events)[0] as {
      message: { usage: { input_tokens: number; output_tokens: number } };
    };
    expect(start.message.usage).toMatchObject({ input_tokens: 1200, output_tokens: 0 });
    const streamed = accumulateAnthropicEvents(events);
    const whole = toAnthropicMessage(geminiResponse('gemini-response-thinking-tool'), { model: 'm' });
    expect(streamed).toEqual({ ...whole, usage: streamed.usage });
    expect(streamed.usage).toEqual(whole.usage);
    expect(t.usage?.outputTokens).toBe(65);
  });

  it('reports errors as an error event, offers pings, and opens an empty stream', () => {
    const t = new AnthropicStreamTranslator({ model: 'm', id: 'msg_fixed' });
    expect(t.ping()).toEqual([{ event: 'ping', data: '{"type":"ping"}' }]);
    const evs = t.end();
    expect(evs.map((e) => e.event)).toEqual(['message_start', 'ping', 'message_delta', 'message_stop']);
    expect(accumulateAnthropicEvents(evs)).toMatchObject({
      id: 'msg_fixed',
      content: [],
      stop_reason: 'end_turn',
    });
    const f = new AnthropicStreamTranslator({ model: 'm' });
    f.push({ candidates: [{ content: { role: 'model', parts: [{ text: 'par' }] } }] });
    expect(f.error({ status: 529, message: 'Upstream overloaded; retry shortly.' })).toEqual([
      {
        event: 'error',
        data: JSON.stringify({
          type: 'error',
          error: { type: 'overloaded_error', message: 'Upstream overloaded; retry shortly.' },
        }),
      },
    ]);
    expect(f.end()).toEqual([]);
  });
});

describe('errors and models', () => {
  it('shapes error bodies for every status family', () => {
    const type = (status: number) => anthropicErrorBody({ status, message: 'x' }).error.type;
    expect([400, 401, 403, 404, 429, 500, 502, 503, 529].map(type)).toEqual([
      'invalid_request_error',
      'authentication_error',
      'permission_error',
      'not_found_error',
      'rate_limit_error',
      'api_error',
      'api_error',
      'overloaded_error',
      'overloaded_error',
    ]);
    expect(anthropicErrorBody({ status: 400, message: 'bad' })).toEqual({
      type: 'error',
      error: { type: 'invalid_request_error', message: 'bad' },
    });
  });

  it('lists models', () => {
    const l = anthropicModelsList(
      [{ id: 'claude-sonnet-4-6', displayName: 'Claude Sonnet 4.6', provider: 'anthropic' }],
      '2026-01-01T00:00:00Z',
    );
    expect(l).toEqual({
      data: [
        {
          type: 'model',
          id: 'claude-sonnet-4-6',
          display_name: 'Claude Sonnet 4.6',
          created_at: '2026-01-01T00:00:00Z',
        },
      ],
      has_more: false,
      first_id: 'claude-sonnet-4-6',
      last_id: 'claude-sonnet-4-6',
    });
  });
});
