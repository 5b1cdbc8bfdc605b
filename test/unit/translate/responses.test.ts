/**
 * The Responses translator against the public API reference: every input item type and every event
 * type the proxy emits is typed with the `openai` package's own definitions, so a shape the API does
 * not define does not compile, and a new item type in the SDK makes the table below incomplete.
 */
import { accumulateResponse } from 'openai/lib/responses/ResponseAccumulator';
import type {
  Response as SdkResponse,
  ResponseInputItem,
  ResponseStreamEvent,
} from 'openai/resources/responses/responses';
import { describe, expect, it } from 'vitest';
import {
  type ClientEvent,
  RequestValidationError,
  SignatureCache,
} from '../../../src/proxy/translate/common';
import {
  decodeReasoningCarrier,
  encodeReasoningCarrier,
  flatToolName,
  responsesErrorCode,
  ResponsesStreamTranslator,
  toResponsesObject,
  translateResponsesRequest,
} from '../../../src/proxy/translate/responses';
import { GeminiRequestSchema, type GeminiResponse } from '../../../src/upstream/gemini/schema';
import { fixture, geminiResponse, geminiStream } from './fixtures';

type ItemType = NonNullable<ResponseInputItem['type']>;
type ItemOf<K extends ItemType> = Extract<ResponseInputItem, { type?: K | null | undefined }>;

const PNG = 'data:image/png;base64,iVBORw0KGgo=';
const carrier = encodeReasoningCarrier({ p: [{ t: 'Think first.', s: 'sig-thought' }], n: 'sig-next' });

/** One valid example of every input item type the API reference defines. */
const EVERY_ITEM: { [K in ItemType]: ItemOf<K> } = {
  message: {
    type: 'message',
    role: 'user',
    content: [
      { type: 'input_text', text: 'Look at this' },
      { type: 'input_image', detail: 'auto', image_url: PNG },
      { type: 'input_file', filename: 'a.pdf', file_data: 'data:application/pdf;base64,JVBERi0=' },
    ],
  },
  reasoning: {
    type: 'reasoning',
    id: 'rs_1',
    summary: [{ type: 'summary_text', text: 'Think first.' }],
    encrypted_content: carrier,
  },
  function_call: {
    type: 'function_call',
    call_id: 'call_1',
    name: 'read',
    namespace: 'fs',
    arguments: '{"path":"a.ts"}',
  },
  function_call_output: {
    type: 'function_call_output',
    call_id: 'call_1',
    output: [
      { type: 'input_text', text: 'file text' },
      { type: 'input_image', image_url: PNG },
    ],
  },
  custom_tool_call: {
    type: 'custom_tool_call',
    call_id: 'call_2',
    name: 'apply_patch',
    input: '*** Begin Patch',
  },
  custom_tool_call_output: { type: 'custom_tool_call_output', call_id: 'call_2', output: 'Done' },
  file_search_call: { type: 'file_search_call', id: 'fs_1', queries: ['x'], status: 'completed' },
  computer_call: {
    type: 'computer_call',
    id: 'cu_1',
    call_id: 'call_cu',
    pending_safety_checks: [],
    status: 'completed',
    action: { type: 'click', button: 'left', x: 1, y: 2 },
  },
  computer_call_output: {
    type: 'computer_call_output',
    call_id: 'call_cu',
    output: { type: 'computer_screenshot', image_url: PNG },
  },
  web_search_call: {
    type: 'web_search_call',
    id: 'ws_1',
    status: 'completed',
    action: { type: 'search', query: 'q' },
  },
  tool_search_call: { type: 'tool_search_call', arguments: { query: 'x' } },
  tool_search_output: { type: 'tool_search_output', tools: [] },
  additional_tools: { type: 'additional_tools', role: 'developer', tools: [] },
  compaction: { type: 'compaction', encrypted_content: 'gAAAA-opaque' },
  image_generation_call: { type: 'image_generation_call', id: 'ig_1', result: null, status: 'completed' },
  code_interpreter_call: {
    type: 'code_interpreter_call',
    id: 'ci_1',
    code: 'print(1)',
    container_id: 'c1',
    outputs: null,
    status: 'completed',
  },
  local_shell_call: {
    type: 'local_shell_call',
    id: 'ls_1',
    call_id: 'call_ls',
    status: 'completed',
    action: { type: 'exec', command: ['ls'], env: {} },
  },
  local_shell_call_output: { type: 'local_shell_call_output', id: 'call_ls', output: 'a.ts' },
  shell_call: { type: 'shell_call', call_id: 'call_sh', action: { commands: ['ls'] } },
  shell_call_output: {
    type: 'shell_call_output',
    call_id: 'call_sh',
    output: [{ stdout: 'a.ts', stderr: '', outcome: { type: 'exit', exit_code: 0 } }],
  },
  apply_patch_call: {
    type: 'apply_patch_call',
    call_id: 'call_ap',
    status: 'completed',
    operation: { type: 'delete_file', path: 'a.ts' },
  },
  apply_patch_call_output: { type: 'apply_patch_call_output', call_id: 'call_ap', status: 'completed' },
  mcp_list_tools: { type: 'mcp_list_tools', id: 'ml_1', server_label: 's', tools: [] },
  mcp_approval_request: {
    type: 'mcp_approval_request',
    id: 'ma_1',
    arguments: '{}',
    name: 't',
    server_label: 's',
  },
  mcp_approval_response: { type: 'mcp_approval_response', approval_request_id: 'ma_1', approve: true },
  mcp_call: { type: 'mcp_call', id: 'mc_1', arguments: '{}', name: 't', server_label: 's', output: 'ok' },
  compaction_trigger: { type: 'compaction_trigger' },
  item_reference: { type: 'item_reference', id: 'msg_stored' },
  program: { type: 'program', id: 'p_1', call_id: 'call_p', code: 'x', fingerprint: 'f' },
  program_output: { type: 'program_output', id: 'po_1', call_id: 'call_p', result: 'x', status: 'completed' },
  configuration_update: { type: 'configuration_update', id: 'cu_1', reasoning: { effort: 'low' } },
};

