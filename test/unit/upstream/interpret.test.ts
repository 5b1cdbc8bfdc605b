import { describe, expect, it } from 'vitest';
import { ProviderError } from '../../../src/core/provider';
import {
  interpretAvailableModels,
  interpretLoadCodeAssist,
  interpretQuotaSummary,
  modelsFromDescription,
  tierFromId,
} from '../../../src/upstream/cloudcode/client';
import {
  GenerateContentEnvelopeSchema,
  LoadCodeAssistResponseSchema,
  OAuthTokenResponseSchema,
  parseUpstream,
} from '../../../src/upstream/cloudcode/schemas';
import { fixture } from './fixtures';

const at = Date.UTC(2026, 7, 2);
const lca = (name: string) =>
  interpretLoadCodeAssist(parseUpstream(LoadCodeAssistResponseSchema, fixture(name), 'loadCodeAssist'));

describe('tier mapping', () => {
  it.each([
    ['free-tier', 'FREE'],
    ['legacy-tier', 'FREE'],
    ['standard-tier', 'PRO'],
    ['g1-pro-tier', 'PRO'],
    ['g1-ultra-tier', 'ULTRA'],
    ['g1-ultra-lite-tier', 'ULTRA'],
    ['ws-ai-ultra-business-tier', 'ULTRA'],
    ['helium-tier', 'ULTRA'],
    [undefined, 'UNKNOWN'],
  ] as const)('%s → %s', (id, tier) => {
    expect(tierFromId(id)).toBe(tier);
  });

  it('reads paidTier before currentTier, keeps the project, tolerates unknown fields', () => {
    const r = lca('load-code-assist-paid.json');
    expect(r).toMatchObject({
      tier: 'PRO',
      tierId: 'g1-pro-tier',
      projectId: 'rising-fact-p41fc',
      defaultTierId: 'free-tier',
    });
    expect(r.status).toBeUndefined();
  });

  it('reads the {id, name} project form and VALIDATION_REQUIRED as needs-verification', () => {
    const r = lca('load-code-assist-validation.json');
    expect(r.projectId).toBe('calm-river-12ab');
    expect(r.tier).toBe('ULTRA');
    expect(r.status).toEqual({
      kind: 'needs-verification',
      reason: 'Verify your account to continue using Antigravity.',
      url: 'https://accounts.google.com/signin/continue?sarp=1&scc=1',
    });
  });

  it('falls back to the default allowed tier, and other ineligible reasons restrict', () => {
    const r = lca('load-code-assist-new-user.json');
    expect(r).toMatchObject({ tier: 'FREE', defaultTierId: 'free-tier' });
    expect(r.projectId).toBeUndefined();
    const restricted = interpretLoadCodeAssist({
      currentTier: { id: 'free-tier' },
      ineligibleTiers: [
        { reasonCode: 'UNSUPPORTED_LOCATION', reasonMessage: 'Not available in your country.' },
      ],
    });
    expect(restricted.status).toEqual({ kind: 'restricted', reason: 'Not available in your country.' });
  });
});

describe('fetchAvailableModels', () => {
  const r = interpretAvailableModels(fixture('fetch-available-models.json'), at);
  const reading = (model: string) => r.readings.find((x) => x.model === model);

  it('maps quotaInfo onto readings: fraction, missing fraction with reset = 0, epoch-1970 reset = unknown', () => {
    expect(reading('claude-sonnet-4-6')).toEqual({
      model: 'claude-sonnet-4-6',
      remainingFraction: 0.7,
      resetTime: Date.UTC(2026, 7, 22, 15),
      source: 'models',
      fetchedAt: at,
    });
    expect(reading('gemini-pro-agent')).toMatchObject({
      remainingFraction: 0,
      resetTime: Date.UTC(2026, 7, 8, 17, 54, 7),
    });
    expect(reading('gemini-3-flash')).toMatchObject({ remainingFraction: 0, resetTime: null });
    expect(reading('chat_20706')).toMatchObject({ remainingFraction: null, resetTime: null });
  });

  it('keeps metadata and the deprecated-id map', () => {
    expect(r.models.find((m) => m.id === 'claude-sonnet-4-6')).toEqual({
      id: 'claude-sonnet-4-6',
      displayName: 'Claude Sonnet 4.6',
      provider: 'MODEL_PROVIDER_ANTHROPIC',
      maxTokens: 200_000,
      maxOutputTokens: 64_000,
      supportsThinking: true,
      recommended: true,
    });
    expect(r.deprecated).toEqual({ 'gemini-3.1-pro-high': 'gemini-pro-agent' });
  });

  it('an unexpected shape is an invalid-response error naming the field path', () => {
    const bad = { models: { 'claude-sonnet-4-6': { quotaInfo: { remainingFraction: '70%' } } } };
    let error: unknown;
    try {
      interpretAvailableModels(bad, at);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ProviderError);
    expect((error as ProviderError).kind).toBe('invalid-response');
    expect((error as ProviderError).message).toContain(
      'models.claude-sonnet-4-6.quotaInfo.remainingFraction',
    );
    expect((error as ProviderError).message).not.toContain('70%');
  });
});

