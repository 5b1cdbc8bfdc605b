import { describe, expect, it } from 'vitest';
import { errorBodyFor } from '../../../src/proxy/clientErrors';
import { createCodecs } from '../../../src/proxy/translate/codecs';
import { checkHost, isAllowedOrigin, KeyChecker } from '../../../src/proxy/guards';
import { Counter, Histogram } from '../../../src/proxy/metrics';
import { formatForPath, Router } from '../../../src/proxy/router';

describe('checkHost', () => {
  it('accepts loopback names on the right port only', () => {
    for (const h of ['127.0.0.1:8123', 'localhost:8123', 'LOCALHOST:8123', '[::1]:8123']) {
      expect(() => checkHost(h, 8123)).not.toThrow();
    }
    for (const h of [
      '127.0.0.1:8124',
      'evil.example:8123',
      '127.0.0.1.nip.io:8123',
      '[::2]:8123',
      undefined,
    ]) {
      expect(() => checkHost(h, 8123)).toThrow();
    }
    expect(() => checkHost('localhost', 80)).not.toThrow();
  });
});

describe('isAllowedOrigin', () => {
  it('allows loopback origins and VS Code webviews, nothing else', () => {
    for (const o of [
      'http://localhost:3000',
      'http://127.0.0.1',
      'https://[::1]:8443',
      'vscode-webview://1abc',
    ]) {
      expect(isAllowedOrigin(o)).toBe(true);
    }
    for (const o of [
      'null',
      'https://evil.example',
      'http://localhost.evil.example',
      'file://',
      'ftp://localhost',
    ]) {
      expect(isAllowedOrigin(o)).toBe(false);
    }
  });
});

describe('KeyChecker', () => {
  it('matches only the exact key and refuses short keys', () => {
    const k = new KeyChecker('0123456789abcdef');
    expect(k.matches('0123456789abcdef')).toBe(true);
    expect(k.matches('0123456789abcdeF')).toBe(false);
    expect(k.matches(undefined)).toBe(false);
    expect(() => k.check('nope')).toThrow(/Wrong API key/);
    expect(() => new KeyChecker('short')).toThrow(/16 characters/);
    k.setKey('fedcba9876543210');
    expect(k.matches('0123456789abcdef')).toBe(false);
  });
});

describe('router and error formats', () => {
  it('finds routes, decodes params and reports 405', () => {
    const r = new Router<string>().add('GET', /^\/m\/(?<id>[^/]+)$/, 'm', 'h', 'gemini');
    expect(r.find('GET', '/m/a%20b')).toEqual({
      kind: 'match',
      match: { handler: 'h', params: { id: 'a b' }, name: 'm', format: 'gemini' },
    });
    expect(r.find('POST', '/m/x')).toEqual({ kind: 'method-not-allowed', allow: ['GET'], format: 'gemini' });
    expect(r.find('GET', '/x').kind).toBe('not-found');
    const q = new URLSearchParams();
    expect(formatForPath('/v1/models', { headers: { 'anthropic-version': '2023-06-01' }, query: q })).toBe(
      'anthropic',
    );
    expect(formatForPath('/v1beta/models/x:countTokens', { headers: {}, query: q })).toBe('gemini');
    expect(formatForPath('/v1/models/x:embed', { headers: { 'x-goog-api-key': 'k' }, query: q })).toBe(
      'gemini',
    );
    expect(formatForPath('/v1/chat/completions', { headers: {}, query: q })).toBe('openai');
  });

  it('writes errors in each client shape', () => {
    const codecs = createCodecs({ now: () => 0 });
    expect(errorBodyFor(codecs, 'anthropic', { status: 413, message: 'm' })).toEqual({
      type: 'error',
      error: { type: 'request_too_large', message: 'm' },
    });
    expect(errorBodyFor(codecs, 'openai', { status: 429, message: 'm' })).toMatchObject({
      error: { type: 'rate_limit_error', code: 'rate_limit_exceeded' },
    });
    expect(errorBodyFor(codecs, 'gemini', { status: 401, message: 'm' })).toEqual({
      error: { code: 401, message: 'm', status: 'UNAUTHENTICATED' },
    });
    // The admin API, and a format this server has no codec for, answer in the Google shape.
    expect(errorBodyFor(codecs, 'admin', { status: 404, message: 'm' })).toEqual({
      error: { code: 404, message: 'm', status: 'NOT_FOUND' },
    });
    expect(errorBodyFor({}, 'openai', { status: 400, message: 'm' })).toMatchObject({
      error: { status: 'INVALID_ARGUMENT' },
    });
  });
});

describe('metrics', () => {
  it('renders counters and cumulative histogram buckets', () => {
    const c = new Counter('c_total', 'help', ['route']);
    c.inc({ route: 'a"b' });
    expect(c.render()).toContain('c_total{route="a\\"b"} 1');
    const h = new Histogram('h_seconds', 'help', [0.1, 1]);
    h.observe({}, 0.05);
    h.observe({}, 0.5);
    const text = h.render();
    expect(text).toContain('h_seconds_bucket{le="0.1"} 1');
    expect(text).toContain('h_seconds_bucket{le="1"} 2');
    expect(text).toContain('h_seconds_bucket{le="+Inf"} 2');
    expect(text).toContain('h_seconds_count 2');
  });
});
