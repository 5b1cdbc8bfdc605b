/**
 * Google OAuth for Cloud Code accounts: the installed-app loopback flow with PKCE (S256), code
 * exchange, user info, and a token manager that refreshes ahead of expiry with one refresh in flight
 * per account. Endpoints and the client are configuration: the project ships no OAuth client.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request, type Dispatcher } from 'undici';
import type { Clock } from '../../core/clock';
import { SystemClock } from '../../core/clock';
import { ProviderError } from '../../core/provider';
import type { AccessTokenOptions } from './client';
import { networkError } from './errors';
import {
  OAuthErrorResponseSchema,
  OAuthTokenResponseSchema,
  UserinfoResponseSchema,
  parseJsonText,
  parseUpstream,
  type OAuthTokenResponse,
} from './schemas';

export const GOOGLE_OAUTH_ENDPOINTS = Object.freeze({
  authorizeUrl: 'https://accounts.google.com/o/oauth2/v2/auth',
  tokenUrl: 'https://oauth2.googleapis.com/token',
  userinfoUrl: 'https://www.googleapis.com/oauth2/v2/userinfo',
});

export const CLOUD_CODE_SCOPES: readonly string[] = Object.freeze([
  'https://www.googleapis.com/auth/cloud-platform',
  'https://www.googleapis.com/auth/userinfo.email',
  'https://www.googleapis.com/auth/userinfo.profile',
  'https://www.googleapis.com/auth/cclog',
  'https://www.googleapis.com/auth/experimentsandconfigs',
]);

export const CALLBACK_PATH = '/oauth-callback';

export interface OAuthEndpoints {
  authorizeUrl: string;
  tokenUrl: string;
  userinfoUrl: string;
}

export interface OAuthClient {
  clientId: string;
  /** Desktop clients have a (non-confidential) secret; some have none. */
  clientSecret?: string;
}

export interface OAuthConfig extends OAuthEndpoints, OAuthClient {
  scopes?: readonly string[];
  /** undici dispatcher for the token / userinfo calls (timeouts, tests). */
  dispatcher?: Dispatcher;
}

/** What a TokenStore keeps per account. Secret: back it with SecretStorage or a private file. */
export interface StoredTokens {
  refreshToken: string;
  accessToken?: string;
  /** Epoch ms the access token expires. */
  expiresAt?: number;
  scope?: string;
  email?: string;
  /** The client that minted the refresh token, when it is not the configured one (imports). */
  clientId?: string;
  clientSecret?: string;
}

export interface TokenStore {
  get(accountId: string): Promise<StoredTokens | undefined>;
  set(accountId: string, tokens: StoredTokens): Promise<void>;
}

/** A TokenStore in memory (tests, the simulator, short-lived CLI runs). */
export class MemoryTokenStore implements TokenStore {
  private readonly map = new Map<string, StoredTokens>();
  async get(accountId: string): Promise<StoredTokens | undefined> {
    const t = this.map.get(accountId);
    return t ? { ...t } : undefined;
  }
  async set(accountId: string, tokens: StoredTokens): Promise<void> {
    this.map.set(accountId, { ...tokens });
  }
}

/** The refresh token is dead (`invalid_grant`, revoked, or none stored): the user must sign in again. */
export class SignInRequiredError extends ProviderError {
  readonly accountId: string;
  readonly reason = 'sign in again';
  constructor(accountId: string, detail: string) {
    super('auth-expired', `Account ${accountId}: ${detail}. Sign in again to use it.`, { status: 400 });
    this.name = 'SignInRequiredError';
    this.accountId = accountId;
  }
}

export class OAuthFlowError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OAuthFlowError';
  }
}

// ---------------------------------------------------------------------------------------------
// PKCE and the authorize URL

export interface Pkce {
  verifier: string;
  challenge: string;
}

export function createPkce(): Pkce {
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  return { verifier, challenge };
}

export function createState(): string {
  return randomBytes(24).toString('base64url');
}

