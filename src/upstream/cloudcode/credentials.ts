/**
 * Imports accounts from credential files other tools already wrote. A refresh token is useful only
 * with the OAuth client that minted it, so each import carries (or is given) that client.
 *
 * Shapes understood:
 * - gemini-cli `oauth_creds.json`: `{access_token, refresh_token, scope, token_type, id_token?, expiry_date}`
 *   (expiry in epoch ms). It names no client: pass `clientId` (and `clientSecret`) or add
 *   `client_id` / `client_secret` to the file.
 * - Antigravity-Manager account files: `{id, email, name?, token: {access_token, refresh_token,
 *   expires_in, expiry_timestamp, token_type, email?, project_id?}, disabled?}` (expiry in epoch s).
 * - A plain record: `{email, refresh_token, client_id, client_secret?}` (or camelCase names).
 * - A list of any of those, as an array or as `{accounts: [...]}`.
 */
import { z } from 'zod';
import { formatIssues } from '../../core/errors';

export type CredentialSource = 'gemini-cli' | 'antigravity-manager' | 'plain';

export interface ImportedCredential {
  source: CredentialSource;
  refreshToken: string;
  clientId: string;
  clientSecret?: string;
  email?: string;
  accessToken?: string;
  /** Epoch ms. */
  expiresAt?: number;
  projectId?: string;
  /** The other tool had disabled the account (e.g. after invalid_grant). */
  disabled?: boolean;
}

export interface ImportOptions {
  /** The client that minted the tokens, when the file does not say. */
  clientId?: string;
  clientSecret?: string;
}

export class CredentialsImportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CredentialsImportError';
  }
}

const NonEmpty = z.string().trim().min(1);
const EpochNumber = z.union([z.number(), z.string().regex(/^\d+$/).transform(Number)]);

const ClientFields = {
  client_id: NonEmpty.optional(),
  client_secret: z.string().optional(),
  clientId: NonEmpty.optional(),
  clientSecret: z.string().optional(),
};

const GeminiCliSchema = z.looseObject({
  access_token: z.string().optional(),
  refresh_token: NonEmpty,
  scope: z.string().optional(),
  token_type: z.string().optional(),
  id_token: z.string().optional(),
  expiry_date: EpochNumber.optional(),
  ...ClientFields,
});

const ManagerTokenSchema = z.looseObject({
  access_token: z.string().optional(),
  refresh_token: NonEmpty,
  expires_in: EpochNumber.optional(),
  expiry_timestamp: EpochNumber.optional(),
  token_type: z.string().optional(),
  email: z.string().nullish(),
  project_id: z.string().nullish(),
  ...ClientFields,
});

const ManagerAccountSchema = z.looseObject({
  id: z.string().optional(),
  email: z.string().optional(),
  name: z.string().nullish(),
  token: ManagerTokenSchema,
  disabled: z.boolean().optional(),
  ...ClientFields,
});

const PlainSchema = z.looseObject({
  email: z.string().optional(),
  refresh_token: NonEmpty.optional(),
  refreshToken: NonEmpty.optional(),
  access_token: z.string().optional(),
  accessToken: z.string().optional(),
  project_id: z.string().optional(),
  projectId: z.string().optional(),
  ...ClientFields,
});

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The email claim of an id_token, read without verification (only used as a label). */
export function emailFromIdToken(idToken: string | undefined): string | undefined {
  if (!idToken) return undefined;
  const payload = idToken.split('.')[1];
  if (!payload) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as unknown;
    if (isObject(claims) && typeof claims.email === 'string') return claims.email;
  } catch {
    // Not a JWT: no label.
  }
  return undefined;
}

function pickClient(
  where: string,
  fileLevel: { client_id?: string; client_secret?: string; clientId?: string; clientSecret?: string }[],
  options: ImportOptions,
): { clientId: string; clientSecret?: string } {
  for (const c of fileLevel) {
    const id = c.client_id ?? c.clientId;
    if (id) {
      const secret = c.client_secret ?? c.clientSecret;
      return secret ? { clientId: id, clientSecret: secret } : { clientId: id };
    }
  }
  if (options.clientId) {
    return options.clientSecret
      ? { clientId: options.clientId, clientSecret: options.clientSecret }
      : { clientId: options.clientId };
  }
  throw new CredentialsImportError(
    `${where}: no OAuth client id. A refresh token only works with the client that minted it; enter that client's id (and secret) when importing, or add "client_id" and "client_secret" to the file.`,
  );
}

