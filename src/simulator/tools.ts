/**
 * How the simulator answers when tools are declared, the way a model would, deterministically:
 *
 * - **Which function.** Only declarations allowed by `toolConfig.functionCallingConfig` count.
 *   Mode `NONE`: never call. Mode `ANY`: always call one (the one chosen below, else the first).
 *   Mode `AUTO` (or none given): call a function only when the last user turn asks for one —
 *   it names a declared function (an identifier-like name such as `read_file` or `TodoWrite`
 *   anywhere; a plain-word name such as `Bash` or `shell` in backticks, next to "tool"/"function",
 *   or after "use"/"call"/"run"/"with"…), or — when at most four functions are declared — a
 *   distinctive word of a function's name appears (`weather` for `get_weather`), or it pairs an action verb (run, execute, read, open, list,
 *   search, find, fetch, write, edit…) with something to act on (a `backticked` span, a path such
 *   as `src/a.ts` or `README.md`, a URL, or a noun like file, folder, command, shell). For a verb
 *   without a named function the best-suited declaration is chosen (a command tool for "run",
 *   a read tool for "read"…), else the first. After a tool result (a `functionResponse` part in
 *   the last turn) mode AUTO answers in text that quotes the result, so agent loops end.
 * - **Arguments** satisfy the function's JSON schema (`parametersJsonSchema`, or the OpenAPI-style
 *   `parameters`): types, required properties, enums, const, nested objects and arrays, bounds,
 *   lengths, common formats, local `$ref`s, `anyOf` / `oneOf` / `allOf`. Values come from the prompt
 *   where the property's name says what it is: a command (`command`, `cmd`; an array of strings gets
 *   `["bash", "-lc", cmd]`) takes the first `backticked` span, a path takes the prompt's path
 *   (made absolute against the working directory the client's prompt names, when the property asks
 *   for an absolute path), a URL the prompt's URL, free text (description, content, query…) the
 *   prompt's summary. Everything else gets a fixed sample value, so the same request always gets
 *   the same call.
 */
import { createHash } from 'node:crypto';
import type { Content, FunctionDeclaration, GenerateRequest, Part } from './wire';

/**
 * Context clients add to a user turn, not the user's words: Claude Code's system reminders (and its
 * mid-conversation system messages, which the proxy passes on as `<system>` text), Codex's environment
 * context and instructions, Gemini CLI's session context.
 */
const REMINDER =
  /<(system|system-reminder|environment_context|user_instructions|INSTRUCTIONS|session_context)>[\s\S]*?<\/\1>/g;

/** A user turn's own words: its non-thought text parts without the client's system reminders. */
export function userText(content: Content): string {
  return content.parts
    .filter((p) => typeof p.text === 'string' && p.thought !== true)
    .map((p) => (p.text as string).replace(REMINDER, ' '))
    .join(' ')
    .trim();
}

/** The last user turn that has words of its own, or ''. */
export function lastUserText(contents: readonly Content[]): string {
  for (let i = contents.length - 1; i >= 0; i--) {
    const c = contents[i] as Content;
    if (c.role !== undefined && c.role !== 'user') continue;
    const text = userText(c);
    if (text.length > 0) return text;
  }
  return '';
}

// ------------------------------------------------------------------ what the prompt asks for

export interface PromptFacts {
  /** The last user turn's words (system reminders removed). */
  text: string;
  /** `backticked` or fenced spans, in order. */
  code: string[];
  /** "double-quoted" spans, in order. */
  quoted: string[];
  /** Path-like tokens: with a slash, or a name with an extension (README.md). */
  paths: string[];
  urls: string[];
  /** The working directory the client's context names (Claude Code, Gemini CLI, Codex, opencode). */
  cwd: string | undefined;
  /** Whitespace collapsed, cut to 80 characters. */
  summary: string;
}

