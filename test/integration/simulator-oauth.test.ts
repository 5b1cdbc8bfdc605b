import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/core/clock';
import { startSimulator, type RunningSimulator, type ScenarioInput } from '../../src/simulator';

const scenario: ScenarioInput = {
  name: 'oauth-test',
  oauth: { clientId: 'test-client', clientSecret: 'test-secret', accessTokenLifetimeSec: 600 },
  accounts: [
    { id: 'one', email: 'one@example.com', name: 'One', tier: 'PRO', refreshToken: 'refresh-one-1' },
    { id: 'two', email: 'two@example.com', tier: 'FREE', refreshToken: 'refresh-two-2' },
  ],
};

let sim: RunningSimulator;
let clock: VirtualClock;
const REDIRECT = 'http://127.0.0.1:45678/oauth-callback';

beforeAll(async () => {
  clock = new VirtualClock(Date.UTC(2026, 0, 5, 9));
  sim = await startSimulator({ scenario: scenario, clock });
});
afterAll(async () => {
  await sim.close();
});

function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

function authorizeUrl(params: Record<string, string>): string {
  const u = new URL(sim.oauth.authorizeUrl);
  for (const [k, v] of Object.entries(params)) u.searchParams.set(k, v);
  return u.toString();
}

function standard(challenge: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    client_id: 'test-client',
    redirect_uri: REDIRECT,
    response_type: 'code',
    scope: 'https://www.googleapis.com/auth/cloud-platform https://www.googleapis.com/auth/userinfo.email',
    access_type: 'offline',
    prompt: 'consent',
    code_challenge: challenge,
    code_challenge_method: 'S256',
    state: 'st-123',
    ...extra,
  };
}

