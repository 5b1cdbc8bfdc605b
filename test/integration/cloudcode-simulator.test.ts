/**
 * The Cloud Code client, OAuth and quota provider against the simulator, over real sockets.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Account } from '../../src/core/types';
import { ProviderError } from '../../src/core/provider';
import { loadScenario, startSimulator, type RunningSimulator } from '../../src/simulator';
import { CloudCodeClient } from '../../src/upstream/cloudcode/client';
import {
  MemoryTokenStore,
  SignInRequiredError,
  TokenManager,
  signIn,
  type OAuthConfig,
} from '../../src/upstream/cloudcode/oauth';
import { CloudCodeQuotaProvider } from '../../src/upstream/cloudcode/provider';
import type { GenerateContentResponse } from '../../src/upstream/cloudcode/schemas';

const HELLO = { contents: [{ role: 'user', parts: [{ text: 'hello' }] }] };
let sim: RunningSimulator;
let oauth: OAuthConfig;
let store: MemoryTokenStore;
let tokens: TokenManager;
let client: CloudCodeClient;
let provider: CloudCodeQuotaProvider;
const disabled: [string, string][] = [];

function account(id: string): Account {
  const a = sim.accounts.find((x) => x.id === id);
  if (!a) throw new Error(`no simulated account ${id}`);
  return { id, email: a.email, label: a.email, tier: 'UNKNOWN', status: { kind: 'active' } };
}

async function caught(p: Promise<unknown>): Promise<ProviderError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(ProviderError);
    return e as ProviderError;
  }
  throw new Error('expected a ProviderError');
}

beforeAll(async () => {
  const demo = loadScenario('demo');
  sim = await startSimulator({
    scenario: { ...demo, latency: { ...demo.latency, firstByteMs: 0, chunkGapMs: 0, chunks: 4 } },
    port: 0,
  });
  oauth = {
    ...sim.oauth,
    clientId: sim.accounts[0]?.clientId ?? '',
    clientSecret: sim.accounts[0]?.clientSecret,
  };
  store = new MemoryTokenStore();
  for (const a of sim.accounts) await store.set(a.id, { refreshToken: a.refreshToken, email: a.email });
  tokens = new TokenManager({ store, oauth, onAccountDisabled: (id, reason) => disabled.push([id, reason]) });
  client = new CloudCodeClient({
    baseUrls: [sim.baseUrl],
    getAccessToken: tokens.getAccessToken,
    onboard: { attempts: 10, intervalMs: 5 },
    timeouts: { headersMs: 300 },
  });
  provider = new CloudCodeQuotaProvider(client);
});

afterAll(async () => {
  await client.close();
  await sim.close();
});

beforeEach(() => {
  sim.control.clearFaults();
});

describe('against the simulator', () => {
  it('signs in through the loopback flow', async () => {
    const result = await signIn(oauth, {
      loginHint: 'ben.pro@example.com',
      openBrowser: async (url) => {
        const consent = await fetch(url, { redirect: 'manual' });
        expect(consent.status).toBe(302);
        const back = await fetch(consent.headers.get('location') ?? '');
        expect(back.status).toBe(200);
      },
    });
    expect(result.email).toBe('ben.pro@example.com');
    expect(result.tokens.refreshToken.length).toBeGreaterThan(0);
    expect(result.tokens.expiresAt).toBeGreaterThan(Date.now());
  });

  it('reads tiers and onboards an account without a project', async () => {
    expect(await provider.fetchTier(account('ultra'))).toMatchObject({
      tier: 'ULTRA',
      projectId: 'sim-ultra-project',
    });
    expect(await provider.fetchTier(account('pro'))).toMatchObject({ tier: 'PRO' });
    const fresh = await provider.fetchTier(account('free-2'));
    expect(fresh.tier).toBe('FREE');
    expect(fresh.projectId).toMatch(/^sim-onboarded-/);
  });

  it('combines per-model quota and the 5-hour / weekly buckets into one report', async () => {
    const report = await provider.fetchQuotas(account('free-1'));
    const claude = report.models.filter((m) => m.model === 'claude-sonnet-4-6');
    expect(claude.map((m) => m.source).sort()).toEqual(['bucket-5h', 'bucket-weekly', 'models']);
    const min = Math.min(...claude.map((m) => m.remainingFraction ?? 1));
    expect(min).toBeCloseTo(0.08, 2);
    expect(report.buckets.map((b) => b.window).sort()).toEqual(['5h', '5h', 'weekly', 'weekly']);
  });

  it('still reports the summary when fetchAvailableModels claims 100%', async () => {
    sim.control.addFault({ kind: 'models-stuck-full', account: 'free-1' });
    const report = await provider.fetchQuotas(account('free-1'));
    const claude = report.models.filter((m) => m.model === 'claude-sonnet-4-6');
    expect(claude.find((m) => m.source === 'models')?.remainingFraction).toBe(1);
    expect(claude.find((m) => m.source === 'bucket-5h')?.remainingFraction).toBeCloseTo(0.08, 2);
  });

  it('throws the classified error when both quota sources fail', async () => {
    sim.control.addFault({ kind: 'quota-api-outage', account: 'pro' });
    const e = await caught(provider.fetchQuotas(account('pro')));
    expect(e.kind).toBe('transient');
    expect(e.status).toBe(503);
  });

  it('generates, streams and counts tokens', async () => {
    const projectId = provider.projectOf(account('ultra')) ?? '';
    const request = { contents: [{ role: 'user', parts: [{ text: 'hello' }] }] };
    const one = await client.generateContent({
      accountId: 'ultra',
      model: 'gemini-3-flash',
      project: projectId,
      request,
    });
    expect(one.candidates?.[0]?.content?.parts?.length).toBeGreaterThan(0);
    const chunks: GenerateContentResponse[] = [];
    for await (const c of client.streamGenerateContent({
      accountId: 'ultra',
      model: 'claude-sonnet-4-6',
      project: projectId,
      request,
    })) {
      chunks.push(c);
    }
    expect(chunks.length).toBeGreaterThan(1);
    expect(chunks.at(-1)?.usageMetadata?.totalTokenCount).toBeGreaterThan(0);
    expect((await client.countTokens({ accountId: 'ultra', request })).totalTokens).toBeGreaterThan(0);
  });

  const faults: [string, string][] = [
    ['quota-exhausted', 'quota-exhausted'],
    ['quota-exhausted-info-second', 'quota-exhausted'],
    ['rate-limited', 'rate-limited'],
    ['resource-exhausted-bare', 'rate-limited'],
    ['model-capacity', 'capacity'],
    ['no-capacity', 'capacity'],
    ['server-error', 'transient'],
    ['validation-required', 'verification-required'],
    ['tos-ban', 'forbidden'],
    ['malformed-json', 'invalid-response'],
    ['stall', 'transient'],
    ['connection-reset', 'transient'],
  ];
  it.each(faults)('fault %s → %s', async (kind, expected) => {
    sim.control.addFault({ kind, once: true, account: 'pro', model: 'gemini-3-flash' });
    const e = await caught(
      client.generateContent({
        accountId: 'pro',
        model: 'gemini-3-flash',
        project: 'sim-pro-project',
        request: { contents: [{ role: 'user', parts: [{ text: 'hi' }] }] },
      }),
    );
    expect(e.kind).toBe(expected);
    if (expected === 'quota-exhausted') expect(e.retryAfterMs).toBeGreaterThan(0);
    if (expected === 'verification-required') expect(e.url).toMatch(/^https?:\/\//);
  });

  it('a 401 with a valid token refreshes once and succeeds', async () => {
    const before = sim.control.stats().tokenRefreshes.pro ?? 0;
    sim.control.addFault({ kind: 'token-expired', once: true, account: 'pro' });
    expect((await client.countTokens({ accountId: 'pro', request: HELLO })).totalTokens).toBeGreaterThan(0);
    expect(sim.control.stats().tokenRefreshes.pro).toBe(before + 1);
  });

  it('20 concurrent calls after the tokens expire make one refresh', async () => {
    await tokens.getAccessToken('ultra');
    const stored = await store.get('ultra');
    await store.set('ultra', { ...(stored as NonNullable<typeof stored>), expiresAt: 0 });
    sim.control.expireTokens('ultra');
    const before = sim.control.stats().tokenRefreshes.ultra ?? 0;
    const results = await Promise.all(
      Array.from({ length: 20 }, () => client.countTokens({ accountId: 'ultra', request: HELLO })),
    );
    expect(results).toHaveLength(20);
    expect(sim.control.stats().tokenRefreshes.ultra).toBe(before + 1);
  });

  it('a revoked refresh token disables the account with "sign in again"', async () => {
    sim.control.revokeRefreshToken('free-1');
    const stored = await store.get('free-1');
    await store.set('free-1', { ...(stored as NonNullable<typeof stored>), expiresAt: 0 });
    const e = await caught(client.countTokens({ accountId: 'free-1', request: HELLO }));
    expect(e).toBeInstanceOf(SignInRequiredError);
    await caught(client.countTokens({ accountId: 'free-1', request: HELLO }));
    expect(disabled).toEqual([['free-1', 'sign in again']]);
  });
});