function hasAny(obj: Json, keys: string[]): boolean {
  return keys.some((k) => obj[k] !== undefined && obj[k] !== null && obj[k] !== '');
}

function fail(
  where: string,
  issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }>,
): never {
  throw new CredentialsImportError(`${where}: unexpected shape (${formatIssues(issues.slice(0, 5))}).`);
}

function importOne(entry: unknown, where: string, options: ImportOptions): ImportedCredential {
  if (!isObject(entry)) {
    throw new CredentialsImportError(
      `${where}: expected an object with a refresh token, found ${describe(entry)}.`,
    );
  }
  const token = isObject(entry.token) ? entry.token : undefined;
  const flat = token ?? entry;
  if (!hasAny(flat, ['refresh_token', 'refreshToken'])) {
    if (hasAny(flat, ['access_token', 'accessToken'])) {
      throw new CredentialsImportError(
        `${where}: the file holds only an access token. Access tokens expire within an hour, so it cannot be imported; export a file that includes the refresh_token, or sign in instead.`,
      );
    }
    throw new CredentialsImportError(
      `${where}: no refresh token found (expected "refresh_token" or "token.refresh_token"). Check that this is a credentials file of gemini-cli or Antigravity-Manager.`,
    );
  }

  if (token) {
    const parsed = ManagerAccountSchema.safeParse(entry);
    if (!parsed.success) fail(where, parsed.error.issues);
    const a = parsed.data;
    const t = a.token;
    const client = pickClient(where, [t, a], options);
    const out: ImportedCredential = {
      source: 'antigravity-manager',
      refreshToken: t.refresh_token,
      ...client,
    };
    const email = a.email || t.email || undefined;
    if (email) out.email = email;
    if (t.access_token) out.accessToken = t.access_token;
    if (t.expiry_timestamp !== undefined) out.expiresAt = t.expiry_timestamp * 1_000;
    if (t.project_id) out.projectId = t.project_id;
    if (a.disabled) out.disabled = true;
    return out;
  }

  if (
    hasAny(entry, ['expiry_date', 'id_token', 'token_type', 'scope']) &&
    entry.refresh_token !== undefined
  ) {
    const parsed = GeminiCliSchema.safeParse(entry);
    if (!parsed.success) fail(where, parsed.error.issues);
    const g = parsed.data;
    const client = pickClient(where, [g], options);
    const out: ImportedCredential = { source: 'gemini-cli', refreshToken: g.refresh_token, ...client };
    const email = emailFromIdToken(g.id_token) ?? (typeof entry.email === 'string' ? entry.email : undefined);
    if (email) out.email = email;
    if (g.access_token) out.accessToken = g.access_token;
    if (g.expiry_date !== undefined) out.expiresAt = g.expiry_date;
    return out;
  }

  const parsed = PlainSchema.safeParse(entry);
  if (!parsed.success) fail(where, parsed.error.issues);
  const p = parsed.data;
  const refreshToken = (p.refresh_token ?? p.refreshToken) as string;
  const client = pickClient(where, [p], options);
  const out: ImportedCredential = { source: 'plain', refreshToken, ...client };
  if (p.email) out.email = p.email;
  const access = p.access_token ?? p.accessToken;
  if (access) out.accessToken = access;
  const project = p.project_id ?? p.projectId;
  if (project) out.projectId = project;
  return out;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  return `a ${typeof v}`;
}

/**
 * Parses a credentials file's text into one or more importable accounts. Throws
 * `CredentialsImportError` saying what is wrong (not JSON, no refresh token, an access token only,
 * no client, an unexpected field) and what to do; secrets never appear in the message.
 */
export function parseCredentialsFile(text: string, options: ImportOptions = {}): ImportedCredential[] {
  let data: unknown;
  try {
    data = JSON.parse(text.replace(/^\uFEFF/, '')) as unknown;
  } catch {
    throw new CredentialsImportError(
      'The file is not JSON. Pick the credentials file itself (for example ~/.gemini/oauth_creds.json or an Antigravity-Manager account file).',
    );
  }
  const list: unknown[] = Array.isArray(data)
    ? data
    : isObject(data) && Array.isArray(data.accounts)
      ? data.accounts
      : [data];
  if (list.length === 0) throw new CredentialsImportError('The file lists no accounts.');
  return list.map((entry, i) =>
    importOne(entry, list.length === 1 ? 'credentials file' : `account ${i + 1}`, options),
  );
}