const TRANSLATED: ReadonlySet<ItemType> = new Set([
  'message',
  'reasoning',
  'function_call',
  'function_call_output',
  'custom_tool_call',
  'custom_tool_call_output',
  'additional_tools',
]);

function expectInvalid(body: unknown, field: string, text?: RegExp): void {
  try {
    translateResponsesRequest(body);
    expect.unreachable('the request should have been rejected');
  } catch (e) {
    expect(e).toBeInstanceOf(RequestValidationError);
    expect((e as RequestValidationError).field).toBe(field);
    if (text) expect((e as Error).message).toMatch(text);
  }
}

const TOOLS = [
  {
    type: 'function',
    name: 'shell_command',
    parameters: { type: 'object', properties: { command: { type: 'string' } } },
  },
  {
    type: 'namespace',
    name: 'fs',
    description: 'File tools',
    tools: [
      {
        type: 'function',
        name: 'read',
        parameters: { type: 'object', properties: { path: { type: 'string' } } },
      },
    ],
  },
  {
    type: 'custom',
    name: 'apply_patch',
    description: 'Edit files',
    format: { type: 'grammar', syntax: 'lark', definition: 'start: "x"' },
  },
  { type: 'web_search' },
  { type: 'local_shell' },
];

describe('Responses request → Gemini', () => {
  it('accepts every input item type of the API reference: translated, or dropped with a note', () => {
    for (const [type, item] of Object.entries(EVERY_ITEM) as Array<[ItemType, ResponseInputItem]>) {
      if (type === 'item_reference') continue;
      // Calls need their outputs' calls before them; a user message keeps the conversation non-empty.
      const input: ResponseInputItem[] = [{ role: 'user', content: 'Hi' }];
      if (type === 'function_call_output') input.push(EVERY_ITEM.function_call);
      if (type === 'custom_tool_call_output') input.push(EVERY_ITEM.custom_tool_call);
      input.push(item);
      const t = translateResponsesRequest({ model: 'gpt-5', input, tools: TOOLS });
      expect(GeminiRequestSchema.parse(t.request)).toEqual(t.request);
      const dropped = t.notes.some((n) => n.startsWith(`input.${input.length - 1}:`));
      expect(dropped, `${type}: ${t.notes.join('; ')}`).toBe(!TRANSLATED.has(type));
    }
  });

  it('translates every translatable item into the matching Gemini parts', () => {
    const input: ResponseInputItem[] = [
      { role: 'developer', content: 'Be brief.' },
      { role: 'system', content: [{ type: 'input_text', text: 'Use tools.' }] },
      EVERY_ITEM.message,
      {
        type: 'message',
        role: 'assistant',
        id: 'msg_0',
        status: 'completed',
        content: [{ type: 'output_text', text: 'Sure.', annotations: [] }],
      },
      EVERY_ITEM.reasoning,
      EVERY_ITEM.function_call,
      EVERY_ITEM.function_call_output,
      EVERY_ITEM.custom_tool_call,
      EVERY_ITEM.custom_tool_call_output,
    ];
    const t = translateResponsesRequest({
      model: 'gpt-5',
      instructions: 'You are Codex.',
      input,
      tools: TOOLS,
    });
    expect(t.notes.filter((n) => n.startsWith('input'))).toEqual([]);
    const r = t.request;
    expect(r.systemInstruction).toEqual({ parts: [{ text: 'You are Codex.\n\nBe brief.\n\nUse tools.' }] });
    expect(r.contents.map((c) => c.role)).toEqual(['user', 'model', 'user', 'model', 'user']);
    expect(r.contents[0]?.parts).toEqual([
      { text: 'Look at this' },
      { inlineData: { mimeType: 'image/png', data: 'iVBORw0KGgo=' } },
      { inlineData: { mimeType: 'application/pdf', data: 'JVBERi0=' } },
    ]);
    expect(r.contents[1]?.parts).toEqual([
      { text: 'Sure.' },
      { text: 'Think first.', thought: true, thoughtSignature: 'sig-thought' },
      // The signature the reasoning item carried for the part after it.
      {
        functionCall: { name: 'fs__read', args: { path: 'a.ts' }, id: 'call_1' },
        thoughtSignature: 'sig-next',
      },
    ]);
    expect(r.contents[2]?.parts).toEqual([
      { functionResponse: { name: 'fs__read', response: { result: 'file text' }, id: 'call_1' } },
      { inlineData: { mimeType: 'image/png', data: 'iVBORw0KGgo=' } },
    ]);
    expect(r.contents[3]?.parts).toEqual([
      { functionCall: { name: 'apply_patch', args: { input: '*** Begin Patch' }, id: 'call_2' } },
    ]);
    expect(r.contents[4]?.parts).toEqual([
      { functionResponse: { name: 'apply_patch', response: { result: 'Done' }, id: 'call_2' } },
    ]);
  });

  it('declares function, namespace and custom tools and drops built-ins with a note', () => {
    const t = translateResponsesRequest({
      model: 'gpt-5',
      input: 'Hi',
      tools: TOOLS,
      tool_choice: 'required',
    });
    const decls = t.request.tools?.[0]?.functionDeclarations ?? [];
    expect(decls.map((d) => d.name)).toEqual(['shell_command', 'fs__read', 'apply_patch']);
    expect(decls[1]?.description).toBe('File tools');
    expect(decls[2]?.description).toContain('start: "x"');
    expect(decls[2]?.parameters).toEqual({
      type: 'object',
      properties: { input: { type: 'string', description: 'The raw input for the tool.' } },
      required: ['input'],
    });
    expect(t.notes).toEqual([
      'tools.3: built-in tool "web_search" dropped (the upstream has no equivalent)',
      'tools.4: built-in tool "local_shell" dropped (the upstream has no equivalent)',
    ]);
    expect(t.request.toolConfig).toEqual({ functionCallingConfig: { mode: 'ANY' } });
    expect(t.tools.get('fs__read')).toEqual({ kind: 'function', name: 'read', namespace: 'fs' });
  });

  it('makes unsafe namespaced names safe for Gemini and keeps them stable', () => {
    expect(flatToolName('read', 'mcp__server__')).toBe('mcp__server__read');
    const odd = flatToolName('read file', 'my server/with a very long name that goes on and on and on');
    expect(odd).toMatch(/^[A-Za-z_][A-Za-z0-9_.:-]{0,63}$/);
    expect(flatToolName('read file', 'my server/with a very long name that goes on and on and on')).toBe(odd);
    expect(flatToolName('read', null)).toBe('read');
  });

  it('maps tool_choice, reasoning, text.format and sampling fields', () => {
    const t = translateResponsesRequest({
      model: 'gpt-5',
      input: 'Hi',
      tools: TOOLS,
      tool_choice: { type: 'function', name: 'shell_command' },
      reasoning: { effort: 'high', summary: 'auto' },
      text: {
        format: {
          type: 'json_schema',
          name: 'out',
          schema: { type: 'object', properties: { a: { type: 'string' } }, additionalProperties: false },
          strict: true,
        },
      },
      max_output_tokens: 1000,
      temperature: 0.5,
      top_p: 0.9,
    });
    expect(t.request.toolConfig).toEqual({
      functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['shell_command'] },
    });
    expect(t.request.generationConfig).toEqual({
      maxOutputTokens: 1000,
      temperature: 0.5,
      topP: 0.9,
      thinkingConfig: { includeThoughts: true, thinkingBudget: 24_576 },
      responseMimeType: 'application/json',
      responseSchema: { type: 'object', properties: { a: { type: 'string' } } },
    });
    expectInvalid(
      { model: 'm', input: 'Hi', tools: TOOLS, tool_choice: { type: 'function', name: 'nope' } },
      'tool_choice.name',
      /no function or custom tool named "nope"/,
    );
    const allowed = translateResponsesRequest({
      model: 'm',
      input: 'Hi',
      tools: TOOLS,
      tool_choice: {
        type: 'allowed_tools',
        mode: 'required',
        tools: [{ type: 'function', name: 'read', namespace: 'fs' }],
      },
    });
    const inNamespace = translateResponsesRequest({
      model: 'm',
      input: 'Hi',
      tools: TOOLS,
      tool_choice: { type: 'function', name: 'read' },
    });
    expect(inNamespace.request.toolConfig).toEqual({
      functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['fs__read'] },
    });
    expect(allowed.request.toolConfig).toEqual({
      functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['fs__read'] },
    });
  });

  it('keys the session on prompt_cache_key, then user, then the prompt', () => {
    const a = translateResponsesRequest({ model: 'm', input: 'Hi', prompt_cache_key: 'conv-1' });
    const b = translateResponsesRequest({ model: 'm', input: 'Other', prompt_cache_key: 'conv-1' });
    const c = translateResponsesRequest({ model: 'm', input: 'Hi', user: 'conv-1' });
    const d = translateResponsesRequest({ model: 'm', input: 'Hi' });
    expect(a.sessionKey).toBe(b.sessionKey);
    expect(c.sessionKey).toBe(a.sessionKey);
    expect(d.sessionKey).not.toBe(a.sessionKey);
    expect(a.sessionKey).not.toContain('conv-1');
  });

  it('refuses server-side state with a 400 that says to send the full input', () => {
    expectInvalid(
      { model: 'm', input: 'Hi', previous_response_id: 'resp_1' },
      'previous_response_id',
      /send the whole conversation in `input`/i,
    );
    expectInvalid({ model: 'm', input: 'Hi', conversation: 'conv_1' }, 'conversation');
    expectInvalid(
      { model: 'm', input: [EVERY_ITEM.item_reference] },
      'input.0.id',
      /which Quota Pilot does not have/,
    );
    expectInvalid({ model: 'm', input: 'Hi', background: true }, 'background');
    expectInvalid(
      { model: 'm', input: [{ type: 'function_call_output', call_id: 'call_x', output: 'x' }] },
      'input.0.call_id',
      /send the call item/,
    );
    expectInvalid(
      { model: 'm', input: [{ type: 'function_call', call_id: 'c', name: 'f' }] },
      'input.0.arguments',
    );
    expectInvalid(
      {
        model: 'm',
        input: [{ role: 'user', content: [{ type: 'input_image', image_url: 'https://x/y.png' }] }],
      },
      'input.0.content.0.image_url',
    );
    expectInvalid({ input: 'Hi' }, 'model');
  });

  it('prepends the stored conversation of previous_response_id, or names what to do when it is gone', () => {
    const stored = [
      { type: 'message', role: 'user', content: 'Weather in Paris?' },
      { type: 'function_call', call_id: 'call_w', name: 'get_weather', arguments: '{"city":"Paris"}' },
    ];
    const history = (id: string) => (id === 'resp_1' ? stored : undefined);
    const t = translateResponsesRequest(
      {
        model: 'm',
        previous_response_id: 'resp_1',
        input: [{ type: 'function_call_output', call_id: 'call_w', output: '18 C' }],
      },
      { history },
    );
    expect(t.request.contents.map((c) => c.role)).toEqual(['user', 'model', 'user']);
    expect(t.request.contents[2]?.parts[0]?.functionResponse?.name).toBe('get_weather');
    expect(t.input).toHaveLength(3);
    expect(t.echo.previous_response_id).toBe('resp_1');
    try {
      translateResponsesRequest(
        { model: 'm', previous_response_id: 'resp_gone', input: 'Hi' },
        { history, retention: '1 hour' },
      );
      expect.unreachable('unknown previous_response_id must be refused');
    } catch (e) {
      expect((e as RequestValidationError).field).toBe('previous_response_id');
      expect((e as Error).message).toMatch(
        /no stored response "resp_gone".*1 hour.*send the whole conversation/,
      );
    }
  });

  it('translates the second turn Codex CLI 0.171 really sent on its defaults (tools in additional_tools)', () => {
    const body = fixture('responses-request-codex-0.171');
    expect(body.tools).toBeUndefined();
    const t = translateResponsesRequest(body);
    expect(GeminiRequestSchema.parse(t.request)).toEqual(t.request);
    // Nothing of the input or the tools is dropped.
    expect(t.notes).toEqual(['parallel_tool_calls: false is not enforced upstream']);
    const names = (t.request.tools?.[0]?.functionDeclarations ?? []).map((d) => d.name);
    expect(names).toEqual(expect.arrayContaining(['functions__exec', 'functions__wait', 'clock__sleep']));
    expect(t.tools.get('functions__exec')).toEqual({ kind: 'custom', name: 'exec', namespace: 'functions' });
    // Developer messages are the system prompt; the custom tool call and its output are paired.
    expect(t.request.systemInstruction?.parts[0]?.text).toMatch(/^You are Codex/);
    const last = t.request.contents.slice(-2);
    expect(last[0]?.role).toBe('model');
    expect(last[0]?.parts.map((p) => (p.thought === true ? 'thought' : p.functionCall?.name))).toEqual([
      'thought',
      'functions__exec',
    ]);
    expect(last[0]?.parts[0]?.thoughtSignature).toBeDefined();
    expect(last[1]?.parts[0]?.functionResponse).toMatchObject({
      name: 'functions__exec',
      response: { result: expect.stringContaining('ReferenceError') as unknown },
    });
    expect(t.sessionKey).toBe(
      translateResponsesRequest({ model: 'x', input: 'y', prompt_cache_key: body.prompt_cache_key })
        .sessionKey,
    );
  });

  it('parses the Codex CLI request fixture', () => {
    const t = translateResponsesRequest(fixture('responses-request-codex'));
    expect(t.stream).toBe(true);
    expect(t.includeEncrypted).toBe(true);
    expect(GeminiRequestSchema.parse(t.request)).toEqual(t.request);
    const r = t.request;
    expect(r.systemInstruction?.parts[0]?.text).toMatch(/^You are Codex[\s\S]*<permissions instructions>/);
    expect(r.contents.map((c) => c.role)).toEqual([
      'user',
      'model',
      'user',
      'model',
      'user',
      'model',
      'user',
    ]);
    expect(r.contents[1]?.parts[0]?.functionCall?.name).toBe('shell_command');
    expect(r.contents[3]?.parts[0]?.functionCall).toEqual({
      name: 'apply_patch',
      args: { input: expect.stringContaining('*** Begin Patch') as unknown },
      id: 'call_k2',
    });
    expect((r.tools?.[0]?.functionDeclarations ?? []).map((d) => d.name)).toEqual([
      'shell_command',
      'apply_patch',
      'update_plan',
      'mcp__docs__search',
    ]);
    expect(r.generationConfig?.thinkingConfig).toEqual({ includeThoughts: true, thinkingBudget: 8192 });
    // An OpenAI-encrypted reasoning item (from another provider) and web_search cannot be translated.
    expect(t.notes).toEqual(
      expect.arrayContaining([
        "input.3: reasoning item without Quota Pilot's encrypted_content dropped",
        'tools.4: built-in tool "web_search" dropped (the upstream has no equivalent)',
      ]),
    );
    expect(t.sessionKey).toBe(
      translateResponsesRequest({
        model: 'x',
        input: 'other',
        prompt_cache_key: '0199a213-81c0-7800-8aa1-bbab2a035a55',
      }).sessionKey,
    );
  });
});

