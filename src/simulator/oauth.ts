/**
 * Google's installed-app OAuth flow, simulated: authorize (auto-consent, PKCE S256), token (code
 * exchange and refresh), userinfo. Access tokens expire on the simulator's clock.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Clock } from '../core/clock';

export interface OAuthAccount {
  id: string;
  email: string;
  name: string;
  refreshToken: string;
}

export interface OAuthConfig {
  clientId: string;
  clientSecret: string;
  accessTokenLifetimeSec: number;
}

export interface OAuthReply {
  status: number;
  body: unknown;
  /** For a redirect. */
  location?: string;
}

interface IssuedToken {
  accountId: string;
  expiresAt: number;
  scope: string;
}

interface AuthCode {
  accountId: string;
  redirectUri: string;
  challenge: string;
  scope: string;
  expiresAt: number;
}

const DEFAULT_SCOPE =
  'https://www.googleapis.com/auth/cloud-platform https://www.googleapis.com/auth/userinfo.email https://www.googleapis.com/auth/userinfo.profile';
const CODE_LIFETIME_MS = 10 * 60_000;
const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

function oauthError(status: number, error: string, description: string): OAuthReply {
  return { status, body: { error, error_description: description } };
}

export function s256(verifier: string): string {
  return createHash('sha256').update(verifier).digest('base64url');
}

export class OAuthSimulator {
  private readonly accounts: OAuthAccount[];
  private readonly tokens = new Map<string, IssuedToken>();
  private readonly codes = new Map<string, AuthCode>();
  private readonly signedIn = new Set<string>();
  private readonly revoked = new Set<string>();
  readonly refreshCounts = new Map<string, number>();

  constructor(
    accounts: readonly OAuthAccount[],
    readonly config: OAuthConfig,
    private readonly clock: Clock,
  ) {
    this.accounts = [...accounts];
  }

  /** GET /o/oauth2/v2/auth: validates the request, auto-consents, redirects with code and state. */
  authorize(q: URLSearchParams): OAuthReply {
    const clientId = q.get('client_id');
    if (clientId !== this.config.clientId) {
      return oauthError(
        401,
        'invalid_client',
        `The OAuth client was not found (client_id "${clientId ?? ''}").`,
      );
    }
    const redirectUri = q.get('redirect_uri') ?? '';
    let redirect: URL;
    try {
      redirect = new URL(redirectUri);
    } catch {
      return oauthError(
        400,
        'invalid_request',
        'redirect_uri is missing or not a URL: use http://127.0.0.1:<port>/...',
      );
    }
    if (redirect.protocol !== 'http:' || !LOOPBACK_HOSTS.has(redirect.hostname)) {
      return oauthError(
        400,
        'redirect_uri_mismatch',
        'redirect_uri must be a loopback http URL (127.0.0.1, localhost or [::1]).',
      );
    }
    if (q.get('response_type') !== 'code') {
      return oauthError(400, 'unsupported_response_type', 'response_type must be "code".');
    }
    const challenge = q.get('code_challenge') ?? '';
    if (!/^[A-Za-z0-9_-]{43,128}$/.test(challenge)) {
      return oauthError(
        400,
        'invalid_request',
        'code_challenge is required: base64url of SHA-256 of the verifier (43+ characters).',
      );
    }
    if (q.get('code_challenge_method') !== 'S256') {
      return oauthError(400, 'invalid_request', 'code_challenge_method must be "S256".');
    }
    const state = q.get('state');
    if (!state)
      return oauthError(
        400,
        'invalid_request',
        'state is required (an unguessable value the client checks).',
      );
    const hint = q.get('login_hint')?.toLowerCase();
    const account =
      (hint ? this.accounts.find((a) => a.email.toLowerCase() === hint) : undefined) ??
      this.accounts.find((a) => !this.signedIn.has(a.id)) ??
      (this.accounts[0] as OAuthAccount);
    this.signedIn.add(account.id);
    const code = `4/sim-${randomBytes(18).toString('base64url')}`;
    this.codes.set(code, {
      accountId: account.id,
      redirectUri,
      challenge,
      scope: q.get('scope') ?? DEFAULT_SCOPE,
      expiresAt: this.clock.now() + CODE_LIFETIME_MS,
    });
    redirect.searchParams.set('code', code);
    redirect.searchParams.set('state', state);
    redirect.searchParams.set('scope', q.get('scope') ?? DEFAULT_SCOPE);
    return { status: 302, body: null, location: redirect.toString() };
  }

