import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/core/clock';
import type { ProviderError } from '../../src/core/provider';
import { CloudCodeClient } from '../../src/upstream/cloudcode/client';
import {
  CLOUD_CODE_SCOPES,
  MemoryTokenStore,
  OAuthFlowError,
  SignInRequiredError,
  TokenManager,
  buildAuthorizeUrl,
  createPkce,
  signIn,
  startCallbackServer,
  type OAuthConfig,
} from '../../src/upstream/cloudcode/oauth';
import { json, startTestServer, type TestServer } from '../fixtures/cloudcode/server';

let oauthServer: TestServer;
let config: OAuthConfig;

beforeEach(async () => {
  oauthServer = await startTestServer();
  config = {
    authorizeUrl: `${oauthServer.url}/auth`,
    tokenUrl: `${oauthServer.url}/token`,
    userinfoUrl: `${oauthServer.url}/userinfo`,
    clientId: 'test-client',
    clientSecret: 'test-secret',
  };
});

afterEach(async () => {
  await oauthServer.close();
});

const form = (body: string) => Object.fromEntries(new URLSearchParams(body));

describe('authorize URL and PKCE', () => {
  it('carries offline access, consent, the scopes, state and an S256 challenge', () => {
    const pkce = createPkce();
    expect(pkce.challenge).toBe(createHash('sha256').update(pkce.verifier).digest('base64url'));
    const url = new URL(
      buildAuthorizeUrl(config, {
        redirectUri: 'http://127.0.0.1:5555/oauth-callback',
        state: 'st',
        codeChallenge: pkce.challenge,
      }),
    );
    expect(Object.fromEntries(url.searchParams)).toEqual({
      client_id: 'test-client',
      redirect_uri: 'http://127.0.0.1:5555/oauth-callback',
      response_type: 'code',
      scope: CLOUD_CODE_SCOPES.join(' '),
      access_type: 'offline',
      prompt: 'consent',
      state: 'st',
      code_challenge: pkce.challenge,
      code_challenge_method: 'S256',
    });
  });
});

describe('loopback sign-in', () => {
  it('runs the whole flow: browser redirect, state check, PKCE code exchange, userinfo', async () => {
    oauthServer.handle('/token', (req, res) => {
      const f = form(req.body);
      const challenge = createHash('sha256')
        .update(f.code_verifier ?? '')
        .digest('base64url');
      if (f.code !== 'the-code' || challenge !== issuedChallenge || f.client_secret !== 'test-secret') {
        json(res, 400, { error: 'invalid_grant' });
        return;
      }
      json(res, 200, { access_token: 'at-1', expires_in: 3599, refresh_token: 'rt-1', token_type: 'Bearer' });
    });
    oauthServer.handle('/userinfo', (req, res) =>
      req.headers.authorization === 'Bearer at-1'
        ? json(res, 200, { email: 'ada@example.com', id: '1' })
        : json(res, 401, {}),
    );
    let issuedChallenge = '';
    let pageText = '';
    const clock = new VirtualClock(1_000_000);
    const result = await signIn(config, {
      clock,
      openBrowser: async (url) => {
        const u = new URL(url);
        issuedChallenge = u.searchParams.get('code_challenge') ?? '';
        const redirect = new URL(u.searchParams.get('redirect_uri') ?? '');
        expect(redirect.hostname).toBe('127.0.0.1');
        expect(redirect.pathname).toBe('/oauth-callback');
        // A forged callback with the wrong state is refused and does not end the flow.
        const forged = await fetch(`${redirect}?code=evil&state=wrong`);
        expect(forged.status).toBe(400);
        const res = await fetch(`${redirect}?code=the-code&state=${u.searchParams.get('state')}`);
        expect(res.status).toBe(200);
        pageText = await res.text();
      },
    });
    expect(result).toEqual({
      email: 'ada@example.com',
      tokens: {
        refreshToken: 'rt-1',
        accessToken: 'at-1',
        expiresAt: 1_000_000 + 3_599_000,
        email: 'ada@example.com',
      },
    });
    expect(pageText).toMatch(/Signed in/);
    expect(form(oauthServer.requests[0]?.body ?? '')).toMatchObject({
      grant_type: 'authorization_code',
      redirect_uri: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/oauth-callback$/),
    });
  });

  it('a denied consent rejects the flow and the server closes after one use', async () => {
    const server = await startCallbackServer({ state: 's1' });
    const res = await fetch(`${server.redirectUri}?error=access_denied&state=s1`);
    expect(res.status).toBe(400);
    await expect(server.code).rejects.toThrow(/access_denied/);
    await new Promise((r) => setTimeout(r, 20));
    await expect(fetch(`${server.redirectUri}?code=x&state=s1`)).rejects.toThrow();
  });

  it('times out on the clock and can be cancelled', async () => {
    const clock = new VirtualClock();
    const server = await startCallbackServer({ state: 's', clock, timeoutMs: 60_000 });
    clock.advance(60_000);
    await expect(server.code).rejects.toBeInstanceOf(OAuthFlowError);
    await expect(server.code).rejects.toThrow(/timed out/);

    const controller = new AbortController();
    const other = await startCallbackServer({ state: 's', signal: controller.signal });
    controller.abort();
    await expect(other.code).rejects.toThrow(/cancelled/);
  });

  it('closes the callback server when opening the browser fails', async () => {
    let redirect = '';
    const failing = signIn(config, {
      openBrowser: (url) => {
        redirect = new URL(url).searchParams.get('redirect_uri') ?? '';
        throw new Error('no browser');
      },
    });
    await expect(failing).rejects.toThrow(/no browser/);
    await expect(fetch(`${redirect}?code=x&state=y`)).rejects.toThrow();
  });

  it('answers other paths with 404 and keeps waiting', async () => {
    const server = await startCallbackServer({ state: 's' });
    expect((await fetch(server.redirectUri.replace('/oauth-callback', '/favicon.ico'))).status).toBe(404);
    expect((await fetch(`${server.redirectUri}?state=s`)).status).toBe(400); // no code
    expect((await fetch(`${server.redirectUri}?state=s&code=c`)).status).toBe(200);
    await expect(server.code).resolves.toBe('c');
  });
});