// ---------------------------------------------------------------------------------------------

const OPTS = { model: 'gpt-5-codex', created: 1_790_000_000 };

function request(extra: Record<string, unknown> = {}) {
  return translateResponsesRequest({
    model: 'gpt-5-codex',
    input: 'Read the file',
    tools: [
      {
        type: 'function',
        name: 'Read',
        parameters: { type: 'object', properties: { file_path: { type: 'string' } } },
      },
      { type: 'namespace', name: 'sh', description: 'Shell', tools: [{ type: 'function', name: 'Bash' }] },
    ],
    include: ['reasoning.encrypted_content'],
    ...extra,
  });
}

function events(evs: readonly ClientEvent[]): ResponseStreamEvent[] {
  return evs.map((e) => {
    const data = JSON.parse(e.data) as ResponseStreamEvent;
    expect(e.event).toBe(data.type);
    return data;
  });
}

/** Required fields of every event type the proxy emits, named by the SDK's event types. */
type EventOf<K extends ResponseStreamEvent['type']> = Extract<ResponseStreamEvent, { type: K }>;
const EVENT_FIELDS: { [K in ResponseStreamEvent['type']]?: ReadonlyArray<keyof EventOf<K>> } = {
  'response.created': ['response', 'sequence_number'],
  'response.in_progress': ['response', 'sequence_number'],
  'response.output_item.added': ['item', 'output_index', 'sequence_number'],
  'response.output_item.done': ['item', 'output_index', 'sequence_number'],
  'response.content_part.added': ['content_index', 'item_id', 'output_index', 'part', 'sequence_number'],
  'response.content_part.done': ['content_index', 'item_id', 'output_index', 'part', 'sequence_number'],
  'response.output_text.delta': [
    'content_index',
    'delta',
    'item_id',
    'logprobs',
    'output_index',
    'sequence_number',
  ],
  'response.output_text.done': [
    'content_index',
    'item_id',
    'logprobs',
    'output_index',
    'sequence_number',
    'text',
  ],
  'response.reasoning_summary_part.added': [
    'item_id',
    'output_index',
    'part',
    'sequence_number',
    'summary_index',
  ],
  'response.reasoning_summary_part.done': [
    'item_id',
    'output_index',
    'part',
    'sequence_number',
    'summary_index',
  ],
  'response.reasoning_summary_text.delta': [
    'delta',
    'item_id',
    'output_index',
    'sequence_number',
    'summary_index',
  ],
  'response.reasoning_summary_text.done': [
    'item_id',
    'output_index',
    'sequence_number',
    'summary_index',
    'text',
  ],
  'response.function_call_arguments.delta': ['delta', 'item_id', 'output_index', 'sequence_number'],
  'response.function_call_arguments.done': ['arguments', 'item_id', 'output_index', 'sequence_number'],
  'response.custom_tool_call_input.delta': ['delta', 'item_id', 'output_index', 'sequence_number'],
  'response.custom_tool_call_input.done': ['input', 'item_id', 'output_index', 'sequence_number'],
  'response.completed': ['response', 'sequence_number'],
  'response.incomplete': ['response', 'sequence_number'],
  'response.failed': ['response', 'sequence_number'],
  error: ['code', 'message', 'param', 'sequence_number'],
};