describe('retrieveUserQuotaSummary', () => {
  const r = interpretQuotaSummary(fixture('quota-summary.json'), at, [
    'claude-sonnet-4-6',
    'some-new-claude',
  ]);

  it('maps buckets with windows, groups and models from the description', () => {
    const weekly = r.buckets.find((b) => b.id === 'gemini-weekly');
    expect(weekly).toMatchObject({ window: 'weekly', group: 'Gemini Models', remainingFraction: 0.955 });
    expect(weekly?.models).toEqual(['gemini-3-pro-high', 'gemini-pro-agent', 'gemini-3-flash']);
  });

  it('takes group models from the catalog (plus known models) when the description is absent', () => {
    const b = r.buckets.find((x) => x.id === '3p-weekly');
    expect(b?.models).toEqual(
      expect.arrayContaining([
        'claude-sonnet-4-6',
        'claude-opus-4-6-thinking',
        'gpt-oss-120b-medium',
        'some-new-claude',
      ]),
    );
    expect(b?.models).not.toContain('gemini-3-flash');
  });

  it('emits readings per model and window; a missing fraction stays unknown', () => {
    const five = r.readings.filter((x) => x.source === 'bucket-5h' && x.model === 'claude-sonnet-4-6');
    expect(five).toEqual([
      {
        model: 'claude-sonnet-4-6',
        remainingFraction: null,
        resetTime: Date.UTC(2026, 7, 5, 12),
        source: 'bucket-5h',
        fetchedAt: at,
      },
    ]);
    expect(
      r.readings
        .filter((x) => x.model === 'gemini-pro-agent')
        .map((x) => x.source)
        .sort(),
    ).toEqual(['bucket-5h', 'bucket-weekly']);
  });

  it('parses model lists in descriptions', () => {
    expect(modelsFromDescription('Models within this group: a-1, b.2 and c_3.')).toEqual([
      'a-1',
      'b.2',
      'c_3',
    ]);
    expect(modelsFromDescription('Something else')).toBeUndefined();
  });
});

describe('schemas', () => {
  it('unwrap envelopes and accept unknown fields', () => {
    const env = parseUpstream(
      GenerateContentEnvelopeSchema,
      {
        response: {
          candidates: [{ content: { parts: [{ text: 'hi', extra: 1 }] } }],
          usageMetadata: { totalTokenCount: 3 },
        },
        traceId: 't',
        x: 1,
      },
      'generateContent',
    );
    expect(env.response.candidates?.[0]?.content?.parts?.[0]?.text).toBe('hi');
  });

  it('a token answer without access_token is invalid-response, and the message holds no secret', () => {
    expect(() =>
      parseUpstream(
        OAuthTokenResponseSchema,
        { refresh_token: '1//secret', expires_in: 3599 },
        'OAuth token refresh',
      ),
    ).toThrow(/OAuth token refresh answered with an unexpected shape \(access_token/);
    try {
      parseUpstream(OAuthTokenResponseSchema, { refresh_token: '1//secret', expires_in: 'x' }, 'refresh');
    } catch (e) {
      expect(String(e)).not.toContain('1//secret');
    }
  });
});