  /** POST /token (form-encoded; client credentials in the form or in HTTP Basic). */
  token(form: URLSearchParams, basic?: { id: string; secret: string }): OAuthReply {
    const clientId = form.get('client_id') ?? basic?.id;
    const clientSecret = form.get('client_secret') ?? basic?.secret;
    if (clientId !== this.config.clientId)
      return oauthError(401, 'invalid_client', 'The OAuth client was not found.');
    if (clientSecret !== this.config.clientSecret) return oauthError(401, 'invalid_client', 'Unauthorized');
    const grant = form.get('grant_type');
    if (grant === 'authorization_code') return this.exchangeCode(form);
    if (grant === 'refresh_token') return this.refresh(form);
    return oauthError(400, 'unsupported_grant_type', `Invalid grant_type: ${grant ?? '(missing)'}`);
  }

  private exchangeCode(form: URLSearchParams): OAuthReply {
    const code = form.get('code') ?? '';
    const entry = this.codes.get(code);
    if (!entry) return oauthError(400, 'invalid_grant', 'Malformed auth code.');
    this.codes.delete(code); // single use
    if (entry.expiresAt <= this.clock.now())
      return oauthError(400, 'invalid_grant', 'Bad Request (auth code expired)');
    if (form.get('redirect_uri') !== entry.redirectUri) {
      return oauthError(
        400,
        'redirect_uri_mismatch',
        'redirect_uri does not match the one of the authorization request.',
      );
    }
    const verifier = form.get('code_verifier') ?? '';
    if (!verifier) return oauthError(400, 'invalid_request', 'code_verifier is required (PKCE).');
    if (s256(verifier) !== entry.challenge) return oauthError(400, 'invalid_grant', 'Invalid code verifier.');
    const account = this.byId(entry.accountId) as OAuthAccount;
    this.revoked.delete(account.id);
    const issued = this.issue(account.id, entry.scope);
    return {
      status: 200,
      body: {
        access_token: issued.accessToken,
        expires_in: this.config.accessTokenLifetimeSec,
        refresh_token: account.refreshToken,
        scope: entry.scope,
        token_type: 'Bearer',
      },
    };
  }

  private refresh(form: URLSearchParams): OAuthReply {
    const token = form.get('refresh_token') ?? '';
    const account = this.accounts.find((a) => a.refreshToken === token);
    if (!account || this.revoked.has(account.id)) {
      return oauthError(400, 'invalid_grant', 'Token has been expired or revoked.');
    }
    this.refreshCounts.set(account.id, (this.refreshCounts.get(account.id) ?? 0) + 1);
    const issued = this.issue(account.id, DEFAULT_SCOPE);
    return {
      status: 200,
      body: {
        access_token: issued.accessToken,
        expires_in: this.config.accessTokenLifetimeSec,
        scope: DEFAULT_SCOPE,
        token_type: 'Bearer',
      },
    };
  }

  /** Mints an access token for an account directly (tests, demos). */
  issue(accountId: string, scope = DEFAULT_SCOPE): { accessToken: string; expiresAt: number } {
    const accessToken = `ya29.sim-${randomBytes(24).toString('base64url')}`;
    const expiresAt = this.clock.now() + this.config.accessTokenLifetimeSec * 1000;
    this.tokens.set(accessToken, { accountId, expiresAt, scope });
    return { accessToken, expiresAt };
  }

  /** The account a bearer token belongs to, if the token is known and not expired. */
  authenticate(authorization: string | undefined): string | undefined {
    const m = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
    if (!m) return undefined;
    const t = this.tokens.get(m[1] as string);
    if (!t || t.expiresAt <= this.clock.now()) return undefined;
    return t.accountId;
  }

  userinfo(authorization: string | undefined): OAuthReply {
    const id = this.authenticate(authorization);
    const account = id === undefined ? undefined : this.byId(id);
    if (!account) {
      return {
        status: 401,
        body: {
          error: {
            code: 401,
            message: 'Request is missing required authentication credential.',
            status: 'UNAUTHENTICATED',
          },
        },
      };
    }
    return {
      status: 200,
      body: {
        id: `1${String(hashDigits(account.id)).padStart(20, '0')}`,
        email: account.email,
        verified_email: true,
        name: account.name,
        picture: `https://lh3.googleusercontent.com/a/sim-${encodeURIComponent(account.id)}`,
      },
    };
  }

  /** Makes every access token (of one account, or all) expired now. */
  expireTokens(accountId?: string): number {
    let n = 0;
    const now = this.clock.now();
    for (const t of this.tokens.values()) {
      if ((accountId === undefined || t.accountId === accountId) && t.expiresAt > now) {
        t.expiresAt = now;
        n++;
      }
    }
    return n;
  }

  /** Refresh with this account's token now fails with invalid_grant (until it signs in again). */
  revokeRefreshToken(accountId: string): void {
    this.revoked.add(accountId);
    this.expireTokens(accountId);
  }

  private byId(id: string): OAuthAccount | undefined {
    return this.accounts.find((a) => a.id === id);
  }
}

function hashDigits(text: string): number {
  return Number.parseInt(createHash('sha256').update(text).digest('hex').slice(0, 12), 16);
}
