/**
 * Everything secret lives in SecretStorage, under one key, as a versioned JSON document:
 * account tokens (refresh token, access token and expiry, and the OAuth client that minted an
 * imported token), the OAuth client secret the user configured, and the local proxy key.
 * Nothing here is ever written to settings, globalState, logs or webview messages.
 */
import { randomBytes } from 'node:crypto';
import type * as vscode from 'vscode';
import { z } from 'zod';
import type { StoredTokens, TokenStore } from '../upstream/cloudcode/oauth';

const SECRET_KEY = 'quotaPilot.vault';

const TokensSchema = z.object({
  refreshToken: z.string().min(1),
  accessToken: z.string().min(1).optional(),
  expiresAt: z.number().int().nonnegative().optional(),
  scope: z.string().optional(),
  email: z.string().optional(),
  clientId: z.string().min(1).optional(),
  clientSecret: z.string().min(1).optional(),
});

const VaultV1Schema = z.object({
  version: z.literal(1),
  accounts: z.record(z.string(), TokensSchema),
  proxyKey: z.string().min(16).optional(),
  oauthClientSecret: z.string().min(1).optional(),
});
type VaultV1 = z.infer<typeof VaultV1Schema>;

const EMPTY: VaultV1 = { version: 1, accounts: {} };

export class SecretVault implements TokenStore {
  private cache: VaultV1 | undefined;
  private chain: Promise<unknown> = Promise.resolve();
  /** Set when the stored document could not be read; reported once by the caller. */
  problem: string | undefined;

  constructor(private readonly secrets: vscode.SecretStorage) {
    secrets.onDidChange((e) => {
      // Another window wrote the vault: read it afresh next time.
      if (e.key === SECRET_KEY) this.cache = undefined;
    });
  }

  async get(accountId: string): Promise<StoredTokens | undefined> {
    const doc = await this.read();
    const t = doc.accounts[accountId];
    return t ? { ...t } : undefined;
  }

  set(accountId: string, tokens: StoredTokens): Promise<void> {
    return this.update((doc) => {
      doc.accounts[accountId] = TokensSchema.parse(tokens);
    });
  }

  remove(accountId: string): Promise<void> {
    return this.update((doc) => {
      delete doc.accounts[accountId];
    });
  }

  async accountIds(): Promise<string[]> {
    return Object.keys((await this.read()).accounts);
  }

  /** The local proxy key; created (32 random bytes) on first use. */
  async proxyKey(): Promise<string> {
    const existing = (await this.read()).proxyKey;
    if (existing) return existing;
    let key = '';
    await this.update((doc) => {
      doc.proxyKey ??= `qp-${randomBytes(32).toString('base64url')}`;
      key = doc.proxyKey;
    });
    return key;
  }

  async oauthClientSecret(): Promise<string | undefined> {
    return (await this.read()).oauthClientSecret;
  }

  setOAuthClientSecret(secret: string | undefined): Promise<void> {
    return this.update((doc) => {
      if (secret) doc.oauthClientSecret = secret;
      else delete doc.oauthClientSecret;
    });
  }

  private async read(): Promise<VaultV1> {
    if (this.cache) return this.cache;
    const raw = await this.secrets.get(SECRET_KEY);
    if (raw === undefined) return (this.cache = structuredClone(EMPTY));
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      parsed = undefined;
    }
    const result = VaultV1Schema.safeParse(parsed);
    if (!result.success) {
      // Keep the unreadable document under another key rather than losing it, and start empty.
      await this.secrets.store(`${SECRET_KEY}.unreadable`, raw);
      this.problem =
        'The saved Quota Pilot secrets could not be read (an unknown or damaged format). They were kept aside; sign in to your accounts again.';
      return (this.cache = structuredClone(EMPTY));
    }
    return (this.cache = result.data);
  }

  /** Serialises read-modify-write within this window. */
  private update(mutate: (doc: VaultV1) => void): Promise<void> {
    const next = this.chain.then(async () => {
      this.cache = undefined;
      const doc = structuredClone(await this.read());
      mutate(doc);
      await this.secrets.store(SECRET_KEY, JSON.stringify(doc));
      this.cache = doc;
    });
    this.chain = next.catch(() => undefined);
    return next;
  }
}
