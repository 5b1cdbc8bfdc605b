import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/core/errors';
import { ModelMapper } from '../../../src/core/modelMapping';

describe('ModelMapper', () => {
  it('maps the names popular clients send to catalog ids', () => {
    const m = new ModelMapper();
    expect(m.map('claude-sonnet-4-5-20250929')).toEqual({ model: 'claude-sonnet-4-6', via: 'default' });
    expect(m.map('claude-opus-4-1-20250805').model).toBe('claude-opus-4-6-thinking');
    expect(m.map('claude-3-5-haiku-20241022').model).toBe('gemini-3-flash');
    expect(m.map('gpt-4o-mini').model).toBe('gemini-3-flash');
    expect(m.map('gpt-4o').model).toBe('gemini-3-pro-high');
    expect(m.map('gemini-2.5-flash').model).toBe('gemini-3-flash');
  });

  it('passes catalog ids and unknown names through unchanged', () => {
    const m = new ModelMapper();
    expect(m.map('gemini-3-flash')).toEqual({ model: 'gemini-3-flash', via: 'passthrough' });
    expect(m.map('my-local-model')).toEqual({ model: 'my-local-model', via: 'passthrough' });
  });

  it('lets the user table win, exact before patterns, patterns in order', () => {
    const m = new ModelMapper({ 'gpt-*': 'gemini-3-flash', 'gpt-4o': 'claude-sonnet-4-6' });
    expect(m.map('gpt-4o')).toEqual({ model: 'claude-sonnet-4-6', via: 'user' });
    expect(m.map('gpt-5-codex')).toEqual({ model: 'gemini-3-flash', via: 'user' });
  });

  it('forwards deprecated ids, also after mapping, and survives cycles', () => {
    const m = new ModelMapper({ legacy: 'gemini-3.1-pro-high' });
    expect(m.map('gemini-3.1-pro-high')).toEqual({ model: 'gemini-pro-agent', via: 'deprecated' });
    expect(m.map('legacy')).toEqual({ model: 'gemini-pro-agent', via: 'user' });
    m.setDeprecated({ a: 'b', b: 'a' });
    expect(['a', 'b']).toContain(m.map('a').model);
  });

  it('rejects a bad table with a message naming the entry and the setting', () => {
    expect(() => new ModelMapper({ 'gpt-4o': '' })).toThrow(ConfigError);
    expect(() => new ModelMapper({ 'gpt-4o': '' })).toThrow(/gpt-4o.*quotaPilot\.modelMapping/);
    expect(() => new ModelMapper({ 'gpt 4o': 'x' })).toThrow(/letters, digits/);
    expect(() => new ModelMapper({ a: 'x*' })).toThrow(/no \*/);
    expect(() => new ModelMapper(['x'])).toThrow(ConfigError);
  });
});