export function buildAuthorizeUrl(
  config: Pick<OAuthConfig, 'authorizeUrl' | 'clientId' | 'scopes'>,
  params: { redirectUri: string; state: string; codeChallenge: string; loginHint?: string },
): string {
  const url = new URL(config.authorizeUrl);
  url.searchParams.set('client_id', config.clientId);
  url.searchParams.set('redirect_uri', params.redirectUri);
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('scope', (config.scopes ?? CLOUD_CODE_SCOPES).join(' '));
  url.searchParams.set('access_type', 'offline');
  url.searchParams.set('prompt', 'consent');
  url.searchParams.set('state', params.state);
  url.searchParams.set('code_challenge', params.codeChallenge);
  url.searchParams.set('code_challenge_method', 'S256');
  if (params.loginHint) url.searchParams.set('login_hint', params.loginHint);
  return url.toString();
}

// ---------------------------------------------------------------------------------------------
// The loopback callback server

export interface CallbackServerOptions {
  state: string;
  /** 0 (default) picks a free port. */
  port?: number;
  path?: string;
  /** Default 5 minutes. */
  timeoutMs?: number;
  clock?: Clock;
  signal?: AbortSignal;
}

export interface CallbackServer {
  redirectUri: string;
  /** Resolves with the authorization code; rejects on denial, timeout or abort. Closes the server. */
  code: Promise<string>;
  close(): Promise<void>;
}

const escapeHtml = (s: string): string =>
  s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  );

function page(title: string, text: string): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head><body style="font-family:sans-serif;max-width:40em;margin:4em auto"><h1>${escapeHtml(title)}</h1><p>${escapeHtml(text)}</p></body></html>`;
}

/**
 * Starts a one-shot HTTP server on 127.0.0.1 that waits for Google's redirect, checks `state`,
 * answers the browser with a short page, and closes after the first valid callback (or timeout).
 */
export async function startCallbackServer(options: CallbackServerOptions): Promise<CallbackServer> {
  const path = options.path ?? CALLBACK_PATH;
  const clock = options.clock ?? new SystemClock();
  let settle: { resolve: (code: string) => void; reject: (e: Error) => void } | undefined;
  const code = new Promise<string>((resolve, reject) => {
    settle = { resolve, reject };
  });
  code.catch(() => undefined);
  let done = false;

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const reply = (status: number, title: string, text: string): void => {
      res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      res.end(page(title, text));
    };
    if (req.method !== 'GET' || url.pathname !== path || done) {
      reply(404, 'Not found', 'This address only accepts the sign-in redirect.');
      return;
    }
    if (url.searchParams.get('state') !== options.state) {
      reply(
        400,
        'Sign-in not accepted',
        'The request did not come from this sign-in attempt. Start again from VS Code.',
      );
      return;
    }
    const error = url.searchParams.get('error');
    if (error) {
      reply(400, 'Sign-in cancelled', `Google answered "${error}". You can close this tab and try again.`);
      finish(new OAuthFlowError(`sign-in was not completed: Google answered "${error}"`));
      return;
    }
    const got = url.searchParams.get('code');
    if (!got) {
      reply(
        400,
        'Sign-in not accepted',
        'The redirect carried no authorization code. Start again from VS Code.',
      );
      return;
    }
    reply(
      200,
      'Signed in',
      'Quota Pilot received the sign-in. You can close this tab and return to VS Code.',
    );
    finish(undefined, got);
  });

  const close = (): Promise<void> =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });

  const timer = clock.setTimeout(
    () => finish(new OAuthFlowError('sign-in timed out: no redirect arrived from the browser')),
    options.timeoutMs ?? 5 * 60_000,
  );
  const onAbort = (): void => finish(new OAuthFlowError('sign-in was cancelled'));
  options.signal?.addEventListener('abort', onAbort, { once: true });

  function finish(error: Error | undefined, value?: string): void {
    if (done) return;
    done = true;
    timer.cancel();
    options.signal?.removeEventListener('abort', onAbort);
    // Let the browser's page flush before the connections go.
    setImmediate(() => void close());
    if (error) settle?.reject(error);
    else settle?.resolve(value as string);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  if (options.signal?.aborted) onAbort();
  const port = (server.address() as AddressInfo).port;
  return { redirectUri: `http://127.0.0.1:${port}${path}`, code, close };
}

