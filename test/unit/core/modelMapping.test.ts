import { describe, expect, it } from 'vitest';
import { DEFAULT_CATALOG } from '../../../src/core/catalog';
import { ConfigError } from '../../../src/core/errors';
import { displayModelName, ModelMapper, type CatalogEntry } from '../../../src/core/modelMapping';
import { compareVersions, parseModelName } from '../../../src/core/modelNames';

function target(m: ModelMapper, name: string): string {
  const r = m.resolve(name);
  if (!r.ok) throw new Error(`${name} did not resolve: ${r.message}`);
  return r.model;
}

/** The names real clients send on their defaults and common settings → the id served today. */
const CLIENT_NAMES: ReadonlyArray<[client: string, name: string, upstream: string]> = [
  // Claude Code: default, small/fast model, older pinned names, thinking and provider-prefixed forms.
  ['claude code', 'claude-opus-5-5', 'claude-opus-4-6-thinking'],
  ['claude code', 'claude-opus-4-8', 'claude-opus-4-6-thinking'],
  ['claude code', 'claude-opus-4-8[1m]', 'claude-opus-4-6-thinking'],
  ['claude code', 'claude-haiku-4-5-20251001', 'gemini-3-flash'],
  ['claude code', 'claude-sonnet-4-5-20250929', 'claude-sonnet-4-6'],
  ['claude code', 'claude-sonnet-4-6', 'claude-sonnet-4-6'],
  ['claude code', 'claude-opus-4-1-20250805', 'claude-opus-4-6-thinking'],
  ['anthropic sdk', 'claude-3-5-sonnet-20241022', 'claude-sonnet-4-6'],
  ['anthropic sdk', 'claude-3-7-sonnet-thinking', 'claude-sonnet-4-6-thinking'],
  ['anthropic sdk', 'claude-3-5-haiku-latest', 'gemini-3-flash'],
  ['vertex', 'claude-sonnet-4-5@20250929', 'claude-sonnet-4-6'],
  ['opencode', 'anthropic/claude-sonnet-4.5', 'claude-sonnet-4-6'],
  ['alias', 'opus', 'claude-opus-4-6-thinking'],
  ['alias', 'sonnet', 'claude-sonnet-4-6'],
  // Gemini CLI: its defaults, its rewrites and its fallbacks.
  ['gemini cli', 'gemini-3.1-pro-preview', 'gemini-pro-agent'],
  ['gemini cli', 'gemini-3-pro-preview', 'gemini-3-pro-high'],
  ['gemini cli', 'gemini-3.8-flash', 'gemini-3-flash'],
  ['gemini cli', 'gemini-3-flash-preview', 'gemini-3-flash'],
  ['gemini cli', 'gemini-3.5-flash-lite', 'gemini-3-flash'],
  ['gemini cli', 'gemini-2.5-flash-lite', 'gemini-3-flash'],
  ['gemini cli', 'gemini-2.5-pro', 'gemini-pro-agent'],
  ['gemini cli', 'gemini-flash-latest', 'gemini-3-flash'],
  ['genai sdk', 'models/gemini-2.5-flash-preview-05-20', 'gemini-3-flash'],
  ['genai sdk', 'gemini-2.5-flash-image-preview', 'gemini-3.1-flash-image'],
  ['genai sdk', 'gemini-3-pro-image-preview', 'gemini-3.1-flash-image'],
  ['genai sdk', 'gemini-1.5-pro-002', 'gemini-pro-agent'],
  // Codex CLI, opencode and the OpenAI SDK.
  ['codex', 'gpt-6.2-sol', 'gemini-pro-agent'],
  ['codex', 'gpt-5.2-codex', 'gemini-pro-agent'],
  ['codex', 'gpt-5.1-codex-max', 'gemini-pro-agent'],
  ['codex', 'gpt-5.1-codex-mini', 'gemini-3-flash'],
  ['codex', 'codex-mini-latest', 'gemini-3-flash'],
  ['openai sdk', 'gpt-4o', 'gemini-pro-agent'],
  ['openai sdk', 'gpt-4o-mini', 'gemini-3-flash'],
  ['openai sdk', 'gpt-5-nano', 'gemini-3-flash'],
  ['openai sdk', 'o3', 'gemini-pro-agent'],
  ['openai sdk', 'o4-mini', 'gemini-3-flash'],
  ['openai sdk', 'gpt-oss-120b', 'gpt-oss-120b-medium'],
  // Catalog ids and deprecated ids.
  ['any', 'gemini-3-flash', 'gemini-3-flash'],
  ['any', 'GEMINI-3-PRO-LOW', 'gemini-3-pro-low'],
  ['any', 'gemini-3.1-pro-high', 'gemini-pro-agent'],
];

