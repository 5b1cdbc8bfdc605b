import { Ajv } from 'ajv';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { catalogModel, type CatalogModel } from '../../../src/core/catalog';
import { buildAnswer } from '../../../src/simulator/generate';
import { argumentsFor, promptFacts } from '../../../src/simulator/tools';
import type { Content, FunctionDeclaration, GenerateRequest } from '../../../src/simulator/wire';

const sonnet = catalogModel('claude-sonnet-4-6') as CatalogModel;
const thinking = catalogModel('claude-sonnet-4-6-thinking') as CatalogModel;

const str = (description?: string): Record<string, unknown> => ({
  type: 'string',
  ...(description ? { description } : {}),
});
const obj = (properties: Record<string, unknown>, required: string[] = []): Record<string, unknown> => ({
  type: 'object',
  properties,
  required,
  additionalProperties: false,
});
const fn = (name: string, parametersJsonSchema: Record<string, unknown>): FunctionDeclaration => ({
  name,
  description: `The ${name} tool`,
  parametersJsonSchema,
});

/** Close to what the agent CLIs declare (names, required fields, types). */
const CLAUDE_CODE = [
  fn('Task', obj({ description: str(), prompt: str(), subagent_type: str() }, ['description', 'prompt'])),
  fn(
    'Bash',
    obj(
      {
        command: str('The command to execute'),
        timeout: { type: 'number', maximum: 600000 },
        description: str(),
        run_in_background: { type: 'boolean' },
      },
      ['command'],
    ),
  ),
  fn('Glob', obj({ pattern: str(), path: str() }, ['pattern'])),
  fn(
    'Grep',
    obj(
      {
        pattern: str(),
        path: str(),
        output_mode: { type: 'string', enum: ['content', 'files_with_matches', 'count'] },
        '-n': { type: 'boolean' },
        head_limit: { type: 'number' },
      },
      ['pattern'],
    ),
  ),
  fn(
    'Read',
    obj(
      {
        file_path: str('The absolute path to the file to read'),
        offset: { type: 'number' },
        limit: { type: 'number' },
      },
      ['file_path'],
    ),
  ),
  fn(
    'Edit',
    obj(
      {
        file_path: str('The absolute path to the file to modify'),
        old_string: str(),
        new_string: str(),
        replace_all: { type: 'boolean', default: false },
      },
      ['file_path', 'old_string', 'new_string'],
    ),
  ),
  fn('Write', obj({ file_path: str(), content: str() }, ['file_path', 'content'])),
  fn('WebFetch', obj({ url: { type: 'string', format: 'uri' }, prompt: str() }, ['url', 'prompt'])),
  fn(
    'TodoWrite',
    obj(
      {
        todos: {
          type: 'array',
          items: obj(
            {
              content: { type: 'string', minLength: 1 },
              status: { type: 'string', enum: ['pending', 'in_progress', 'completed'] },
              activeForm: { type: 'string', minLength: 1 },
            },
            ['content', 'status', 'activeForm'],
          ),
        },
      },
      ['todos'],
    ),
  ),
  fn(
    'AskUserQuestion',
    obj(
      {
        questions: {
          type: 'array',
          minItems: 1,
          maxItems: 4,
          items: obj(
            {
              question: str(),
              header: str(),
              options: {
                type: 'array',
                minItems: 2,
                maxItems: 4,
                items: obj({ label: str(), description: str() }, ['label', 'description']),
              },
              multiSelect: { type: 'boolean' },
            },
            ['question', 'header', 'options', 'multiSelect'],
          ),
        },
      },
      ['questions'],
    ),
  ),
  fn('ExitPlanMode', obj({ plan: str() }, ['plan'])),
];

const CODEX = [
  fn(
    'shell',
    obj(
      {
        command: { type: 'array', items: { type: 'string' } },
        workdir: str(),
        timeout_ms: { type: 'number' },
      },
      ['command'],
    ),
  ),
  fn(
    'update_plan',
    obj(
      {
        explanation: str(),
        plan: {
          type: 'array',
          items: obj(
            { step: str(), status: { type: 'string', enum: ['pending', 'in_progress', 'completed'] } },
            ['step', 'status'],
          ),
        },
      },
      ['plan'],
    ),
  ),
  fn('apply_patch', obj({ input: str() }, ['input'])),
  fn('view_image', obj({ path: str() }, ['path'])),
];