// ---------------------------------------------------------------------------------------------
// Token endpoint and userinfo

interface TokenCallOptions {
  signal?: AbortSignal;
}

async function postForm(
  config: OAuthConfig,
  form: Record<string, string>,
  what: string,
  opts: TokenCallOptions,
): Promise<{ status: number; body: unknown }> {
  try {
    const res = await request(config.tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams(form).toString(),
      ...(opts.signal ? { signal: opts.signal } : {}),
      ...(config.dispatcher ? { dispatcher: config.dispatcher } : {}),
    });
    const text = await res.body.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text) as unknown;
    } catch {
      // Keep the text; the status decides.
    }
    return { status: res.statusCode, body };
  } catch (e) {
    if (opts.signal?.aborted)
      throw new ProviderError('aborted', `${what}: cancelled by the caller.`, { cause: e });
    throw networkError(what, e);
  }
}

function oauthErrorCode(body: unknown): { error?: string; description?: string } {
  const parsed = OAuthErrorResponseSchema.safeParse(body);
  if (!parsed.success) return {};
  return {
    error: parsed.data.error,
    ...(parsed.data.error_description ? { description: parsed.data.error_description } : {}),
  };
}

function tokenFailure(what: string, status: number, body: unknown): ProviderError {
  const { error, description } = oauthErrorCode(body);
  const detail = error ? `${error}${description ? `: ${description}` : ''}` : `HTTP ${status}`;
  if (status >= 500 || status === 408 || status === 429) {
    return new ProviderError(
      'transient',
      `${what}: the token endpoint failed (${detail}); try again shortly.`,
      {
        status,
      },
    );
  }
  if (error === 'invalid_client' || error === 'unauthorized_client') {
    return new ProviderError(
      'forbidden',
      `${what}: the OAuth client was refused (${detail}); check the client id and secret in the settings.`,
      { status },
    );
  }
  return new ProviderError('auth-expired', `${what}: the token endpoint refused the request (${detail}).`, {
    status,
  });
}

/** Exchanges an authorization code (with its PKCE verifier) for tokens. */
export async function exchangeCode(
  config: OAuthConfig,
  params: { code: string; verifier: string; redirectUri: string },
  opts: TokenCallOptions = {},
): Promise<OAuthTokenResponse> {
  const form: Record<string, string> = {
    grant_type: 'authorization_code',
    code: params.code,
    code_verifier: params.verifier,
    redirect_uri: params.redirectUri,
    client_id: config.clientId,
  };
  if (config.clientSecret) form.client_secret = config.clientSecret;
  const { status, body } = await postForm(config, form, 'OAuth code exchange', opts);
  if (status !== 200) throw tokenFailure('OAuth code exchange', status, body);
  return parseUpstream(OAuthTokenResponseSchema, body, 'OAuth code exchange');
}

/** One refresh-token grant. `invalid_grant` comes back as an 'auth-expired' error with status 400. */
export async function refreshAccessToken(
  config: OAuthConfig,
  refreshToken: string,
  opts: TokenCallOptions = {},
): Promise<OAuthTokenResponse> {
  const form: Record<string, string> = {
    grant_type: 'refresh_token',
    refresh_token: refreshToken,
    client_id: config.clientId,
  };
  if (config.clientSecret) form.client_secret = config.clientSecret;
  const { status, body } = await postForm(config, form, 'OAuth token refresh', opts);
  if (status !== 200) throw tokenFailure('OAuth token refresh', status, body);
  return parseUpstream(OAuthTokenResponseSchema, body, 'OAuth token refresh');
}

