/** What the status bar, tree and dashboard read: the engine's snapshot and the routing context. */
import type * as vscode from 'vscode';
import type { EngineSnapshot } from '../core/stateStore';

export interface ProxyInfo {
  enabled: boolean;
  running: boolean;
  url: string | null;
  requests: number;
  avoided429: number;
  failovers: number;
  /** Why it is not running, when it should be (e.g. the port is taken). */
  error: string | null;
}

export interface ViewSource {
  snapshot(): EngineSnapshot | null;
  /** Fires after every coalesced engine change and routing-context change. */
  readonly onDidChange: vscode.Event<void>;
  pinnedAccountId(): string | null;
  current(): { accountId: string; model: string } | null;
  proxy(): ProxyInfo;
}