/** Gemini CLI declares OpenAPI-style `parameters` with upper-case types. */
const GEMINI_CLI: FunctionDeclaration[] = [
  {
    name: 'list_directory',
    parameters: { type: 'OBJECT', properties: { path: { type: 'STRING' } }, required: ['path'] },
  },
  {
    name: 'read_file',
    parameters: {
      type: 'OBJECT',
      properties: { absolute_path: { type: 'STRING' }, offset: { type: 'NUMBER' } },
      required: ['absolute_path'],
    },
  },
  {
    name: 'search_file_content',
    parameters: { type: 'OBJECT', properties: { pattern: { type: 'STRING' } }, required: ['pattern'] },
  },
  {
    name: 'run_shell_command',
    parameters: {
      type: 'OBJECT',
      properties: {
        command: { type: 'STRING' },
        description: { type: 'STRING' },
        directory: { type: 'STRING' },
      },
      required: ['command'],
    },
  },
  {
    name: 'write_todos',
    parameters: {
      type: 'OBJECT',
      properties: {
        todos: {
          type: 'ARRAY',
          items: {
            type: 'OBJECT',
            properties: {
              description: { type: 'STRING' },
              status: { type: 'STRING', enum: ['pending', 'in_progress', 'completed', 'cancelled'] },
            },
            required: ['description', 'status'],
          },
        },
      },
      required: ['todos'],
    },
  },
];

const OPENCODE = [
  fn(
    'bash',
    obj({ command: str(), timeout: { type: 'number' }, description: str() }, ['command', 'description']),
  ),
  fn('read', obj({ filePath: str(), offset: { type: 'number' } }, ['filePath'])),
  fn('list', obj({ path: str(), ignore: { type: 'array', items: str() } })),
  fn('write', obj({ filePath: str(), content: str() }, ['filePath', 'content'])),
  fn(
    'todowrite',
    obj({ todos: { type: 'array', items: obj({ content: str(), id: str() }, ['content', 'id']) } }, [
      'todos',
    ]),
  ),
];

const CLIENTS = { 'Claude Code': CLAUDE_CODE, Codex: CODEX, 'Gemini CLI': GEMINI_CLI, opencode: OPENCODE };

function ask(
  text: string,
  decls: FunctionDeclaration[],
  extra: Partial<GenerateRequest> = {},
  history: Content[] = [],
): GenerateRequest {
  return {
    contents: [...history, { role: 'user', parts: [{ text }] }],
    tools: [{ functionDeclarations: decls }],
    ...extra,
  };
}

function callOf(req: GenerateRequest): { name: string; args?: Record<string, unknown> } | undefined {
  return buildAnswer(sonnet, req, 3)
    .chunks.flat()
    .find((p) => p.functionCall)?.functionCall;
}

function textOf(req: GenerateRequest): string {
  return buildAnswer(sonnet, req, 3)
    .chunks.flat()
    .filter((p) => typeof p.text === 'string' && p.thought !== true)
    .map((p) => p.text)
    .join('');
}

const ajv = new Ajv({ strict: false, validateFormats: false, allErrors: true });
function validArgs(schema: unknown, args: unknown): string | null {
  const validate = ajv.compile(schemaForAjv(schema) as object);
  return validate(args) ? null : ajv.errorsText(validate.errors);
}
/** OpenAPI-style upper-case types as JSON Schema. */
function schemaForAjv(s: unknown): unknown {
  if (Array.isArray(s)) return s.map(schemaForAjv);
  if (typeof s !== 'object' || s === null) return s;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(s))
    out[k] = k === 'type' && typeof v === 'string' ? v.toLowerCase() : schemaForAjv(v);
  return out;
}