function checkFields(evs: readonly ResponseStreamEvent[]): void {
  evs.forEach((e, i) => {
    const fields = EVENT_FIELDS[e.type] as ReadonlyArray<string> | undefined;
    expect(fields, `event type ${e.type} is not in the table`).toBeDefined();
    for (const f of fields ?? []) expect(e, `${e.type} lacks ${f}`).toHaveProperty(f);
    expect(e.sequence_number).toBe(i);
  });
}

/** The SDK's own accumulator, fed our events, must end at the response we sent in the last one. */
function accumulate(evs: readonly ResponseStreamEvent[]): SdkResponse {
  let snapshot: SdkResponse | undefined;
  for (const e of evs) snapshot = accumulateResponse(e, snapshot);
  return snapshot as SdkResponse;
}

describe('Gemini → Responses', () => {
  it('turns thoughts, text and calls into reasoning, message and function_call items with usage', () => {
    const r = toResponsesObject(geminiResponse('gemini-response-thinking-tool'), request(), OPTS);
    expect(r.status).toBe('completed');
    expect(r.output.map((o) => o.type)).toEqual([
      'reasoning',
      'message',
      'reasoning',
      'function_call',
      'function_call',
    ]);
    expect(r.output[0]).toMatchObject({
      summary: [{ type: 'summary_text', text: 'I should read the file before answering.' }],
    });
    expect(decodeReasoningCarrier((r.output[0] as { encrypted_content: string }).encrypted_content)).toEqual({
      p: [{ t: 'I should read the file before answering.', s: 'c2lnLXRob3VnaHQ=' }],
    });
    // The call's signature rides on an empty reasoning item just before it.
    expect(decodeReasoningCarrier((r.output[2] as { encrypted_content: string }).encrypted_content)).toEqual({
      p: [],
      n: 'c2lnLWNhbGw=',
    });
    expect(r.output[4]).toMatchObject({
      type: 'function_call',
      name: 'Bash',
      call_id: 'toolu_upstream_2',
      arguments: '{"command":"npm test"}',
    });
    expect(r.usage).toEqual({
      input_tokens: 1200,
      input_tokens_details: { cached_tokens: 1000 },
      output_tokens: 65,
      output_tokens_details: { reasoning_tokens: 25 },
      total_tokens: 1265,
    });
    expect(r.id).toMatch(/^resp_/);
    expect(r.created_at).toBe(OPTS.created);
  });

  it('gives namespaced and custom tool calls back under the client names', () => {
    const req = translateResponsesRequest({ model: 'm', input: 'Hi', tools: TOOLS });
    const resp: GeminiResponse = {
      candidates: [
        {
          content: {
            role: 'model',
            parts: [
              { functionCall: { name: 'fs__read', args: { path: 'a.ts' } } },
              { functionCall: { name: 'apply_patch', args: { input: '*** Begin Patch\n*** End Patch' } } },
            ],
          },
          finishReason: 'STOP',
        },
      ],
    };
    const r = toResponsesObject(resp, req, OPTS);
    expect(r.output[0]).toMatchObject({
      type: 'function_call',
      name: 'read',
      namespace: 'fs',
      arguments: '{"path":"a.ts"}',
    });
    expect(r.output[1]).toMatchObject({
      type: 'custom_tool_call',
      name: 'apply_patch',
      input: '*** Begin Patch\n*** End Patch',
    });
    // And back: the items as the client sends them next turn name the same Gemini functions.
    const next = translateResponsesRequest({
      model: 'm',
      tools: TOOLS,
      input: [
        { role: 'user', content: 'Hi' },
        ...r.output,
        { type: 'function_call_output', call_id: (r.output[0] as { call_id: string }).call_id, output: 'x' },
        {
          type: 'custom_tool_call_output',
          call_id: (r.output[1] as { call_id: string }).call_id,
          output: 'ok',
        },
      ],
    });
    expect(next.request.contents[1]?.parts.map((p) => p.functionCall?.name)).toEqual([
      'fs__read',
      'apply_patch',
    ]);
    expect(next.request.contents[2]?.parts.map((p) => p.functionResponse?.name)).toEqual([
      'fs__read',
      'apply_patch',
    ]);
  });

  it('carries thought signatures to the next turn through encrypted_content alone', () => {
    const first = toResponsesObject(geminiResponse('gemini-response-thinking-tool'), request(), OPTS);
    const callIds = first.output.filter((o) => o.type === 'function_call').map((o) => o.call_id);
    // No SignatureStore anywhere: the reasoning items the client sends back are the only carrier.
    const next = request({
      input: [
        { role: 'user', content: 'Read the file' },
        ...first.output,
        ...callIds.map((id) => ({ type: 'function_call_output', call_id: id, output: 'ok' })),
      ],
    });
    expect(next.request.contents[1]?.parts).toEqual([
      {
        text: 'I should read the file before answering.',
        thought: true,
        thoughtSignature: 'c2lnLXRob3VnaHQ=',
      },
      { text: 'Reading it now.' },
      {
        functionCall: { name: 'Read', args: { file_path: 'src/sum.ts' }, id: callIds[0] },
        thoughtSignature: 'c2lnLWNhbGw=',
      },
      { functionCall: { name: 'Bash', args: { command: 'npm test' }, id: 'toolu_upstream_2' } },
    ]);
  });

  it('keeps call signatures per call id for clients that drop reasoning items', () => {
    const sigs = new SignatureCache();
    const first = toResponsesObject(
      geminiResponse('gemini-response-thinking-tool'),
      request({ include: [] }),
      { ...OPTS, signatures: sigs },
    );
    expect(first.output.map((o) => o.type)).toEqual([
      'reasoning',
      'message',
      'function_call',
      'function_call',
    ]);
    const calls = first.output.filter((o) => o.type === 'function_call');
    const next = translateResponsesRequest(
      {
        model: 'm',
        input: [
          { role: 'user', content: 'Read' },
          ...calls,
          ...calls.map((c) => ({ type: 'function_call_output', call_id: c.call_id, output: 'ok' })),
        ],
      },
      { signatures: sigs },
    );
    expect(next.request.contents[1]?.parts[0]?.thoughtSignature).toBe('c2lnLWNhbGw=');
  });

  it('reports MAX_TOKENS and safety stops as incomplete', () => {
    const base = {
      candidates: [{ content: { role: 'model', parts: [{ text: 'Cut' }] }, finishReason: 'MAX_TOKENS' }],
    };
    expect(toResponsesObject(base, request(), OPTS)).toMatchObject({
      status: 'incomplete',
      incomplete_details: { reason: 'max_output_tokens' },
    });
    expect(toResponsesObject({ promptFeedback: { blockReason: 'SAFETY' } }, request(), OPTS)).toMatchObject({
      status: 'incomplete',
      incomplete_details: { reason: 'content_filter' },
      output: [],
    });
  });
});