async function token(
  form: Record<string, string>,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(sim.oauth.tokenUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form).toString(),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function authorize(params: Record<string, string>): Promise<URL> {
  const res = await fetch(authorizeUrl(params), { redirect: 'manual' });
  expect(res.status).toBe(302);
  return new URL(res.headers.get('location') as string);
}

describe('OAuth code flow with PKCE', () => {
  it('authorizes, exchanges the code, reads userinfo, refreshes', async () => {
    const { verifier, challenge } = pkce();
    const back = await authorize(standard(challenge, { login_hint: 'two@example.com' }));
    expect(`${back.origin}${back.pathname}`).toBe(REDIRECT);
    expect(back.searchParams.get('state')).toBe('st-123');
    const code = back.searchParams.get('code') as string;
    const t = await token({
      grant_type: 'authorization_code',
      code,
      code_verifier: verifier,
      client_id: 'test-client',
      client_secret: 'test-secret',
      redirect_uri: REDIRECT,
    });
    expect(t.status).toBe(200);
    expect(t.body).toMatchObject({
      token_type: 'Bearer',
      expires_in: 600,
      refresh_token: 'refresh-two-2',
      access_token: expect.any(String),
      scope: expect.stringContaining('cloud-platform'),
    });
    const info = await fetch(sim.oauth.userinfoUrl, {
      headers: { authorization: `Bearer ${t.body.access_token as string}` },
    });
    expect(info.status).toBe(200);
    expect(await info.json()).toMatchObject({
      email: 'two@example.com',
      verified_email: true,
      id: expect.any(String),
      name: 'two',
      picture: expect.any(String),
    });
    // The code is single use.
    const again = await token({
      grant_type: 'authorization_code',
      code,
      code_verifier: verifier,
      client_id: 'test-client',
      client_secret: 'test-secret',
      redirect_uri: REDIRECT,
    });
    expect(again).toEqual({
      status: 400,
      body: { error: 'invalid_grant', error_description: expect.any(String) },
    });
    // Refresh: a new access token, no refresh token, counted.
    const before = sim.control.stats().tokenRefreshes.two ?? 0;
    const r = await token({
      grant_type: 'refresh_token',
      refresh_token: 'refresh-two-2',
      client_id: 'test-client',
      client_secret: 'test-secret',
    });
    expect(r.status).toBe(200);
    expect(r.body).not.toHaveProperty('refresh_token');
    expect(r.body.access_token).not.toBe(t.body.access_token);
    expect(sim.control.stats().tokenRefreshes.two).toBe(before + 1);
  });

  it('signs in the first account not yet signed in when there is no hint, then the first', async () => {
    const s = await startSimulator({ scenario: scenario, clock: new VirtualClock(0) });
    try {
      const emails: string[] = [];
      for (let i = 0; i < 3; i++) {
        const { verifier, challenge } = pkce();
        const res = await fetch(
          `${s.oauth.authorizeUrl}?${new URLSearchParams(standard(challenge)).toString()}`,
          { redirect: 'manual' },
        );
        const code = new URL(res.headers.get('location') as string).searchParams.get('code') as string;
        const t = await fetch(s.oauth.tokenUrl, {
          method: 'POST',
          headers: { authorization: `Basic ${Buffer.from('test-client:test-secret').toString('base64')}` },
          body: new URLSearchParams({
            grant_type: 'authorization_code',
            code,
            code_verifier: verifier,
            redirect_uri: REDIRECT,
          }),
        });
        const access = ((await t.json()) as { access_token: string }).access_token;
        const info = await fetch(s.oauth.userinfoUrl, { headers: { authorization: `Bearer ${access}` } });
        emails.push(((await info.json()) as { email: string }).email);
      }
      expect(emails).toEqual(['one@example.com', 'two@example.com', 'one@example.com']);
    } finally {
      await s.close();
    }
  });

  it('rejects a wrong verifier, client, secret, grant, or redirect', async () => {
    const { challenge } = pkce();
    const code = (await authorize(standard(challenge))).searchParams.get('code') as string;
    const wrongVerifier = await token({
      grant_type: 'authorization_code',
      code,
      code_verifier: pkce().verifier,
      client_id: 'test-client',
      client_secret: 'test-secret',
      redirect_uri: REDIRECT,
    });
    expect(wrongVerifier).toEqual({
      status: 400,
      body: { error: 'invalid_grant', error_description: 'Invalid code verifier.' },
    });
    expect(
      await token({
        grant_type: 'refresh_token',
        refresh_token: 'refresh-one-1',
        client_id: 'other',
        client_secret: 'test-secret',
      }),
    ).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
    expect(
      await token({
        grant_type: 'refresh_token',
        refresh_token: 'refresh-one-1',
        client_id: 'test-client',
        client_secret: 'bad',
      }),
    ).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
    expect(
      await token({
        grant_type: 'refresh_token',
        refresh_token: 'unknown-token',
        client_id: 'test-client',
        client_secret: 'test-secret',
      }),
    ).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    expect(
      await token({ grant_type: 'password', client_id: 'test-client', client_secret: 'test-secret' }),
    ).toMatchObject({ status: 400, body: { error: 'unsupported_grant_type' } });
    const c2 = (await authorize(standard(pkce().challenge))).searchParams.get('code') as string;
    expect(
      await token({
        grant_type: 'authorization_code',
        code: c2,
        code_verifier: 'x',
        client_id: 'test-client',
        client_secret: 'test-secret',
        redirect_uri: 'http://127.0.0.1:1/other',
      }),
    ).toMatchObject({ status: 400, body: { error: 'redirect_uri_mismatch' } });
  });

  it('validates the authorize request', async () => {
    const { challenge } = pkce();
    const cases: Array<[Record<string, string>, number, string]> = [
      [{ client_id: 'nope' }, 401, 'invalid_client'],
      [{ redirect_uri: 'https://evil.example.com/cb' }, 400, 'redirect_uri_mismatch'],
      [{ response_type: 'token' }, 400, 'unsupported_response_type'],
      [{ code_challenge: 'short' }, 400, 'invalid_request'],
      [{ code_challenge_method: 'plain' }, 400, 'invalid_request'],
      [{ state: '' }, 400, 'invalid_request'],
    ];
    for (const [override, status, error] of cases) {
      const res = await fetch(authorizeUrl(standard(challenge, override)), { redirect: 'manual' });
      expect([override, res.status]).toEqual([override, status]);
      expect(((await res.json()) as { error: string }).error).toBe(error);
    }
  });

  it('access tokens expire on the simulator clock; revoked refresh tokens get invalid_grant', async () => {
    const r = await token({
      grant_type: 'refresh_token',
      refresh_token: 'refresh-one-1',
      client_id: 'test-client',
      client_secret: 'test-secret',
    });
    const access = r.body.access_token as string;
    const load = (): Promise<Response> =>
      fetch(`${sim.baseUrl}/v1internal:loadCodeAssist`, {
        method: 'POST',
        headers: { authorization: `Bearer ${access}` },
        body: '{}',
      });
    expect((await load()).status).toBe(200);
    await clock.advanceAsync(599_000);
    expect((await load()).status).toBe(200);
    await clock.advanceAsync(1_000);
    expect((await load()).status).toBe(401);
    sim.control.revokeRefreshToken('one');
    expect(
      await token({
        grant_type: 'refresh_token',
        refresh_token: 'refresh-one-1',
        client_id: 'test-client',
        client_secret: 'test-secret',
      }),
    ).toEqual({
      status: 400,
      body: { error: 'invalid_grant', error_description: 'Token has been expired or revoked.' },
    });
  });

  it('counts concurrent refreshes per account', async () => {
    const before = sim.control.stats().tokenRefreshes.two ?? 0;
    await Promise.all(
      Array.from({ length: 5 }, () =>
        token({
          grant_type: 'refresh_token',
          refresh_token: 'refresh-two-2',
          client_id: 'test-client',
          client_secret: 'test-secret',
        }),
      ),
    );
    expect(sim.control.stats().tokenRefreshes.two).toBe(before + 5);
  });
});
