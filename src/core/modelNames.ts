/**
 * What a model name says: its family (Claude Opus / Sonnet / Haiku, Gemini Pro / Flash / Flash-Lite /
 * Image, GPT-OSS, OpenAI's large and small models), its version and its variant (thinking, a tier such
 * as `high` / `low`). Used on both sides of model resolution: on the names clients send
 * (`claude-opus-4-8`, `claude-3-5-haiku-20241022`, `gemini-3.1-pro-preview`, `gpt-5.2-codex`, `o4-mini`)
 * and on the ids the upstream's catalog offers (`claude-opus-4-6-thinking`, `gemini-3-pro-high`,
 * `gemini-pro-agent` — whose version only its display name "Gemini 3.1 Pro (Agent)" carries).
 *
 * Dates (`-20251001`, `@20250929`), revision and channel suffixes (`-001`, `-preview`, `-latest`,
 * `-exp`, `-preview-05-20`), provider prefixes (`models/`, `anthropic/`) and context tags (`[1m]`)
 * are ignored. Pure: no I/O, no clock.
 */

export type ModelFamily =
  | 'claude-opus'
  | 'claude-sonnet'
  | 'claude-haiku'
  | 'gemini-pro'
  | 'gemini-flash'
  | 'gemini-flash-lite'
  | 'gemini-image'
  | 'gpt-oss'
  /** OpenAI's large models (gpt-4o, gpt-5.x, gpt-5.x-codex, o1 / o3): served by the best Gemini Pro. */
  | 'openai-large'
  /** OpenAI's small models (-mini, -nano, o4-mini, codex-mini): served by the best Gemini Flash. */
  | 'openai-small';

export interface ParsedModelName {
  family: ModelFamily;
  /** Numeric version components, e.g. [4, 6]; empty when the name carries none ("latest"). */
  version: number[];
  /** A thinking variant (`-thinking`). */
  thinking: boolean;
  /** A tier or effort tag: high, low, medium, agent, max … (undefined when none). */
  tier: string | undefined;
  /** Parameter count in billions for open-weight names (`gpt-oss-120b` → 120). */
  size: number | undefined;
}

/**
 * For each family the client may ask for, the families that can serve it, best first. The first
 * entry is the family itself; the others are used only when the accounts offer none of it.
 */
export const FAMILY_FALLBACKS: Readonly<Record<ModelFamily, readonly ModelFamily[]>> = Object.freeze({
  'claude-opus': ['claude-opus', 'claude-sonnet', 'gemini-pro'],
  'claude-sonnet': ['claude-sonnet', 'claude-opus', 'gemini-pro'],
  // Claude's small model is not offered upstream: quick side tasks go to Gemini Flash (its own pool).
  'claude-haiku': ['claude-haiku', 'gemini-flash', 'gemini-flash-lite', 'claude-sonnet'],
  'gemini-pro': ['gemini-pro', 'gemini-flash'],
  'gemini-flash': ['gemini-flash', 'gemini-flash-lite', 'gemini-pro'],
  'gemini-flash-lite': ['gemini-flash-lite', 'gemini-flash'],
  'gemini-image': ['gemini-image'],
  'gpt-oss': ['gpt-oss', 'gemini-pro'],
  'openai-large': ['gemini-pro', 'claude-sonnet'],
  'openai-small': ['gemini-flash', 'gemini-flash-lite'],
});

/** Families that upstream ids belong to (never openai-large / openai-small: those are client names). */
export const FAMILY_LABELS: Readonly<Record<ModelFamily, string>> = Object.freeze({
  'claude-opus': 'Claude Opus',
  'claude-sonnet': 'Claude Sonnet',
  'claude-haiku': 'Claude Haiku',
  'gemini-pro': 'Gemini Pro',
  'gemini-flash': 'Gemini Flash',
  'gemini-flash-lite': 'Gemini Flash-Lite',
  'gemini-image': 'Gemini Image',
  'gpt-oss': 'GPT-OSS',
  'openai-large': 'OpenAI large models',
  'openai-small': 'OpenAI small models',
});

const TIERS = new Set(['high', 'medium', 'low', 'agent', 'max', 'minimal', 'xhigh']);
/** Tags that say nothing about which model is meant. */
const NOISE = new Set(['preview', 'latest', 'exp', 'experimental', 'stable', 'beta', 'alpha', 'it']);

/** Lower-cases and strips what never distinguishes models: provider prefixes, `@date`, `[1m]`. */
export function normalizeModelName(name: string): string {
  let s = name.trim().toLowerCase();
  const slash = s.lastIndexOf('/');
  if (slash >= 0) s = s.slice(slash + 1);
  s = s.replace(/\[[^\]]*\]$/, '');
  const at = s.indexOf('@');
  if (at > 0) s = s.slice(0, at);
  return s;
}

/** `4.6` → [4, 6]; `4o` → [4]; not a version → undefined. */
function versionToken(tok: string): number[] | undefined {
  const m = /^v?(\d{1,2}(?:\.\d{1,2})*)o?$/.exec(tok);
  if (!m?.[1]) return undefined;
  return m[1].split('.').map(Number);
}