describe('ModelMapper on the built-in catalog', () => {
  it.each(CLIENT_NAMES)('%s: %s → %s', (_client, name, upstream) => {
    expect(target(new ModelMapper(), name)).toBe(upstream);
  });

  it('refuses a name of no family with a message naming it and listing what is available', () => {
    const r = new ModelMapper().resolve('my-local-model');
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.message).toContain('"my-local-model"');
    for (const m of DEFAULT_CATALOG) expect(r.message).toContain(m.id);
    expect(r.message).toContain('quotaPilot.modelMapping');
  });

  it('never echoes a key pasted into the model field, and shortens long names', () => {
    const key = 'sk-ant-api03-Q2hhbmdlIG1lIHBsZWFzZSB0aGlzIGlzIGEga2V5IGZvciB0ZXN0cw';
    const r = new ModelMapper().resolve(key);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.message).not.toContain(key.slice(14, 30));
      expect(r.message).toContain('looks like a key');
    }
    expect(displayModelName('x'.repeat(20) + '-' + 'y'.repeat(20) + '-z')).toHaveLength(41);
    expect(displayModelName('ya29.a0AfH6SMB')).toContain('looks like a key');
  });

  it.each(['constructor', '__proto__', 'toString', 'valueOf', 'hasOwnProperty'])(
    'treats %s as an ordinary unknown name',
    (name) => {
      const m = new ModelMapper({});
      const r = m.resolve(name);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.message).toContain(`"${name}"`);
    },
  );
});

describe('ModelMapper on a fetched catalog', () => {
  // A larger, newer catalog in the shape the upstream reports it (with names that belong to no family).
  const NEWER: CatalogEntry[] = [
    { id: 'claude-opus-4-8-thinking', displayName: 'Claude Opus 4.8 (Thinking)' },
    { id: 'claude-opus-4-6-thinking', displayName: 'Claude Opus 4.6 (Thinking)' },
    { id: 'claude-sonnet-4-6', displayName: 'Claude Sonnet 4.6' },
    { id: 'gemini-3.5-flash-lite', displayName: 'Gemini 3.5 Flash-Lite' },
    { id: 'gemini-3-flash', displayName: 'Gemini 3 Flash', recommended: true },
    { id: 'gemini-3.5-flash', displayName: 'Gemini 3.5 Flash' },
    { id: 'gemini-3-pro-high', displayName: 'Gemini 3 Pro (High)' },
    { id: 'gemini-3-pro-low', displayName: 'Gemini 3 Pro (Low)' },
    { id: 'chat_20706', displayName: 'chat_20706' },
    { id: 'tab_flash_lite_preview', displayName: 'tab_flash_lite_preview' },
  ];

  it('follows what the upstream offers, version by version', () => {
    const m = new ModelMapper({}, { catalog: NEWER });
    expect(target(m, 'claude-opus-4-8')).toBe('claude-opus-4-8-thinking');
    expect(target(m, 'claude-opus-4-6')).toBe('claude-opus-4-6-thinking');
    expect(target(m, 'claude-opus-5')).toBe('claude-opus-4-8-thinking');
    expect(target(m, 'gemini-3.5-flash-lite')).toBe('gemini-3.5-flash-lite');
    expect(target(m, 'gemini-2.5-flash-lite')).toBe('gemini-3.5-flash-lite');
    expect(target(m, 'gemini-3.8-flash')).toBe('gemini-3.5-flash');
    expect(target(m, 'gemini-3-flash-preview')).toBe('gemini-3-flash');
    expect(target(m, 'gemini-3.1-pro-preview')).toBe('gemini-3-pro-high');
    expect(target(m, 'gpt-5.2-codex')).toBe('gemini-3-pro-high');
    // Only pro and flash families offered for images: refused, naming the family.
    const img = m.resolve('gemini-2.5-flash-image');
    expect(img.ok).toBe(false);
    if (!img.ok) expect(img.message).toContain('Gemini Image');
  });

  it('falls back to a neighbouring family when a family is not offered', () => {
    const m = new ModelMapper({}, { catalog: [{ id: 'claude-sonnet-4-6' }, { id: 'gemini-3-flash' }] });
    expect(target(m, 'claude-opus-4-8')).toBe('claude-sonnet-4-6');
    expect(target(m, 'gemini-3.1-pro-preview')).toBe('gemini-3-flash');
    expect(target(m, 'gpt-4o')).toBe('claude-sonnet-4-6');
  });

  it('logs each choice once per name, with the reason, and again when a new catalog changes it', () => {
    const lines: string[] = [];
    const m = new ModelMapper({}, { log: (l) => lines.push(l) });
    for (let i = 0; i < 3; i++) m.resolve('claude-opus-4-8');
    m.resolve('gemini-3-flash');
    expect(lines).toEqual([
      'model "claude-opus-4-8" → claude-opus-4-6-thinking (Claude Opus 4.8 is newer than any offered; the best offered is 4.6)',
    ]);
    m.setCatalog(NEWER);
    m.resolve('claude-opus-4-8');
    m.resolve('claude-opus-4-8');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toContain('→ claude-opus-4-8-thinking (Claude Opus 4.8 is offered)');
  });

  it('lists the names clients send with their targets, without repeating catalog ids', () => {
    const m = new ModelMapper({ 'my-alias': 'gemini-3-flash' }, { catalog: NEWER });
    m.resolve('gemini-2.5-pro');
    m.resolve('gemini-3-flash');
    const aliases = m.aliases();
    expect(aliases).toContainEqual({ alias: 'my-alias', model: 'gemini-3-flash' });
    expect(aliases).toContainEqual({ alias: 'claude-opus-5-5', model: 'claude-opus-4-8-thinking' });
    expect(aliases).toContainEqual({ alias: 'gemini-2.5-pro', model: 'gemini-3-pro-high' });
    expect(aliases.map((a) => a.alias)).not.toContain('gemini-3-flash');
  });
});