describe('which tool the simulator calls', () => {
  it('calls the tool the prompt names, with the backticked command', () => {
    expect(callOf(ask('Use the Bash tool to run `echo hi`', CLAUDE_CODE))).toEqual({
      name: 'Bash',
      args: { command: 'echo hi' },
    });
    expect(callOf(ask('run `echo hi` with the shell tool', CODEX))).toEqual({
      name: 'shell',
      args: { command: ['bash', '-lc', 'echo hi'] },
    });
    expect(callOf(ask('use the bash tool to run `echo hi`', OPENCODE))).toEqual({
      name: 'bash',
      args: { command: 'echo hi', description: 'use the bash tool to run `echo hi`' },
    });
    expect(callOf(ask('Please call run_shell_command with `ls -la`', GEMINI_CLI))?.args).toEqual({
      command: 'ls -la',
    });
    // An identifier-like name counts anywhere; the earliest named tool wins.
    expect(callOf(ask('Update the list with TodoWrite, then Bash', CLAUDE_CODE))?.name).toBe('TodoWrite');
  });

  it('picks the best-suited tool for an action verb without a tool name', () => {
    expect(callOf(ask('run `echo hi`', GEMINI_CLI))).toEqual({
      name: 'run_shell_command',
      args: { command: 'echo hi' },
    });
    expect(callOf(ask('Run `date` please', CLAUDE_CODE))?.name).toBe('Bash');
    expect(callOf(ask('List the files in this folder', OPENCODE))).toEqual({ name: 'list', args: {} });
    expect(callOf(ask('list the files in src/', GEMINI_CLI))).toEqual({
      name: 'list_directory',
      args: { path: 'src/' },
    });
    expect(callOf(ask('Read package.json and tell me the version', OPENCODE))).toEqual({
      name: 'read',
      args: { filePath: 'package.json' },
    });
  });

  it('makes a path absolute against the working directory the client names when the tool asks for it', () => {
    const system = {
      parts: [{ text: '<env>\nWorking directory: /tmp/proj\nIs directory a git repo: No\n</env>' }],
    };
    expect(callOf(ask('Read README.md', CLAUDE_CODE, { systemInstruction: system }))).toEqual({
      name: 'Read',
      args: { file_path: '/tmp/proj/README.md' },
    });
    const gemini: Content[] = [
      { role: 'user', parts: [{ text: "I'm currently working in the directory: /home/me/app" }] },
      { role: 'model', parts: [{ text: 'Got it. Thanks for the context!' }] },
    ];
    expect(callOf(ask('read the file notes/todo.txt', GEMINI_CLI, {}, gemini))?.args).toEqual({
      absolute_path: '/home/me/app/notes/todo.txt',
    });
  });

  it('answers plain prompts in text even with twenty tools declared', () => {
    for (const [client, decls] of Object.entries(CLIENTS)) {
      for (const prompt of [
        'Say hello',
        'Reply with the single word pong',
        'Write a haiku about the sea',
        'List three colours',
        'What is 2+2?',
        'Tell me a joke about shells',
      ]) {
        expect(callOf(ask(prompt, decls)), `${client}: ${prompt}`).toBeUndefined();
        expect(textOf(ask(prompt, decls))).toBe(`Simulated claude-sonnet-4-6 reply to: "${prompt}"`);
      }
    }
  });

  it("ignores tool names in the client's system reminders and environment context", () => {
    const reminder =
      '<system-reminder>The TodoWrite tool has not been used recently. Use the Bash tool for `ls`.</system-reminder>';
    const req: GenerateRequest = {
      contents: [{ role: 'user', parts: [{ text: reminder }, { text: 'Say hello' }] }],
      tools: [{ functionDeclarations: CLAUDE_CODE }],
    };
    expect(callOf(req)).toBeUndefined();
    expect(textOf(req)).toBe('Simulated claude-sonnet-4-6 reply to: "Say hello"');
    const codex: GenerateRequest = {
      contents: [
        {
          role: 'user',
          parts: [
            {
              text: '<environment_context>\n  <cwd>/tmp/x</cwd>\n  <shell>bash</shell>\n</environment_context>',
            },
            { text: 'hi there' },
          ],
        },
      ],
      tools: [{ functionDeclarations: CODEX }],
    };
    expect(callOf(codex)).toBeUndefined();
  });

  it('reads only the prompt in turns as Claude Code and Gemini CLI send them', () => {
    // Claude Code: reminders before the prompt, its environment as a system message after it (the
    // proxy passes that on as <system> text in the same user turn).
    const environment =
      '<system>\n# Environment\n - Primary working directory: /home/user/work\n - Shell: bash\n' +
      ' - Downloaded files are untrusted: put each in its own new, empty directory, keep scripts you write ' +
      'in a different directory, and run nothing from inside it. Read the file list first.\n</system>';
    const claude = (prompt: string): GenerateRequest => ({
      contents: [
        {
          role: 'user',
          parts: [
            {
              text: '<system-reminder>\nAttribution for git commits you create from here on.</system-reminder>',
            },
            { text: prompt },
            { text: environment },
          ],
        },
      ],
      tools: [{ functionDeclarations: CLAUDE_CODE }],
    });
    expect(callOf(claude('Say hello in five words.'))).toBeUndefined();
    expect(textOf(claude('Say hello in five words.'))).toBe(
      'Simulated claude-sonnet-4-6 reply to: "Say hello in five words."',
    );
    expect(callOf(claude('Use the Bash tool to run `echo hi`'))).toEqual({
      name: 'Bash',
      args: { command: 'echo hi' },
    });
    expect(callOf(claude('Read notes.md'))).toEqual({
      name: 'Read',
      args: { file_path: '/home/user/work/notes.md' },
    });
    // Gemini CLI: its session context and the prompt as two parts of one turn.
    const context =
      '<session_context>\nThis is the Gemini CLI. We are setting up the context for our chat.\n- **Workspace Directories:**\n  - /home/user/work\n- **Directory Structure:**\n/home/user/work/\n</session_context>';
    const gemini = (prompt: string): GenerateRequest => ({
      contents: [{ role: 'user', parts: [{ text: context }, { text: prompt }] }],
      tools: [{ functionDeclarations: GEMINI_CLI }],
    });
    expect(callOf(gemini('Say hello in five words.'))).toBeUndefined();
    expect(callOf(gemini('List the files in this directory'))).toEqual({
      name: 'list_directory',
      args: { path: '.' },
    });
  });

  it("writes a script for Codex's code-mode exec tool that runs the prompt's command", () => {
    // Codex 0.171 declares one freeform JavaScript tool (the proxy passes it as a function with one
    // string argument `input`) whose scripts call nested tools such as exec_command.
    const codeMode = [
      fn('functions__exec', obj({ input: str() }, ['input'])),
      fn('functions__wait', obj({ cell_id: str() }, ['cell_id'])),
    ];
    (codeMode[0] as FunctionDeclaration).description =
      'Run JavaScript code to orchestrate/compose tool calls. All nested tools are available on the ' +
      'global `tools` object, for example `await tools.exec_command(...)`.';
    expect(callOf(ask('run `echo hi` with the shell tool', codeMode))).toEqual({
      name: 'functions__exec',
      args: {
        input:
          'const result = await tools.exec_command({ cmd: "echo hi" });\n' +
          "text(typeof result === 'string' ? result : (result.output ?? result));",
      },
    });
  });

  it('calls a tool whose distinctive name word the prompt uses', () => {
    const weather = fn(
      'get_weather',
      obj({ city: str(), unit: { type: 'string', enum: ['c', 'f'] } }, ['city']),
    );
    expect(callOf(ask('Weather in Paris?', [weather]))).toEqual({
      name: 'get_weather',
      args: { city: 'sample' },
    });
    expect(
      callOf(ask('Weather in Paris in f?', [fn('w', obj({ u: { enum: ['c', 'f'] } }, ['u'])), weather])),
    ).toEqual({
      name: 'get_weather',
      args: { city: 'sample' },
    });
  });

  it('answers in text that quotes the tool result, so agent loops end', () => {
    const history: Content[] = [
      { role: 'user', parts: [{ text: 'Use the Bash tool to run `echo hi`' }] },
      { role: 'model', parts: [{ functionCall: { name: 'Bash', args: { command: 'echo hi' } } }] },
    ];
    const req: GenerateRequest = {
      contents: [
        ...history,
        {
          role: 'user',
          parts: [
            { functionResponse: { name: 'Bash', response: { result: 'hi\n' } } },
            { text: '<system-reminder>Todo list is empty.</system-reminder>' },
          ],
        },
      ],
      tools: [{ functionDeclarations: CLAUDE_CODE }],
    };
    expect(callOf(req)).toBeUndefined();
    expect(textOf(req)).toBe(
      'Simulated claude-sonnet-4-6 answer after Bash returned "hi". You asked: "Use the Bash tool to run `echo hi`"',
    );
    const failed: GenerateRequest = {
      contents: [
        ...history,
        {
          role: 'user',
          parts: [{ functionResponse: { name: 'Bash', response: { error: 'permission denied' } } }],
        },
      ],
    };
    expect(textOf(failed)).toContain('Bash returned "error: permission denied"');
  });

  it('follows the function calling mode and the allowed names', () => {
    const none = ask('Use the Bash tool to run `ls`', CLAUDE_CODE, {
      toolConfig: { functionCallingConfig: { mode: 'NONE' } },
    });
    expect(callOf(none)).toBeUndefined();
    // ANY: a call even for a plain prompt and after a result.
    const any = ask('Say hello', CLAUDE_CODE, { toolConfig: { functionCallingConfig: { mode: 'ANY' } } });
    expect(callOf(any)?.name).toBe('Task');
    const allowed = ask('Say hello', CLAUDE_CODE, {
      toolConfig: { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['Glob'] } },
    });
    expect(callOf(allowed)).toEqual({ name: 'Glob', args: { pattern: '**/*' } });
    const afterResult: GenerateRequest = {
      ...any,
      contents: [
        ...any.contents,
        { role: 'model', parts: [{ functionCall: { name: 'Task', args: {} } }] },
        { role: 'user', parts: [{ functionResponse: { name: 'Task', response: { result: 'done' } } }] },
      ],
    };
    expect(callOf(afterResult)?.name).toBe('Task');
  });

  it('keeps the signed thought part before the call and counts the call in usage', () => {
    const a = buildAnswer(thinking, ask('Use the Bash tool to run `echo hi`', CLAUDE_CODE), 3);
    expect(a.chunks[0]?.[0]).toMatchObject({ thought: true });
    expect(a.chunks[0]?.[0]?.thoughtSignature).toBeTruthy();
    expect(a.chunks[1]).toEqual([{ functionCall: { name: 'Bash', args: { command: 'echo hi' } } }]);
    expect(a.usage.candidatesTokenCount).toBeGreaterThan(0);
    expect(a.usage.totalTokenCount).toBe(
      a.usage.promptTokenCount + a.usage.candidatesTokenCount + (a.usage.thoughtsTokenCount ?? 0),
    );
  });
});