describe('Gemini stream → response.* events', () => {
  it('emits the full event sequence in OpenAI order, numbered, and the SDK accumulates it to the final response', () => {
    const t = new ResponsesStreamTranslator(request(), OPTS);
    const out: ClientEvent[] = [];
    for (const c of geminiStream('gemini-stream-thinking-tool')) out.push(...t.push(c));
    out.push(...t.end());
    const evs = events(out);
    checkFields(evs);
    expect(evs.map((e) => e.type)).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.reasoning_summary_part.added',
      'response.reasoning_summary_text.delta',
      'response.reasoning_summary_text.delta',
      'response.reasoning_summary_text.done',
      'response.reasoning_summary_part.done',
      'response.output_item.done',
      'response.output_item.added',
      'response.content_part.added',
      'response.output_text.delta',
      'response.output_text.delta',
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.output_item.added',
      'response.output_item.done',
      'response.output_item.added',
      'response.function_call_arguments.delta',
      'response.function_call_arguments.done',
      'response.output_item.done',
      'response.output_item.added',
      'response.function_call_arguments.delta',
      'response.function_call_arguments.done',
      'response.output_item.done',
      'response.completed',
    ]);
    const done = evs[evs.length - 1] as Extract<ResponseStreamEvent, { type: 'response.completed' }>;
    const whole = toResponsesObject(geminiResponse('gemini-response-thinking-tool'), request(), OPTS);
    expect(done.response.output).toEqual(whole.output);
    expect(done.response.usage).toEqual(whole.usage);
    expect(t.usage?.reasoningTokens).toBe(25);
    const acc = accumulate(evs);
    expect(acc.output).toEqual(done.response.output);
    expect(acc.status).toBe('completed');
  });

  it('streams custom tool input and ends a cut answer with response.incomplete', () => {
    const req = translateResponsesRequest({ model: 'm', input: 'Hi', tools: TOOLS });
    const t = new ResponsesStreamTranslator(req, OPTS);
    const evs = events([
      ...t.push({
        candidates: [
          {
            content: {
              role: 'model',
              parts: [{ functionCall: { name: 'apply_patch', args: { input: 'P' } } }],
            },
          },
        ],
      }),
      ...t.push({
        candidates: [
          { content: { role: 'model', parts: [{ text: 'and more' }] }, finishReason: 'MAX_TOKENS' },
        ],
      }),
      ...t.end(),
    ]);
    checkFields(evs);
    expect(evs.map((e) => e.type)).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.custom_tool_call_input.delta',
      'response.custom_tool_call_input.done',
      'response.output_item.done',
      'response.output_item.added',
      'response.content_part.added',
      'response.output_text.delta',
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.incomplete',
    ]);
    expect(accumulate(evs).output[0]).toMatchObject({
      type: 'custom_tool_call',
      input: 'P',
      name: 'apply_patch',
    });
  });

  it('ends a stream that fails mid-answer with error and response.failed', () => {
    const t = new ResponsesStreamTranslator(request(), OPTS);
    const evs = events([
      ...t.push({
        candidates: [{ content: { role: 'model', parts: [{ text: 'Half' }] } }],
        responseId: 'r1',
      }),
      ...t.error({ status: 429, message: 'All accounts are out of quota; try again in 30 s.' }),
      ...t.end(),
    ]);
    checkFields(evs);
    expect(evs.slice(-2).map((e) => e.type)).toEqual(['error', 'response.failed']);
    expect(evs[evs.length - 2]).toMatchObject({
      code: 'rate_limit_exceeded',
      message: 'All accounts are out of quota; try again in 30 s.',
    });
    const failed = evs[evs.length - 1] as Extract<ResponseStreamEvent, { type: 'response.failed' }>;
    expect(failed.response).toMatchObject({ status: 'failed', error: { code: 'rate_limit_exceeded' } });
    expect(failed.response.output[0]).toMatchObject({ type: 'message', status: 'incomplete' });
    // Codex retries rate_limit_exceeded and stops on insufficient_quota; everything else is server_error.
    expect([429, 402, 400, 500, 503].map(responsesErrorCode)).toEqual([
      'rate_limit_exceeded',
      'insufficient_quota',
      'invalid_prompt',
      'server_error',
      'server_error',
    ]);
  });

  it('answers an empty upstream stream with created, in_progress and completed', () => {
    const t = new ResponsesStreamTranslator(request(), OPTS);
    const evs = events(t.end());
    checkFields(evs);
    expect(evs.map((e) => e.type)).toEqual([
      'response.created',
      'response.in_progress',
      'response.completed',
    ]);
  });
});