/** The signed-in user's email. */
export async function fetchUserEmail(
  config: Pick<OAuthConfig, 'userinfoUrl' | 'dispatcher'>,
  accessToken: string,
  opts: TokenCallOptions = {},
): Promise<string> {
  let status: number;
  let text: string;
  try {
    const res = await request(config.userinfoUrl, {
      method: 'GET',
      headers: { authorization: `Bearer ${accessToken}`, accept: 'application/json' },
      ...(opts.signal ? { signal: opts.signal } : {}),
      ...(config.dispatcher ? { dispatcher: config.dispatcher } : {}),
    });
    status = res.statusCode;
    text = await res.body.text();
  } catch (e) {
    if (opts.signal?.aborted)
      throw new ProviderError('aborted', 'OAuth userinfo: cancelled by the caller.', { cause: e });
    throw networkError('OAuth userinfo', e);
  }
  if (status !== 200) {
    throw new ProviderError(
      status === 401 ? 'auth-expired' : 'transient',
      `OAuth userinfo: HTTP ${status}; the email could not be read.`,
      { status },
    );
  }
  return parseUpstream(UserinfoResponseSchema, parseJsonText(text, 'OAuth userinfo'), 'OAuth userinfo').email;
}

// ---------------------------------------------------------------------------------------------
// The whole sign-in

export interface SignInOptions {
  /** Opens the authorize URL in the user's browser (vscode.env.openExternal, or print it). */
  openBrowser: (url: string) => void | Promise<void>;
  port?: number;
  timeoutMs?: number;
  loginHint?: string;
  clock?: Clock;
  signal?: AbortSignal;
}

export interface SignInResult {
  email: string;
  tokens: StoredTokens;
}