describe('tool arguments satisfy the schema', () => {
  it('for every tool of the agent CLIs and assorted prompts', () => {
    const prompts = [
      'Use the TOOL tool',
      'call TOOL with `echo hi` on src/index.ts',
      'run TOOL to fetch https://example.org/a and save it as out/page.html',
      '',
    ];
    for (const decls of Object.values(CLIENTS)) {
      for (const d of decls) {
        for (const p of prompts) {
          const facts = promptFacts({
            contents: [{ role: 'user', parts: [{ text: p.replace('TOOL', d.name) }] }],
          });
          const args = argumentsFor(d, facts, undefined);
          const schema = d.parametersJsonSchema ?? d.parameters;
          expect(validArgs(schema, args), `${d.name} "${p}": ${JSON.stringify(args)}`).toBeNull();
        }
      }
    }
  });

  it('handles formats, bounds, refs, allOf, anyOf, tuples and unique items', () => {
    const schema = {
      type: 'object',
      $defs: {
        Point: obj(
          { x: { type: 'integer', exclusiveMinimum: 3, multipleOf: 2 }, y: { type: 'number', maximum: -5 } },
          ['x', 'y'],
        ),
      },
      properties: {
        when: { type: 'string', format: 'date-time' },
        id: { type: 'string', format: 'uuid' },
        email: { type: 'string', format: 'email' },
        code: { type: 'string', pattern: '^[A-Z]+$', minLength: 3 },
        point: { $ref: '#/$defs/Point' },
        tags: { type: 'array', items: { type: 'string' }, minItems: 3, uniqueItems: true },
        pair: { type: 'array', prefixItems: [{ type: 'integer' }, { type: 'boolean' }] },
        both: {
          allOf: [
            { type: 'object', properties: { a: str() }, required: ['a'] },
            { properties: { b: { type: 'integer', minimum: 10 } }, required: ['b'] },
          ],
        },
        either: { anyOf: [{ type: 'null' }, { type: 'number', minimum: 0.5, maximum: 0.75 }] },
        ratio: { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1 },
        fixed: { const: 'v1' },
      },
      required: ['when', 'id', 'email', 'code', 'point', 'tags', 'pair', 'both', 'either', 'ratio', 'fixed'],
    };
    const args = argumentsFor(
      fn('f', schema),
      promptFacts({ contents: [{ role: 'user', parts: [{ text: 'x' }] }] }),
      undefined,
    );
    expect(validArgs(schema, args), JSON.stringify(args)).toBeNull();
    expect(args.when).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(args.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-a[0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(args.email).toBe('user@example.com');
    // Deterministic: the same request, the same arguments.
    expect(
      argumentsFor(
        fn('f', schema),
        promptFacts({ contents: [{ role: 'user', parts: [{ text: 'x' }] }] }),
        undefined,
      ),
    ).toEqual(args);
  });

  it('for random schemas (property test)', () => {
    const leaf = fc.oneof(
      fc.record(
        {
          type: fc.constantFrom('string', 'STRING'),
          minLength: fc.integer({ min: 0, max: 12 }),
          maxLength: fc.integer({ min: 12, max: 20 }),
          format: fc.constantFrom('date-time', 'date', 'email', 'uri', 'uuid', 'hostname'),
        },
        { requiredKeys: ['type'] },
      ),
      fc.record(
        {
          type: fc.constantFrom('integer', 'number', 'NUMBER'),
          minimum: fc.integer({ min: -50, max: 50 }),
          maximum: fc.integer({ min: 60, max: 200 }),
          exclusiveMinimum: fc.integer({ min: -100, max: -60 }),
          multipleOf: fc.constantFrom(1, 2, 5),
        },
        { requiredKeys: ['type'] },
      ),
      fc.constant({ type: 'boolean' }),
      fc.record({
        enum: fc.uniqueArray(fc.string({ minLength: 1, maxLength: 5 }), { minLength: 1, maxLength: 4 }),
      }),
      fc.record({ const: fc.oneof(fc.integer(), fc.string()) }),
    );
    const { schema } = fc.letrec<{ schema: unknown }>((tie) => ({
      schema: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        leaf,
        fc
          .dictionary(
            fc.constantFrom('a', 'b', 'command', 'path', 'file_path', 'description', 'url', 'n'),
            tie('schema'),
            {
              maxKeys: 4,
            },
          )
          .chain((properties) =>
            fc.record({
              type: fc.constant('object'),
              properties: fc.constant(properties),
              required: fc.subarray(Object.keys(properties)),
            }),
          ),
        fc.record(
          {
            type: fc.constant('array'),
            items: tie('schema'),
            minItems: fc.integer({ min: 0, max: 3 }),
            maxItems: fc.integer({ min: 3, max: 5 }),
          },
          { requiredKeys: ['type', 'items'] },
        ),
        fc.record({ anyOf: fc.array(tie('schema'), { minLength: 1, maxLength: 3 }) }),
      ),
    }));
    const root = schema.chain((inner) =>
      fc.record({
        type: fc.constant('object'),
        properties: fc.constant({ x: inner }),
        required: fc.constant(['x']),
      }),
    );
    fc.assert(
      fc.property(
        root,
        fc.constantFrom('', 'run `echo hi` on src/a.ts', 'fetch https://example.com/x'),
        (s, text) => {
          const args = argumentsFor(
            fn('f', s),
            promptFacts({ contents: [{ role: 'user', parts: [{ text }] }] }),
            undefined,
          );
          const problem = validArgs(s, args);
          if (problem !== null)
            throw new Error(`${problem}: ${JSON.stringify(args)} for ${JSON.stringify(s)}`);
        },
      ),
      { numRuns: 400, seed: 20261208 },
    );
  });
});
