/**
 * Every Anthropic request block type and request field (from the @anthropic-ai/sdk MessageCreateParams
 * and BetaMessageCreateParams types) → the Gemini request, with fixtures in
 * test/fixtures/translate/anthropic-blocks.json.
 */
import { describe, expect, it } from 'vitest';
import { translateAnthropicRequest } from '../../../src/proxy/translate/anthropic';
import type { RequestValidationError } from '../../../src/proxy/translate/common';
import { schemaProblems } from '../../../src/simulator/schemaCheck';
import { GeminiRequestSchema } from '../../../src/upstream/gemini/schema';
import { fixture } from './fixtures';

interface BlockCase {
  name: string;
  request: Record<string, unknown>;
  expect: {
    contents: unknown[];
    systemInstruction?: unknown;
    notes?: string[];
    functionNames?: string[];
    thinkingConfig?: unknown;
  };
}

const cases = fixture('anthropic-blocks') as unknown as BlockCase[];

function translate(request: Record<string, unknown>) {
  return translateAnthropicRequest({ model: 'claude-opus-5-5', max_tokens: 4096, ...request });
}

describe('Anthropic blocks → Gemini (fixtures)', () => {
  it.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const t = translate(c.request);
    expect(t.request.contents).toEqual(c.expect.contents);
    if (c.expect.systemInstruction !== undefined)
      expect(t.request.systemInstruction).toEqual(c.expect.systemInstruction);
    for (const note of c.expect.notes ?? []) expect(t.notes.some((n) => n.startsWith(note))).toBe(true);
    if (c.expect.functionNames !== undefined) {
      expect(t.request.tools?.[0]?.functionDeclarations?.map((d) => d.name)).toEqual(c.expect.functionNames);
    }
    if (c.expect.thinkingConfig !== undefined) {
      expect(t.request.generationConfig?.thinkingConfig).toEqual(c.expect.thinkingConfig);
    }
    // What goes upstream is a valid Gemini request the simulator (Google's rules) accepts.
    expect(GeminiRequestSchema.parse(t.request)).toEqual(t.request);
    expect(schemaProblems(t.request)).toEqual([]);
  });

  it('covers every block type of the SDK', () => {
    const seen = new Set<string>();
    const walk = (v: unknown): void => {
      if (Array.isArray(v)) v.forEach(walk);
      else if (typeof v === 'object' && v !== null) {
        const o = v as Record<string, unknown>;
        if (typeof o.type === 'string') seen.add(o.type);
        Object.values(o).forEach(walk);
      }
    };
    walk(cases.map((c) => c.request.messages));
    // ContentBlockParam (messages.d.ts) and the beta additions Claude Code sends.
    for (const type of [
      'text',
      'image',
      'document',
      'search_result',
      'thinking',
      'redacted_thinking',
      'tool_use',
      'tool_result',
      'server_tool_use',
      'web_search_tool_result',
      'web_fetch_tool_result',
      'code_execution_tool_result',
      'bash_code_execution_tool_result',
      'text_editor_code_execution_tool_result',
      'tool_search_tool_result',
      'container_upload',
      'mcp_tool_use',
      'mcp_tool_result',
      'compaction',
      'tool_addition',
      'tool_removal',
      'tool_reference',
    ]) {
      expect(seen.has(type), type).toBe(true);
    }
  });
});