function isDate(tok: string): boolean {
  return /^\d{4,8}$/.test(tok);
}

function common(tokens: readonly string[]): { thinking: boolean; tier: string | undefined } {
  return {
    thinking: tokens.includes('thinking'),
    tier: tokens.find((t) => TIERS.has(t)),
  };
}

function parseClaude(tokens: string[]): ParsedModelName | undefined {
  const family = tokens.includes('opus')
    ? 'claude-opus'
    : tokens.includes('sonnet')
      ? 'claude-sonnet'
      : tokens.includes('haiku')
        ? 'claude-haiku'
        : undefined;
  if (!family) return undefined;
  // Claude writes versions as 4-6 or 3-5 (or 4.5): every short numeric token before a date.
  const version: number[] = [];
  for (const t of tokens.slice(1)) {
    if (isDate(t)) break;
    const v = versionToken(t);
    if (v && !t.endsWith('o')) version.push(...v);
  }
  return { family, version, ...common(tokens), size: undefined };
}

function parseGemini(tokens: string[], displayName: string | undefined): ParsedModelName | undefined {
  let family: ModelFamily | undefined;
  if (tokens.includes('image')) family = 'gemini-image';
  else if (tokens.includes('flash')) {
    const i = tokens.indexOf('flash');
    family = tokens[i + 1] === 'lite' ? 'gemini-flash-lite' : 'gemini-flash';
  } else if (tokens.includes('pro') || tokens.includes('ultra')) family = 'gemini-pro';
  if (!family) return undefined;
  // Only the first version-like token counts: later digits are revisions or dates (-001, -05-20).
  let version: number[] = [];
  for (const t of tokens.slice(1)) {
    if (t === 'flash' || t === 'pro' || t === 'image' || t === 'ultra') break;
    const v = versionToken(t);
    if (v) {
      version = v;
      break;
    }
  }
  if (version.length === 0 && displayName) version = versionInText(displayName);
  return { family, version, ...common(tokens), size: undefined };
}

function parseOpenAi(tokens: string[]): ParsedModelName | undefined {
  const head = tokens[0] ?? '';
  if (head === 'gpt' && tokens[1] === 'oss') {
    const size = tokens.map((t) => /^(\d+)b$/.exec(t)?.[1]).find((x) => x !== undefined);
    return {
      family: 'gpt-oss',
      version: [],
      ...common(tokens),
      size: size === undefined ? undefined : Number(size),
    };
  }
  const small = tokens.includes('mini') || tokens.includes('nano');
  let version: number[] = [];
  if (head === 'gpt' || head === 'chatgpt') version = versionToken(tokens[1] ?? '') ?? [];
  else if (/^o\d{1,2}$/.test(head)) version = [Number(head.slice(1))];
  else if (head !== 'codex') return undefined;
  if ((head === 'gpt' || head === 'chatgpt') && version.length === 0) return undefined;
  return { family: small ? 'openai-small' : 'openai-large', version, ...common(tokens), size: undefined };
}

/** Bare aliases some clients and users type. */
const BARE: Readonly<Record<string, ModelFamily>> = Object.freeze(
  Object.assign(Object.create(null) as Record<string, ModelFamily>, {
    opus: 'claude-opus',
    sonnet: 'claude-sonnet',
    haiku: 'claude-haiku',
    pro: 'gemini-pro',
    flash: 'gemini-flash',
    'flash-lite': 'gemini-flash-lite',
  }),
);

/** The first version number in a display name ("Gemini 3.1 Pro (Agent)" → [3, 1]). */
export function versionInText(text: string): number[] {
  const m = /(?:^|\s)(\d{1,2}(?:\.\d{1,2})*)(?=\s|$)/.exec(text);
  return m?.[1] ? m[1].split('.').map(Number) : [];
}

/**
 * The family, version and variant a name says, or undefined when it belongs to no family we know
 * (`my-local-model`, `chat_20706`, `gemini-embedding-001`). `displayName` fills in a version the id
 * lacks (catalog entries only).
 */
export function parseModelName(name: string, displayName?: string): ParsedModelName | undefined {
  const s = normalizeModelName(name);
  if (s.length === 0 || s.length > 128) return undefined;
  const bare = BARE[s];
  if (bare) return { family: bare, version: [], thinking: false, tier: undefined, size: undefined };
  const tokens = s.split(/[-_\s]+/).filter((t) => t.length > 0 && !NOISE.has(t));
  switch (tokens[0]) {
    case 'claude':
      return parseClaude(tokens);
    case 'gemini':
      return parseGemini(tokens, displayName);
    default:
      return parseOpenAi(tokens);
  }
}

/** Compares versions numerically; missing components count as 0 ([3] equals [3, 0]). */
export function compareVersions(a: readonly number[], b: readonly number[]): number {
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

export function formatVersion(v: readonly number[]): string {
  return v.length === 0 ? 'latest' : v.join('.');
}