const CWD_PATTERNS = [
  /working directory:\s*(\/[^\s<>"'`]*)/i,
  /working in the directory:?\s*(\/[^\s<>"'`]*)/i,
  /<cwd>\s*(\/[^<\s]*)\s*<\/cwd>/i,
  /\bcwd:\s*(\/[^\s<>"'`]*)/i,
];

function findCwd(req: GenerateRequest): string | undefined {
  const texts: string[] = [];
  for (const p of req.systemInstruction?.parts ?? []) if (typeof p.text === 'string') texts.push(p.text);
  for (const c of req.contents) for (const p of c.parts) if (typeof p.text === 'string') texts.push(p.text);
  for (const t of texts) {
    for (const re of CWD_PATTERNS) {
      const m = re.exec(t);
      if (m?.[1]) return m[1].replace(/[.,;:]+$/, '');
    }
  }
  return undefined;
}

export function promptFacts(req: GenerateRequest): PromptFacts {
  const text = lastUserText(req.contents);
  const code: string[] = [];
  for (const m of text.matchAll(/```[a-z]*\n?([\s\S]*?)```|`([^`\n]+)`/g)) {
    const span = (m[1] ?? m[2] ?? '').trim();
    if (span.length > 0) code.push(span);
  }
  const quoted = [...text.matchAll(/"([^"\n]{1,200})"/g)].map((m) => m[1] as string);
  const urls = [...text.matchAll(/\bhttps?:\/\/[^\s`"'<>)]+/g)].map((m) => m[0].replace(/[.,;:]+$/, ''));
  const bare = text.replace(/\bhttps?:\/\/[^\s`"'<>)]+/g, ' ');
  const paths: string[] = [];
  for (const m of bare.matchAll(
    /(?:^|[\s`"'(])((?:~|\.{1,2})?\/?[\w.-]+(?:\/[\w.-]+)*\/?)(?=$|[\s`"'),;:?!])/g,
  )) {
    const p = (m[1] as string).replace(/[.,]+$/, '');
    const hasSlash = p.includes('/') && p.replace(/\//g, '').length > 0;
    const hasExt = /^[\w.-]*[A-Za-z_][\w-]*\.[A-Za-z][A-Za-z0-9]{0,7}$/.test(p);
    if ((hasSlash || hasExt) && !paths.includes(p)) paths.push(p);
  }
  const flat = text.replace(/\s+/g, ' ').trim();
  return {
    text,
    code,
    quoted,
    paths,
    urls,
    cwd: findCwd(req),
    summary: flat.length === 0 ? '(no text)' : flat.length > 80 ? `${flat.slice(0, 77)}...` : flat,
  };
}

// ------------------------------------------------------------------ which function

type Intent = 'command' | 'read' | 'list' | 'search' | 'fetch' | 'write';

const VERBS: ReadonlyArray<[RegExp, Intent]> = [
  [/\b(run|execute|exec)\b/i, 'command'],
  [/\b(read|open|cat|view|show)\b/i, 'read'],
  [/\b(list|ls)\b/i, 'list'],
  [/\b(search|grep|find|look for)\b/i, 'search'],
  [/\b(fetch|download|browse)\b/i, 'fetch'],
  [/\b(write|create|edit|modify|change|patch|save)\b/i, 'write'],
];
/** "use" / "call" ask for a tool but say nothing about which kind. */
const GENERIC_VERB = /\b(use|using|call|invoke)\b/i;
const OBJECT_NOUN =
  /\b(files?|folders?|director(?:y|ies)|dirs?|commands?|shell|terminal|scripts?|tools?|functions?|repo(?:sitory)?|codebase|project|urls?|web ?page|website)\b/i;
const NAME_CUE_BEFORE = /\b(use|using|call|calling|invoke|run|with|via|tool|function)\s+(?:the\s+)?[`'"]?$/i;
const NAME_CUE_AFTER = /^[`'"]?\s+(tool|function)\b/i;

/** Up to this many declared tools, a distinctive word of a tool's name is enough to call it. */
const FEW_TOOLS = 4;

/** Name parts too common in agent tools to mean that the prompt asks for one of them. */
const GENERIC_PARTS = new Set(
  (
    'read write edit list file files dir directory folder path search find grep glob fetch web get set ' +
    'run exec execute command shell bash output task todo todos plan mode exit kill ask user question ' +
    'update apply patch view image memory save replace content notebook slash skill create delete move ' +
    'make open close show tool tools call function request input data text value item items name ' +
    'multi many all new old check test http url page info status result results load store send ' +
    'enter topic agent agents workflow report findings schedule wakeup worktree monitor message stop ' +
    'sync design google deferred placeholder cron'
  ).split(' '),
);

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function identifierLike(name: string): boolean {
  return /[_\-.\d]/.test(name) || /[a-z][A-Z]/.test(name);
}

/** Where the text names the function in a way that asks for it, or -1. */
function mentionIndex(text: string, name: string): number {
  const re = new RegExp(`(?<![\\w-])${escapeRe(name)}(?![\\w-])`, 'gi');
  for (const m of text.matchAll(re)) {
    const at = m.index;
    if (identifierLike(name)) return at;
    const before = text.slice(Math.max(0, at - 24), at);
    const after = text.slice(at + name.length, at + name.length + 16);
    if (/`$/.test(before) && /^`/.test(after)) return at;
    if (NAME_CUE_BEFORE.test(before) || NAME_CUE_AFTER.test(after)) return at;
  }
  return -1;
}

/** Distinctive words of a function's name (get_weather → weather), lower case. */
function nameWords(name: string): string[] {
  return name
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .split(/[^A-Za-z]+/)
    .map((w) => w.toLowerCase())
    .filter((w) => w.length >= 4 && !GENERIC_PARTS.has(w));
}

function propsOf(decl: FunctionDeclaration): Record<string, unknown> {
  const schema = (decl.parametersJsonSchema ?? decl.parameters) as { properties?: unknown } | undefined;
  const props = schema?.properties;
  return typeof props === 'object' && props !== null ? (props as Record<string, unknown>) : {};
}

const COMMAND_PROP = /^(command|cmd|commandline|command_line|script|shell_command)$/i;
const PATH_PROP =
  /^(path|file|filename|file_name|file_path|filepath|absolute_path|dir|dir_path|directory|notebook_path|target_file)$/i;

const INTENT_NAME: Record<Intent, RegExp> = {
  command: /bash|shell|exec|command|terminal|run/i,
  read: /read|view|cat|open/i,
  list: /list|^ls$|dir|glob/i,
  search: /grep|search|find|glob/i,
  fetch: /fetch|web|url|browse/i,
  write: /write|edit|patch|replace|create/i,
};

function suits(decl: FunctionDeclaration, intent: Intent): number {
  const props = Object.keys(propsOf(decl));
  let score = INTENT_NAME[intent].test(decl.name) ? 2 : 0;
  if (intent === 'command' && props.some((p) => COMMAND_PROP.test(p))) score += 3;
  if ((intent === 'read' || intent === 'list' || intent === 'write') && props.some((p) => PATH_PROP.test(p)))
    score += 1;
  if (intent === 'fetch' && props.some((p) => /url/i.test(p))) score += 1;
  return score;
}

export interface ToolChoice {
  decl: FunctionDeclaration;
  intent: Intent | undefined;
}

/** The function a model would call for this request, or undefined to answer in text. */
export function chooseFunction(req: GenerateRequest, facts: PromptFacts): ToolChoice | undefined {
  const config = req.toolConfig?.functionCallingConfig;
  const mode = config?.mode?.toUpperCase() ?? 'AUTO';
  if (mode === 'NONE') return undefined;
  let decls = (req.tools ?? []).flatMap((t) => t.functionDeclarations ?? []);
  const allowed = config?.allowedFunctionNames;
  if (allowed && allowed.length > 0) {
    const kept = decls.filter((d) => allowed.includes(d.name));
    if (kept.length > 0) decls = kept;
  }
  if (decls.length === 0) return undefined;
  const last = req.contents[req.contents.length - 1];
  const afterResult = last?.parts.some((p: Part) => p.functionResponse !== undefined) ?? false;
  const forced = mode === 'ANY';
  if (afterResult && !forced) return undefined;

  const text = facts.text;
  const intent = VERBS.find(([re]) => re.test(text))?.[1];
  // 1. A function the prompt names.
  let best: { decl: FunctionDeclaration; at: number } | undefined;
  for (const decl of decls) {
    const at = mentionIndex(text, decl.name);
    if (at >= 0 && (best === undefined || at < best.at)) best = { decl, at };
  }
  if (best) return { decl: best.decl, intent };
  // 2. A distinctive word of a function's name (weather → get_weather), when an app declares a
  //    handful of its own tools; agent CLIs declare dozens, whose names are common words.
  const lower = text.toLowerCase();
  for (const decl of decls.length <= FEW_TOOLS ? decls : []) {
    if (nameWords(decl.name).some((w) => new RegExp(`\\b${escapeRe(w)}`).test(lower)))
      return { decl, intent };
  }
  // 3. An action on something: the best-suited function.
  const hasObject =
    facts.code.length > 0 || facts.paths.length > 0 || facts.urls.length > 0 || OBJECT_NOUN.test(text);
  const asks = (intent !== undefined || GENERIC_VERB.test(text)) && hasObject;
  if (!asks && !forced) return undefined;
  const wanted: Intent | undefined = intent ?? (facts.code.length > 0 ? 'command' : undefined);
  if (wanted) {
    let pick: FunctionDeclaration | undefined;
    let top = 0;
    for (const decl of decls) {
      const s = suits(decl, wanted);
      if (s > top) [pick, top] = [decl, s];
    }
    if (pick) return { decl: pick, intent: wanted };
  }
  return { decl: decls[0] as FunctionDeclaration, intent: wanted };
}

// ------------------------------------------------------------------ arguments from a schema

interface ArgContext {
  facts: PromptFacts;
  intent: Intent | undefined;
  /** The schema document, for local `$ref`s. */
  root: unknown;
  /** The function's name. */
  tool: string;
  /** The function's description. */
  description?: string;
  /** Seeds fixed values (uuids) so one request always gets one answer. */
  seed: string;
  /**
   * A model's structured answer (JSON mode) rather than a call's arguments: explanation fields get a
   * short sentence and other free strings a readable placeholder.
   */
  answer?: boolean;
}

type Schema = Record<string, unknown>;

function asSchema(v: unknown): Schema | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Schema) : undefined;
}

function resolveRef(ref: string, root: unknown): Schema | undefined {
  if (!ref.startsWith('#')) return undefined;
  let node: unknown = root;
  for (const raw of ref
    .slice(1)
    .split('/')
    .filter((s) => s.length > 0)) {
    const key = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    const obj = asSchema(node);
    if (obj === undefined || !Object.hasOwn(obj, key)) return undefined;
    node = obj[key];
  }
  return asSchema(node);
}

/** `$ref` resolved and `allOf` merged into one schema. */
function normalise(schema: Schema, ctx: ArgContext, depth: number): Schema {
  let s = schema;
  for (let i = 0; i < 8 && typeof s.$ref === 'string'; i++) {
    const target = resolveRef(s.$ref, ctx.root);
    const { $ref: _ref, ...rest } = s;
    s = target ? { ...target, ...rest } : rest;
  }
  if (Array.isArray(s.allOf) && depth < 12) {
    const { allOf, ...rest } = s;
    let merged: Schema = { ...rest };
    for (const part of allOf) {
      const p = asSchema(part);
      if (!p) continue;
      const n = normalise(p, ctx, depth + 1);
      merged = {
        ...n,
        ...merged,
        properties: { ...asSchema(n.properties), ...asSchema(merged.properties) },
        required: [
          ...new Set([
            ...(Array.isArray(n.required) ? n.required : []),
            ...(Array.isArray(merged.required) ? merged.required : []),
          ]),
        ],
      };
    }
    s = merged;
  }
  return s;
}

function typeOf(s: Schema): string {
  let t = s.type;
  if (Array.isArray(t)) t = t.find((x) => String(x).toLowerCase() !== 'null') ?? t[0];
  if (typeof t === 'string') return t.toLowerCase();
  if (s.properties !== undefined || s.required !== undefined) return 'object';
  if (s.items !== undefined || s.prefixItems !== undefined) return 'array';
  if (Array.isArray(s.enum) && s.enum.length > 0) return typeof s.enum[0];
  return 'string';
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

function numberFor(s: Schema, integer: boolean): number {
  // Draft 4 spells exclusive bounds as booleans next to minimum / maximum.
  const min = s.exclusiveMinimum === true ? undefined : num(s.minimum);
  const max = s.exclusiveMaximum === true ? undefined : num(s.maximum);
  const exMin = num(s.exclusiveMinimum) ?? (s.exclusiveMinimum === true ? num(s.minimum) : undefined);
  const exMax = num(s.exclusiveMaximum) ?? (s.exclusiveMaximum === true ? num(s.maximum) : undefined);
  const step = num(s.multipleOf);
  const fits = (v: number): boolean =>
    Number.isFinite(v) &&
    (min === undefined || v >= min) &&
    (max === undefined || v <= max) &&
    (exMin === undefined || v > exMin) &&
    (exMax === undefined || v < exMax) &&
    (!integer || Number.isInteger(v)) &&
    (step === undefined || step <= 0 || Math.abs(v / step - Math.round(v / step)) < 1e-9);
  const lo = min ?? exMin;
  const hi = max ?? exMax;
  const bases = [
    min,
    exMin,
    1,
    0,
    max,
    exMax,
    lo !== undefined && hi !== undefined ? (lo + hi) / 2 : undefined,
  ];
  const unit = step !== undefined && step > 0 ? step : integer ? 1 : 0.5;
  for (const base of bases) {
    if (base === undefined) continue;
    for (const delta of [0, unit, -unit]) {
      let v = base + delta;
      if (step !== undefined && step > 0) v = Math.round(v / step) * step;
      if (integer) v = Math.round(v);
      if (fits(v)) return v;
    }
  }
  return lo ?? hi ?? 1;
}

function uuidFrom(seed: string): string {
  const h = createHash('sha256').update(seed).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** A field that asks the model to explain itself (reasoning, complexity_reasoning, rationale…). */
const EXPLANATION = /reason|explanation|explain|rationale|justification|thoughts?$|analysis/i;

/** A short sentence about the prompt, for explanation fields of a structured answer. */
function explanationFor(facts: PromptFacts): string {
  return `Simulated reasoning about the request "${facts.summary}".`;
}

const FREE_TEXT =
  /^(description|content|contents|text|message|prompt|query|question|title|explanation|reason|summary|step|instructions?|body|subject|comment|note|new_string|activeform|active_form)$/i;

function isAbsolutePathProp(name: string, s: Schema): boolean {
  return /absolute/i.test(name) || /absolute path/i.test(String(s.description ?? ''));
}

/** A value for a string property, from the prompt where its name says what it is. */
function stringFor(name: string, s: Schema, ctx: ArgContext): string {
  const f = ctx.facts;
  const format = typeof s.format === 'string' ? s.format.toLowerCase() : '';
  let v: string;
  if (name === 'input' && (ctx.description ?? '').includes('tools.exec_command(')) {
    // Codex's code mode: one freeform JavaScript tool whose scripts call the nested tools.
    const cmd = f.code[0] ?? f.quoted[0] ?? 'echo hello from the simulator';
    return `const result = await tools.exec_command({ cmd: ${JSON.stringify(cmd)} });\ntext(typeof result === 'string' ? result : (result.output ?? result));`;
  } else if (COMMAND_PROP.test(name)) v = f.code[0] ?? f.quoted[0] ?? 'echo hello from the simulator';
  else if (PATH_PROP.test(name)) {
    const dirish = /dir/i.test(name) || ctx.intent === 'list';
    v = f.paths[0] ?? (dirish ? '.' : 'README.md');
    if (isAbsolutePathProp(name, s) && !v.startsWith('/') && f.cwd !== undefined)
      v = `${f.cwd.replace(/\/$/, '')}/${v.replace(/^\.\/?/, '')}`.replace(/\/$/, '') || '/';
  } else if (/url|uri|link/i.test(name) || format === 'uri' || format === 'url')
    v = f.urls[0] ?? 'https://example.com/';
  else if (/^(pattern|regex|glob|search|search_term|keyword)$/i.test(name))
    v = f.code[0] ?? f.quoted[0] ?? (/glob/i.test(`${name} ${ctx.tool}`) ? '**/*' : 'TODO');
  else if (EXPLANATION.test(name) && (ctx.answer === true || !FREE_TEXT.test(name))) v = explanationFor(f);
  else if (FREE_TEXT.test(name)) v = f.summary;
  else if (format === 'date-time') v = '2026-01-01T12:00:00Z';
  else if (format === 'date') v = '2026-01-01';
  else if (format === 'time') v = '12:00:00';
  else if (format === 'email') v = 'user@example.com';
  else if (format === 'uuid') v = uuidFrom(`${ctx.seed}\n${name}`);
  else if (format === 'ipv4') v = '127.0.0.1';
  else if (format === 'ipv6') v = '::1';
  else if (format === 'hostname') v = 'example.com';
  else if (ctx.answer === true && name.length > 0) v = `sample ${words(name)}`;
  else v = 'sample';
  if (typeof s.pattern === 'string') v = matchPattern(s.pattern, v);
  const minLen = num(s.minLength) ?? 0;
  const maxLen = num(s.maxLength);
  if (v.length < minLen) v = v.padEnd(minLen, v.length > 0 ? v : 'x');
  if (maxLen !== undefined && v.length > maxLen) v = v.slice(0, maxLen);
  return v;
}

/** "recipe_name" / "recipeName" → "recipe name". */
function words(name: string): string {
  return name
    .replace(/\[\d+\]$/, '')
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .replace(/[_\-.]+/g, ' ')
    .trim()
    .toLowerCase();
}

/**
 * Bounds a number's description states when the schema gives none ("Complexity score from 1-100.",
 * "between 0 and 1"), as `minimum` / `maximum`.
 */
function describedBounds(s: Schema): Schema {
  if (s.minimum !== undefined || s.maximum !== undefined || typeof s.description !== 'string') return s;
  const m = /\b(?:from|between|range|of)\s+(-?\d+(?:\.\d+)?)\s*(?:-|–|to|and)\s*(-?\d+(?:\.\d+)?)\b/i.exec(
    s.description,
  );
  if (!m) return s;
  const lo = Number(m[1]);
  const hi = Number(m[2]);
  return lo < hi ? { ...s, minimum: lo, maximum: hi } : s;
}

/** The value if it matches the pattern, else a simple candidate that does, else the value. */
function matchPattern(pattern: string, value: string): string {
  let re: RegExp;
  try {
    re = new RegExp(pattern, 'u');
  } catch {
    return value;
  }
  for (const c of [value, 'sample', 'a', 'A', '0', 'a1', 'sample-1', 'example.com', 'x_1', 'ABC', '1.0.0'])
    if (re.test(c)) return c;
  return value;
}

function pickEnum(values: readonly unknown[], ctx: ArgContext): unknown {
  const text = ctx.facts.text.toLowerCase();
  const named = values.find(
    (v) =>
      typeof v === 'string' && v.length > 1 && new RegExp(`\\b${escapeRe(v.toLowerCase())}\\b`).test(text),
  );
  return named ?? values[0];
}

/** A value that satisfies the schema (as far as the constructs above go). */
export function valueFor(name: string, schema: unknown, ctx: ArgContext, depth = 0): unknown {
  const raw = asSchema(schema);
  if (raw === undefined || depth > 10) return schema === false ? null : {};
  const s = normalise(raw, ctx, depth);
  if ('const' in s) return s.const;
  if (Array.isArray(s.enum) && s.enum.length > 0) return pickEnum(s.enum, ctx);
  const options = (s.anyOf ?? s.oneOf) as unknown;
  if (Array.isArray(options) && options.length > 0) {
    const usable = options.find((o) => {
      const t = asSchema(o)?.type;
      return !(typeof t === 'string' && t.toLowerCase() === 'null');
    });
    const { anyOf: _a, oneOf: _o, ...rest } = s;
    return valueFor(name, { ...rest, ...asSchema(usable ?? options[0]) }, ctx, depth + 1);
  }
  switch (typeOf(s)) {
    case 'string':
      return stringFor(name, s, ctx);
    case 'integer':
      return numberFor(describedBounds(s), true);
    case 'number':
      return numberFor(describedBounds(s), false);
    case 'boolean':
      return false;
    case 'null':
      return null;
    case 'array':
      return arrayFor(name, s, ctx, depth);
    default:
      return objectFor(s, ctx, depth);
  }
}

function arrayFor(name: string, s: Schema, ctx: ArgContext, depth: number): unknown[] {
  const items = asSchema(s.items);
  // A command as argv: Codex's `shell` passes it to execvp and asks for ["bash", "-lc", …].
  const plainStrings =
    items !== undefined &&
    typeof items.type === 'string' &&
    items.type.toLowerCase() === 'string' &&
    Object.keys(items).every((k) => k === 'type' || k === 'description') &&
    (num(s.maxItems) ?? 3) >= 3;
  if (COMMAND_PROP.test(name) && plainStrings) {
    const cmd = ctx.facts.code[0] ?? ctx.facts.quoted[0] ?? 'echo hello from the simulator';
    return ['bash', '-lc', cmd];
  }
  const min = Math.max(0, num(s.minItems) ?? 0);
  const max = num(s.maxItems);
  const tuple = Array.isArray(s.prefixItems) ? s.prefixItems : Array.isArray(s.items) ? s.items : undefined;
  if (tuple) {
    const out = tuple.map((t, i) => valueFor(`${name}[${i}]`, t, ctx, depth + 1));
    return max !== undefined ? out.slice(0, max) : out;
  }
  let count = Math.max(min, 1);
  if (max !== undefined) count = Math.min(count, max);
  const out: unknown[] = [];
  const singular = name.replace(/s$/, '');
  for (let i = 0; i < count; i++) {
    let v = valueFor(singular, items ?? {}, ctx, depth + 1);
    if (s.uniqueItems === true && i > 0) {
      const enumValues = Array.isArray(items?.enum) ? items.enum : undefined;
      if (enumValues && i < enumValues.length) v = enumValues[i];
      else if (typeof v === 'string') v = `${v}-${i + 1}`;
      else if (typeof v === 'number') v = v + i;
    }
    out.push(v);
  }
  return out;
}

function objectFor(s: Schema, ctx: ArgContext, depth: number): Record<string, unknown> {
  const props = asSchema(s.properties) ?? {};
  // Without a `required` list (common in OpenAPI-style declarations) every property is filled.
  const required = Array.isArray(s.required) ? s.required.map(String) : Object.keys(props);
  const names = new Set(required.filter((n) => Object.hasOwn(props, n)));
  // Optional properties the prompt gives a value for (a command, a path) are filled too.
  for (const n of Object.keys(props)) {
    if (COMMAND_PROP.test(n) && (ctx.facts.code.length > 0 || ctx.intent === 'command')) names.add(n);
    if (PATH_PROP.test(n) && ctx.facts.paths.length > 0) names.add(n);
  }
  const minProps = num(s.minProperties) ?? 0;
  for (const n of Object.keys(props)) if (names.size < minProps) names.add(n);
  // Gemini's OpenAPI-style schemas may fix the order of the properties (`propertyOrdering`).
  const ordering = Array.isArray(s.propertyOrdering) ? s.propertyOrdering.map(String) : [];
  const order = [...new Set([...ordering.filter((n) => Object.hasOwn(props, n)), ...Object.keys(props)])];
  const out: Record<string, unknown> = {};
  for (const n of order) if (names.has(n)) out[n] = valueFor(n, props[n], ctx, depth + 1);
  // Required names without a property definition still need a value.
  for (const n of required) if (!Object.hasOwn(out, n)) out[n] = 'sample';
  return out;
}

/** Arguments for a call of `decl` that satisfy its parameter schema. */
export function argumentsFor(
  decl: FunctionDeclaration,
  facts: PromptFacts,
  intent: Intent | undefined,
): Record<string, unknown> {
  const schema = decl.parametersJsonSchema ?? decl.parameters ?? { type: 'object' };
  const ctx: ArgContext = {
    facts,
    intent,
    root: schema,
    tool: decl.name,
    ...(decl.description === undefined ? {} : { description: decl.description }),
    seed: `${decl.name}\n${facts.text}`,
  };
  const v = valueFor('', schema, ctx);
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

/**
 * A model's structured answer to the prompt in `facts` (JSON mode): a value that satisfies `schema`
 * (JSON Schema or Gemini's OpenAPI-style Schema), the same for the same prompt.
 */
export function answerFor(schema: unknown, facts: PromptFacts): unknown {
  return valueFor('', schema, {
    facts,
    intent: undefined,
    root: schema,
    tool: '',
    seed: facts.text,
    answer: true,
  });
}

/** The enum value an answer picks: one the prompt names, else the first. */
export function enumAnswer(values: readonly unknown[], facts: PromptFacts): unknown {
  return pickEnum(values, { facts, intent: undefined, root: {}, tool: '', seed: facts.text, answer: true });
}

// ------------------------------------------------------------------ text after a tool result

function resultText(response: unknown): string {
  if (typeof response === 'string') return response;
  const obj = asSchema(response);
  if (obj) {
    for (const key of ['error', 'output', 'result', 'content', 'stdout', 'text', 'llmContent']) {
      const v = obj[key];
      if (typeof v === 'string') return key === 'error' ? `error: ${v}` : v;
      if (Array.isArray(v) && v.every((x) => typeof asSchema(x)?.text === 'string'))
        return v.map((x) => (x as { text: string }).text).join(' ');
    }
  }
  return JSON.stringify(response ?? null) ?? '';
}

/** "Bash returned "hi"" for each tool result in the last turn. */
export function describeToolResults(parts: readonly Part[]): string {
  const pieces: string[] = [];
  for (const p of parts) {
    const r = p.functionResponse;
    if (!r) continue;
    let t = resultText(r.response).replace(/\s+/g, ' ').trim();
    if (t.length > 120) t = `${t.slice(0, 117)}...`;
    pieces.push(`${r.name} returned "${t}"`);
  }
  return pieces.join('; ');
}