/** Runs the loopback flow end to end: authorize in the browser, exchange the code, read the email. */
export async function signIn(config: OAuthConfig, options: SignInOptions): Promise<SignInResult> {
  const clock = options.clock ?? new SystemClock();
  const pkce = createPkce();
  const state = createState();
  const server = await startCallbackServer({
    state,
    clock,
    ...(options.port === undefined ? {} : { port: options.port }),
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  try {
    const url = buildAuthorizeUrl(config, {
      redirectUri: server.redirectUri,
      state,
      codeChallenge: pkce.challenge,
      ...(options.loginHint ? { loginHint: options.loginHint } : {}),
    });
    await options.openBrowser(url);
    const code = await server.code;
    const call = options.signal ? { signal: options.signal } : {};
    const token = await exchangeCode(
      config,
      { code, verifier: pkce.verifier, redirectUri: server.redirectUri },
      call,
    );
    if (!token.refresh_token) {
      throw new OAuthFlowError(
        'Google returned no refresh token; revoke Quota Pilot at myaccount.google.com/permissions and sign in again',
      );
    }
    const email = await fetchUserEmail(config, token.access_token, call);
    const tokens: StoredTokens = {
      refreshToken: token.refresh_token,
      accessToken: token.access_token,
      expiresAt: clock.now() + token.expires_in * 1_000,
      email,
      ...(token.scope ? { scope: token.scope } : {}),
    };
    return { email, tokens };
  } finally {
    await server.close();
  }
}

// ---------------------------------------------------------------------------------------------
// The token manager

export interface TokenManagerOptions {
  store: TokenStore;
  /** Endpoints plus the default client (accounts may carry their own client). */
  oauth: OAuthConfig;
  clock?: Clock;
  /** Refresh this long before expiry. Default 5 minutes. */
  refreshSkewMs?: number;
  /** Called once when an account's refresh token is dead; the engine disables it with `reason`. */
  onAccountDisabled?: (accountId: string, reason: string) => void;
  logger?: { debug(message: string): void; warn(message: string): void };
}

/**
 * Hands out access tokens: cached while valid, refreshed ahead of expiry, one refresh in flight per
 * account (concurrent callers share it), the old refresh token kept when none comes back. A dead
 * refresh token disables the account once and is never retried until new tokens are stored.
 */
export class TokenManager {
  private readonly clock: Clock;
  private readonly skewMs: number;
  private readonly inflight = new Map<string, Promise<string>>();
  /** accountId → the refresh token that failed with invalid_grant. */
  private readonly dead = new Map<string, string>();

  constructor(private readonly options: TokenManagerOptions) {
    this.clock = options.clock ?? new SystemClock();
    this.skewMs = options.refreshSkewMs ?? 5 * 60_000;
  }

  /** Matches `GetAccessToken` of the client. */
  readonly getAccessToken = async (
    accountId: string,
    opts: Partial<AccessTokenOptions> = {},
  ): Promise<string> => {
    const running = this.inflight.get(accountId);
    if (running) return withSignal(running, opts.signal);
    const tokens = await this.options.store.get(accountId);
    if (!tokens) throw new SignInRequiredError(accountId, 'no credentials are stored');
    const valid =
      tokens.accessToken !== undefined &&
      tokens.expiresAt !== undefined &&
      tokens.expiresAt - this.skewMs > this.clock.now();
    const rejected = opts.rejectedToken !== undefined && opts.rejectedToken === tokens.accessToken;
    if (valid && !(opts.forceRefresh && (opts.rejectedToken === undefined || rejected))) {
      return tokens.accessToken as string;
    }
    const again = this.inflight.get(accountId);
    if (again) return withSignal(again, opts.signal);
    // The shared refresh is not tied to one caller's signal: others may still want its result.
    const promise = this.refresh(accountId, tokens).finally(() => this.inflight.delete(accountId));
    promise.catch(() => undefined);
    this.inflight.set(accountId, promise);
    return withSignal(promise, opts.signal);
  };

  /** Stores freshly signed-in tokens (and clears a dead mark). */
  async save(accountId: string, tokens: StoredTokens): Promise<void> {
    this.dead.delete(accountId);
    await this.options.store.set(accountId, tokens);
  }

  private async refresh(accountId: string, tokens: StoredTokens): Promise<string> {
    if (this.dead.get(accountId) === tokens.refreshToken) {
      throw new SignInRequiredError(accountId, 'the refresh token was revoked or expired (invalid_grant)');
    }
    const config: OAuthConfig = {
      ...this.options.oauth,
      ...(tokens.clientId ? { clientId: tokens.clientId, clientSecret: tokens.clientSecret } : {}),
    };
    let answer: OAuthTokenResponse;
    try {
      answer = await refreshAccessToken(config, tokens.refreshToken);
    } catch (e) {
      if (e instanceof ProviderError && e.kind === 'auth-expired' && /invalid_grant/.test(e.message)) {
        this.dead.set(accountId, tokens.refreshToken);
        this.options.logger?.warn(
          `account ${accountId}: refresh token rejected (invalid_grant); disabling it`,
        );
        try {
          this.options.onAccountDisabled?.(accountId, 'sign in again');
        } catch {
          // A listener's failure must not hide the cause.
        }
        throw new SignInRequiredError(accountId, 'the refresh token was revoked or expired (invalid_grant)');
      }
      throw e;
    }
    const next: StoredTokens = {
      ...tokens,
      accessToken: answer.access_token,
      expiresAt: this.clock.now() + answer.expires_in * 1_000,
      refreshToken: answer.refresh_token ?? tokens.refreshToken,
      ...(answer.scope ? { scope: answer.scope } : {}),
    };
    await this.options.store.set(accountId, next);
    this.options.logger?.debug(`account ${accountId}: access token refreshed`);
    return answer.access_token;
  }
}

/** Waits for `promise`, or rejects with an 'aborted' error as soon as `signal` aborts. */
function withSignal<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted)
    return Promise.reject(new ProviderError('aborted', 'token refresh: cancelled by the caller.'));
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void =>
      reject(new ProviderError('aborted', 'token refresh: cancelled by the caller.'));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}
