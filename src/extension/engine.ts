/**
 * What the VS Code layer asks of the engine. The implementation (engineFacade.ts) wraps the shared
 * composition root in src/host/, which the headless CLI uses too; commands, views and
 * notifications depend only on this interface.
 */
import type * as vscode from 'vscode';
import type { LedgerAlert } from '../core/ledger/schema';
import type { Account } from '../core/types';
import type { OAuthConfig, StoredTokens } from '../upstream/cloudcode/oauth';
import type { ViewSource } from './viewSource';

export interface NewAccount {
  email: string;
  label?: string;
  tokens: StoredTokens;
}

export interface EngineFacade extends ViewSource, vscode.Disposable {
  accounts(): Account[];
  addAccount(input: NewAccount): Promise<Account>;
  removeAccount(id: string): Promise<void>;
  renameAccount(id: string, label: string): Promise<void>;
  setEnabled(id: string, enabled: boolean): Promise<void>;
  /** Pins one account for every request (fixed mode); null returns to automatic routing. */
  pin(id: string | null): Promise<void>;
  refresh(id?: string): Promise<void>;
  resetCooldowns(): Promise<void>;
  startProxy(): Promise<void>;
  stopProxy(): Promise<void>;
  /** The ledger's daily summary as an aligned text table. */
  usageSummaryText(): string;
  readonly onAlert: vscode.Event<LedgerAlert>;
  /** The OAuth client and endpoints to sign in with, or why signing in is not possible yet. */
  oauthConfig(): Promise<OAuthConfig | { problem: string }>;
  /** Demo mode: adds the simulator's accounts; resolves to how many were added. */
  addDemoAccounts(): Promise<number>;
  /** The local proxy key (SecretStorage); for the copy-key command only. */
  proxyKey(): Promise<string>;
}