describe('Anthropic request fields → Gemini', () => {
  const base = { messages: [{ role: 'user', content: 'Give me JSON.' }] };

  it('output_config.format (and the beta output_format) → JSON response with the converted schema', () => {
    const schema = {
      type: 'object',
      properties: { name: { type: 'string' }, tags: { type: 'array', items: { type: 'string' } } },
      required: ['name'],
      additionalProperties: false,
    };
    const expected = {
      type: 'object',
      properties: { name: { type: 'string' }, tags: { type: 'array', items: { type: 'string' } } },
      required: ['name'],
    };
    for (const extra of [
      { output_config: { format: { type: 'json_schema', schema } } },
      { output_format: { type: 'json_schema', schema } },
    ]) {
      const gen = translate({ ...base, ...extra }).request.generationConfig;
      expect(gen?.responseMimeType).toBe('application/json');
      expect(gen?.responseSchema).toEqual(expected);
    }
    try {
      translate({ ...base, output_config: { format: { type: 'json_schema', schema: { type: 'bogus' } } } });
      expect.unreachable();
    } catch (e) {
      expect((e as RequestValidationError).field).toBe('output_config.format.schema.type');
    }
  });

  it('strict tools ask for validated calls; tool_choice variants; Anthropic-defined tools', () => {
    const tools = [
      { name: 'Read', strict: true, input_schema: { type: 'object', properties: { p: { type: 'string' } } } },
      { type: 'bash_20250124', name: 'bash' },
      { type: 'text_editor_20250728', name: 'str_replace_based_edit_tool' },
      { type: 'web_search_20250305', name: 'web_search', max_uses: 3 },
      { type: 'code_execution_20250825', name: 'code_execution' },
    ];
    const t = translate({ ...base, tools });
    expect(t.request.toolConfig).toEqual({ functionCallingConfig: { mode: 'VALIDATED' } });
    const decls = t.request.tools?.[0]?.functionDeclarations ?? [];
    expect(decls.map((d) => d.name)).toEqual(['Read', 'bash', 'str_replace_based_edit_tool']);
    expect((decls[1]?.parameters as { properties: object }).properties).toHaveProperty('command');
    expect(t.notes).toContain(
      'tools.3: Anthropic server tool "web_search_20250305" dropped (the upstream cannot run it)',
    );
    expect(schemaProblems(t.request)).toEqual([]);

    const choice = (tool_choice: unknown) => translate({ ...base, tools, tool_choice }).request.toolConfig;
    expect(choice({ type: 'auto' })).toEqual({ functionCallingConfig: { mode: 'VALIDATED' } });
    expect(choice({ type: 'any', disable_parallel_tool_use: true })).toEqual({
      functionCallingConfig: { mode: 'ANY' },
    });
    expect(choice({ type: 'tool', name: 'Read' })).toEqual({
      functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['Read'] },
    });
    expect(choice({ type: 'none' })).toEqual({ functionCallingConfig: { mode: 'NONE' } });
    expect(
      translate({
        ...base,
        tools: [{ name: 'R', input_schema: { type: 'object' } }],
        tool_choice: { type: 'auto' },
      }).request.toolConfig,
    ).toEqual({ functionCallingConfig: { mode: 'AUTO' } });
  });

  it('thinking and effort: enabled budget, adaptive by effort, display omitted, disabled', () => {
    const thinking = (extra: Record<string, unknown>) =>
      translate({ ...base, ...extra }).request.generationConfig?.thinkingConfig;
    expect(thinking({ thinking: { type: 'enabled', budget_tokens: 2000 } })).toEqual({
      includeThoughts: true,
      thinkingBudget: 2000,
    });
    expect(thinking({ thinking: { type: 'adaptive' } })).toEqual({
      includeThoughts: true,
      thinkingBudget: -1,
    });
    expect(
      thinking({ thinking: { type: 'adaptive', display: 'omitted' }, output_config: { effort: 'high' } }),
    ).toEqual({
      includeThoughts: false,
      thinkingBudget: 4095,
    });
    expect(thinking({ thinking: { type: 'disabled' } })).toBeUndefined();
    const t = translate({ ...base, output_config: { effort: 'max' } });
    expect(t.request.generationConfig?.thinkingConfig).toBeUndefined();
    expect(t.notes).toContain('output_config.effort "max" ignored (thinking is off)');
  });

  it('sampling fields map; fields with no upstream counterpart are accepted and noted', () => {
    const t = translate({
      ...base,
      temperature: 0.2,
      top_p: 0.9,
      top_k: 40,
      stop_sequences: ['END'],
      metadata: { user_id: 'u-1' },
      service_tier: 'auto',
      container: 'container_1',
      context_management: { edits: [{ type: 'clear_thinking_20251015', keep: 'all' }] },
      mcp_servers: [
        { type: 'url', name: 'gh', url: 'https://mcp.example.com', authorization_token: 'secret-token' },
      ],
      cache_control: { type: 'ephemeral' },
      speed: 'fast',
      inference_geo: 'us',
    });
    expect(t.request.generationConfig).toEqual({
      maxOutputTokens: 4096,
      temperature: 0.2,
      topP: 0.9,
      topK: 40,
      stopSequences: ['END'],
    });
    for (const key of [
      'service_tier',
      'container',
      'context_management',
      'mcp_servers',
      'cache_control',
      'speed',
      'inference_geo',
    ]) {
      expect(t.notes.some((n) => n.startsWith(`${key} ignored`))).toBe(true);
    }
    // Notes go to the log: they never carry request values such as tokens.
    expect(t.notes.join(' ')).not.toContain('secret-token');
  });
});