describe('ModelMapper user table', () => {
  it('lets the user table win, exact before patterns, patterns in order', () => {
    const m = new ModelMapper({ 'gpt-*': 'gemini-3-flash', 'gpt-4o': 'claude-sonnet-4-6' });
    expect(m.resolve('gpt-4o')).toMatchObject({ ok: true, model: 'claude-sonnet-4-6', via: 'user' });
    expect(m.resolve('gpt-5-codex')).toMatchObject({ ok: true, model: 'gemini-3-flash', via: 'user' });
  });

  it('resolves family names and deprecated ids in targets; sends other targets as written', () => {
    const m = new ModelMapper({ legacy: 'gemini-3.1-pro-high', big: 'opus', mine: 'my-finetune' });
    expect(m.resolve('legacy')).toMatchObject({ model: 'gemini-pro-agent', via: 'user' });
    expect(m.resolve('big')).toMatchObject({ model: 'claude-opus-4-6-thinking', via: 'user' });
    expect(m.resolve('mine')).toMatchObject({ model: 'my-finetune', via: 'user' });
    m.setUserTable({});
    expect(m.resolve('mine').ok).toBe(false);
  });

  it('forwards deprecated ids and survives cycles', () => {
    const m = new ModelMapper();
    expect(m.resolve('gemini-3.1-pro-high')).toMatchObject({ model: 'gemini-pro-agent', via: 'deprecated' });
    m.setDeprecated({ a: 'b', b: 'a', constructor: 'gemini-3-flash' });
    expect(['a', 'b']).toContain(target(m, 'a'));
    expect(target(m, 'constructor')).toBe('gemini-3-flash');
    const table: unknown = JSON.parse('{"__proto__": "gemini-3-flash", "constructor": "opus"}');
    const user = new ModelMapper(table);
    expect(user.resolve('__proto__').ok).toBe(false); // zod drops the key: never a prototype
    expect(target(user, 'constructor')).toBe('claude-opus-4-6-thinking');
    expect(user.resolve('toString').ok).toBe(false);
  });

  it('rejects a bad table with a message naming the entry and the setting', () => {
    expect(() => new ModelMapper({ 'gpt-4o': '' })).toThrow(ConfigError);
    expect(() => new ModelMapper({ 'gpt-4o': '' })).toThrow(/gpt-4o.*quotaPilot\.modelMapping/);
    expect(() => new ModelMapper({ 'gpt 4o': 'x' })).toThrow(/letters, digits/);
    expect(() => new ModelMapper({ a: 'x*' })).toThrow(/no \*/);
    expect(() => new ModelMapper(['x'])).toThrow(ConfigError);
  });
});

describe('model names', () => {
  it('reads family, version and variant', () => {
    expect(parseModelName('claude-3-5-sonnet-20241022')).toMatchObject({
      family: 'claude-sonnet',
      version: [3, 5],
    });
    expect(parseModelName('claude-opus-4-6-thinking')).toMatchObject({ version: [4, 6], thinking: true });
    expect(parseModelName('gemini-pro-agent', 'Gemini 3.1 Pro (Agent)')).toMatchObject({
      family: 'gemini-pro',
      version: [3, 1],
      tier: 'agent',
    });
    expect(parseModelName('gemini-2.0-flash-001')).toMatchObject({ family: 'gemini-flash', version: [2, 0] });
    expect(parseModelName('gpt-oss-120b-medium')).toMatchObject({ family: 'gpt-oss', size: 120 });
    for (const none of ['gemini-embedding-001', 'chat_20706', 'gpt-image-1', 'my-local-model', 'claude-2'])
      expect(parseModelName(none)).toBeUndefined();
  });

  it('compares versions numerically', () => {
    expect(compareVersions([3, 10], [3, 9])).toBeGreaterThan(0);
    expect(compareVersions([3], [3, 0])).toBe(0);
    expect(compareVersions([2, 5], [3])).toBeLessThan(0);
  });
});