describe('TokenManager', () => {
  const HOUR = 3_600_000;

  function manager(store: MemoryTokenStore, clock: VirtualClock, disabled: [string, string][] = []) {
    return new TokenManager({
      store,
      oauth: config,
      clock,
      onAccountDisabled: (id, reason) => disabled.push([id, reason]),
    });
  }

  it('serves a valid token from the store, refreshes ahead of expiry and keeps the old refresh token', async () => {
    let n = 0;
    oauthServer.handle('/token', (req, res) => {
      n++;
      expect(form(req.body)).toEqual({
        grant_type: 'refresh_token',
        refresh_token: 'rt',
        client_id: 'test-client',
        client_secret: 'test-secret',
      });
      json(res, 200, { access_token: `at-${n}`, expires_in: 3600, token_type: 'Bearer' });
    });
    const clock = new VirtualClock(0);
    const store = new MemoryTokenStore();
    await store.set('acc', { refreshToken: 'rt', accessToken: 'at-0', expiresAt: HOUR });
    const tm = manager(store, clock);
    expect(await tm.getAccessToken('acc')).toBe('at-0');
    expect(n).toBe(0);
    clock.advance(HOUR - 4 * 60_000); // inside the 5-minute skew
    expect(await tm.getAccessToken('acc')).toBe('at-1');
    expect(await store.get('acc')).toEqual({
      refreshToken: 'rt',
      accessToken: 'at-1',
      expiresAt: HOUR - 4 * 60_000 + HOUR,
    });
    expect(await tm.getAccessToken('acc')).toBe('at-1');
    expect(n).toBe(1);
  });

  it('a new refresh token replaces the old one; an account client overrides the default', async () => {
    oauthServer.handle('/token', (req, res) => {
      expect(form(req.body)).toMatchObject({ client_id: 'imported-client', refresh_token: 'rt-old' });
      expect(form(req.body).client_secret).toBeUndefined();
      json(res, 200, { access_token: 'at', expires_in: 3600, refresh_token: 'rt-new' });
    });
    const store = new MemoryTokenStore();
    await store.set('acc', { refreshToken: 'rt-old', clientId: 'imported-client' });
    await manager(store, new VirtualClock()).getAccessToken('acc');
    expect((await store.get('acc'))?.refreshToken).toBe('rt-new');
  });

  it('20 concurrent client calls with an expired token make exactly one refresh request', async () => {
    let refreshes = 0;
    oauthServer.handle('/token', async (_req, res) => {
      refreshes++;
      await new Promise((r) => setTimeout(r, 30));
      json(res, 200, { access_token: 'fresh', expires_in: 3600 });
    });
    const api = await startTestServer();
    api.handle('/v1internal:countTokens', (req, res) =>
      req.headers.authorization === 'Bearer fresh' ? json(res, 200, { totalTokens: 1 }) : json(res, 401, {}),
    );
    const clock = new VirtualClock(10 * HOUR);
    const store = new MemoryTokenStore();
    await store.set('acc', { refreshToken: 'rt', accessToken: 'stale', expiresAt: 9 * HOUR });
    const tm = manager(store, clock);
    const client = new CloudCodeClient({ baseUrls: [api.url], getAccessToken: tm.getAccessToken, clock });
    try {
      const results = await Promise.all(
        Array.from({ length: 20 }, () => client.countTokens({ accountId: 'acc', request: {} })),
      );
      expect(results.every((r) => r.totalTokens === 1)).toBe(true);
      expect(refreshes).toBe(1);
      expect(api.requests).toHaveLength(20);
    } finally {
      await client.close();
      await api.close();
    }
  });

  it('concurrent 401s with a token that looked valid share one refresh', async () => {
    let refreshes = 0;
    oauthServer.handle('/token', async (_req, res) => {
      refreshes++;
      await new Promise((r) => setTimeout(r, 30));
      json(res, 200, { access_token: `fresh-${refreshes}`, expires_in: 3600 });
    });
    const api = await startTestServer();
    api.handle('/v1internal:countTokens', (req, res) =>
      req.headers.authorization === 'Bearer revoked'
        ? json(res, 401, {})
        : json(res, 200, { totalTokens: 1 }),
    );
    const clock = new VirtualClock(0);
    const store = new MemoryTokenStore();
    await store.set('acc', { refreshToken: 'rt', accessToken: 'revoked', expiresAt: 10 * HOUR });
    const client = new CloudCodeClient({
      baseUrls: [api.url],
      getAccessToken: manager(store, clock).getAccessToken,
    });
    try {
      await Promise.all(
        Array.from({ length: 10 }, () => client.countTokens({ accountId: 'acc', request: {} })),
      );
      expect(refreshes).toBe(1);
    } finally {
      await client.close();
      await api.close();
    }
  });

  it("one caller's abort does not cancel the refresh others share", async () => {
    let refreshes = 0;
    oauthServer.handle('/token', async (_req, res) => {
      refreshes++;
      await new Promise((r) => setTimeout(r, 30));
      json(res, 200, { access_token: 'shared', expires_in: 3600 });
    });
    const store = new MemoryTokenStore();
    await store.set('acc', { refreshToken: 'rt' });
    const tm = manager(store, new VirtualClock());
    const controller = new AbortController();
    const impatient = tm.getAccessToken('acc', { signal: controller.signal });
    const patient = tm.getAccessToken('acc');
    controller.abort();
    await expect(impatient).rejects.toMatchObject({ kind: 'aborted' });
    expect(await patient).toBe('shared');
    expect(refreshes).toBe(1);
  });

  it('invalid_grant disables the account once, with "sign in again", and is never retried in a loop', async () => {
    let refreshes = 0;
    oauthServer.handle('/token', (_req, res) => {
      refreshes++;
      json(res, 400, { error: 'invalid_grant', error_description: 'Token has been expired or revoked.' });
    });
    const disabled: [string, string][] = [];
    const store = new MemoryTokenStore();
    await store.set('acc', { refreshToken: 'dead' });
    const tm = manager(store, new VirtualClock(), disabled);
    const first = await tm.getAccessToken('acc').catch((e: unknown) => e);
    expect(first).toBeInstanceOf(SignInRequiredError);
    expect((first as ProviderError).kind).toBe('auth-expired');
    expect((first as Error).message).not.toContain('dead');
    await expect(tm.getAccessToken('acc', { forceRefresh: true })).rejects.toBeInstanceOf(
      SignInRequiredError,
    );
    expect(refreshes).toBe(1);
    expect(disabled).toEqual([['acc', 'sign in again']]);
    // New tokens from a fresh sign-in bring it back.
    oauthServer.handle('/token', (_req, res) => json(res, 200, { access_token: 'ok', expires_in: 3600 }));
    await tm.save('acc', { refreshToken: 'alive' });
    expect(await tm.getAccessToken('acc')).toBe('ok');
  });

  it('no stored tokens, a refused client and a down token endpoint are typed errors', async () => {
    const store = new MemoryTokenStore();
    const tm = manager(store, new VirtualClock());
    await expect(tm.getAccessToken('nobody')).rejects.toBeInstanceOf(SignInRequiredError);
    await store.set('acc', { refreshToken: 'rt' });
    oauthServer.handle('/token', (_req, res) => json(res, 401, { error: 'invalid_client' }));
    const refused = (await tm.getAccessToken('acc').catch((e: unknown) => e)) as ProviderError;
    expect(refused.kind).toBe('forbidden');
    expect(refused.message).toMatch(/client id and secret/);
    oauthServer.handle('/token', (_req, res) => json(res, 503, 'down'));
    expect(((await tm.getAccessToken('acc').catch((e: unknown) => e)) as ProviderError).kind).toBe(
      'transient',
    );
    oauthServer.handle('/token', (_req, res) => json(res, 200, { token: 'x' }));
    expect(((await tm.getAccessToken('acc').catch((e: unknown) => e)) as ProviderError).kind).toBe(
      'invalid-response',
    );
  });
});
