/**
 * Every command of the "Quota Pilot" category. Commands invoked from the tree receive the tree
 * node (or an account id from a problem item's command); from the palette they ask with a QuickPick.
 */
import { readFile } from 'node:fs/promises';
import * as vscode from 'vscode';
import type { Account } from '../core/types';
import { parseCredentialsFile } from '../upstream/cloudcode/credentials';
import { signIn } from '../upstream/cloudcode/oauth';
import { accountViews } from '../shared/view/quotaRows';
import { formatCountdown, formatRemaining } from '../shared/view/format';
import type { Config } from './config';
import type { EngineFacade } from './engine';
import type { Log } from './log';
import { describe } from './log';
import type { SecretVault } from './secrets';

export interface CommandDeps {
  engine: EngineFacade;
  config: Config;
  vault: SecretVault;
  log: Log;
  openDashboard: () => void;
}

type AccountArg = string | { id?: unknown } | undefined;

function accountIdOf(arg: AccountArg): string | undefined {
  if (typeof arg === 'string') return arg;
  if (arg && typeof arg === 'object' && typeof arg.id === 'string') return arg.id.split('/')[0];
  return undefined;
}

interface AccountPick extends vscode.QuickPickItem {
  account?: Account;
  auto?: boolean;
}

/** QuickPick items showing each account's quota, lowest pool first. */
export function accountPickItems(engine: EngineFacade): AccountPick[] {
  const snapshot = engine.snapshot();
  const views = snapshot ? accountViews(snapshot) : [];
  const pinned = engine.pinnedAccountId();
  const now = Date.now();
  return engine.accounts().map((account) => {
    const v = views.find((x) => x.id === account.id);
    const pools = (v?.pools ?? []).map((p) => `${p.label} ${formatRemaining(p.remaining)}`).join(' · ');
    const low = v?.lowest;
    const icon =
      account.status.kind !== 'active'
        ? '$(error)'
        : low?.severity === 'error'
          ? '$(error)'
          : low?.severity === 'warning'
            ? '$(warning)'
            : '$(pass)';
    return {
      label: `${icon} ${account.label}${account.id === pinned ? ' $(pinned)' : ''}`,
      description: `${account.tier} · ${account.status.kind === 'active' ? 'active' : account.status.reason}`,
      detail: pools
        ? `${pools}${low?.resetTime ? ` — lowest resets ${formatCountdown(low.resetTime, now)}` : ''}`
        : 'no quota data yet',
      account,
    };
  });
}

async function pickAccount(engine: EngineFacade, placeHolder: string): Promise<Account | undefined> {
  const items = accountPickItems(engine);
  if (items.length === 0) {
    void vscode.window
      .showInformationMessage('Quota Pilot has no accounts yet. Add one first.', 'Add Account')
      .then((a) => {
        if (a) void vscode.commands.executeCommand('quotaPilot.addAccount');
      });
    return undefined;
  }
  return (
    await vscode.window.showQuickPick(items, { placeHolder, matchOnDescription: true, matchOnDetail: true })
  )?.account;
}

async function resolveAccount(
  engine: EngineFacade,
  arg: AccountArg,
  placeHolder: string,
): Promise<Account | undefined> {
  const id = accountIdOf(arg);
  if (id) {
    const found = engine.accounts().find((a) => a.id === id);
    if (found) return found;
  }
  return pickAccount(engine, placeHolder);
}

export function registerCommands(deps: CommandDeps): vscode.Disposable[] {
  const { engine, log } = deps;
  const guard =
    <A extends unknown[]>(name: string, fn: (...args: A) => Promise<unknown> | unknown) =>
    async (...args: A): Promise<void> => {
      try {
        await fn(...args);
      } catch (err) {
        log.error(`${name} failed`, err);
        void vscode.window.showErrorMessage(`Quota Pilot: ${describe(err)}`, 'Show Logs').then((a) => {
          if (a) log.show();
        });
      }
    };
  const reg = (id: string, fn: (...args: never[]) => Promise<unknown> | unknown): vscode.Disposable =>
    vscode.commands.registerCommand(id, guard(id, fn as (...args: unknown[]) => unknown));

  return [
    reg('quotaPilot.showMenu', async () => {
      const proxy = engine.proxy();
      const choice = await vscode.window.showQuickPick(
        [
          { label: '$(arrow-swap) Switch or pin account…', id: 'quotaPilot.switchAccount' },
          { label: '$(refresh) Refresh quotas now', id: 'quotaPilot.refreshNow' },
          { label: '$(dashboard) Open dashboard', id: 'quotaPilot.openDashboard' },
          proxy.running
            ? { label: '$(link) Copy proxy URL', description: proxy.url ?? '', id: 'quotaPilot.copyProxyUrl' }
            : { label: '$(play) Start proxy', id: 'quotaPilot.startProxy' },
          { label: '$(add) Add account…', id: 'quotaPilot.addAccount' },
        ],
        { placeHolder: 'Quota Pilot' },
      );
      if (choice) await vscode.commands.executeCommand(choice.id);
    }),

    reg('quotaPilot.switchAccount', async () => {
      const items: AccountPick[] = [
        {
          label: '$(sparkle) Automatic',
          description: 'route every request to the account best able to serve it',
          auto: true,
        },
        { label: '', kind: vscode.QuickPickItemKind.Separator },
        ...accountPickItems(engine),
      ];
      const choice = await vscode.window.showQuickPick(items, {
        placeHolder: 'Pin an account for every request, or let Quota Pilot choose',
        matchOnDetail: true,
      });
      if (!choice) return;
      if (choice.auto) {
        await engine.pin(null);
        log.info('routing: automatic');
      } else if (choice.account) {
        await engine.pin(choice.account.id);
        log.info(`routing: pinned to ${choice.account.label}`);
      }
    }),
    reg('quotaPilot.pinAccount', async (arg: AccountArg) => {
      const a = await resolveAccount(engine, arg, 'Pin which account?');
      if (a) await engine.pin(a.id);
    }),
    reg('quotaPilot.unpinAccount', () => engine.pin(null)),

    reg('quotaPilot.addAccount', async () => {
      const config = await engine.oauthConfig();
      if ('problem' in config) {
        const action = await vscode.window.showWarningMessage(
          config.problem,
          'Set Client ID',
          'Import Credentials File',
          'Add Demo Accounts',
        );
        if (action === 'Set Client ID') {
          await vscode.commands.executeCommand('workbench.action.openSettings', 'quotaPilot.oauth.clientId');
        } else if (action === 'Import Credentials File') {
          await vscode.commands.executeCommand('quotaPilot.importCredentials');
        } else if (action === 'Add Demo Accounts') {
          await vscode.commands.executeCommand('quotaPilot.addDemoAccounts');
        }
        return;
      }
      const result = await vscode.window.withProgress(
        {
          location: vscode.ProgressLocation.Notification,
          title: 'Quota Pilot: waiting for Google sign-in in your browser…',
          cancellable: true,
        },
        (_progress, token) => {
          const abort = new AbortController();
          token.onCancellationRequested(() => abort.abort(new Error('sign-in cancelled')));
          return signIn(config, {
            openBrowser: async (url) => {
              await vscode.env.openExternal(vscode.Uri.parse(url));
            },
            port: deps.config.get('oauth.callbackPort'),
            timeoutMs: 5 * 60_000,
            signal: abort.signal,
          });
        },
      );
      const account = await engine.addAccount({ email: result.email, tokens: result.tokens });
      void vscode.window.showInformationMessage(`Quota Pilot: added ${account.email}.`);
    }),

    reg('quotaPilot.importCredentials', async () => {
      const uris = await vscode.window.showOpenDialog({
        canSelectMany: false,
        openLabel: 'Import',
        title: 'Import credentials (gemini-cli oauth_creds.json or an Antigravity-Manager account file)',
        filters: { JSON: ['json'] },
      });
      const uri = uris?.[0];
      if (!uri) return;
      const text = await readFile(uri.fsPath, 'utf8');
      const clientId = deps.config.get('oauth.clientId') || undefined;
      const clientSecret = await deps.vault.oauthClientSecret();
      const creds = parseCredentialsFile(text, { clientId, clientSecret });
      let added = 0;
      for (const c of creds) {
        await engine.addAccount({
          email: c.email ?? `imported-${added + 1}`,
          tokens: {
            refreshToken: c.refreshToken,
            accessToken: c.accessToken,
            expiresAt: c.expiresAt,
            clientId: c.clientId,
            clientSecret: c.clientSecret,
            email: c.email,
          },
        });
        added++;
      }
      void vscode.window.showInformationMessage(
        `Quota Pilot: imported ${added} account${added === 1 ? '' : 's'}.`,
      );
    }),

    reg('quotaPilot.addDemoAccounts', async () => {
      const n = await engine.addDemoAccounts();
      void vscode.window.showInformationMessage(
        `Quota Pilot: added ${n} simulated account${n === 1 ? '' : 's'} (demo mode, no network needed).`,
      );
    }),

    reg('quotaPilot.removeAccount', async (arg: AccountArg) => {
      const a = await resolveAccount(engine, arg, 'Remove which account?');
      if (!a) return;
      const ok = await vscode.window.showWarningMessage(
        `Remove ${a.label} (${a.email}) from Quota Pilot? Its saved sign-in is deleted; usage history stays.`,
        { modal: true },
        'Remove',
      );
      if (ok === 'Remove') await engine.removeAccount(a.id);
    }),
    reg('quotaPilot.renameAccount', async (arg: AccountArg) => {
      const a = await resolveAccount(engine, arg, 'Rename which account?');
      if (!a) return;
      const label = await vscode.window.showInputBox({
        prompt: `New label for ${a.email}`,
        value: a.label,
        validateInput: (v) =>
          v.trim().length === 0
            ? 'The label must not be empty.'
            : v.length > 100
              ? 'At most 100 characters.'
              : null,
      });
      if (label !== undefined) await engine.renameAccount(a.id, label.trim());
    }),
    reg('quotaPilot.enableAccount', async (arg: AccountArg) => {
      const a = await resolveAccount(engine, arg, 'Enable which account?');
      if (a) await engine.setEnabled(a.id, true);
    }),
    reg('quotaPilot.disableAccount', async (arg: AccountArg) => {
      const a = await resolveAccount(engine, arg, 'Disable which account?');
      if (a) await engine.setEnabled(a.id, false);
    }),

    reg('quotaPilot.refreshNow', () =>
      vscode.window.withProgress({ location: { viewId: 'quotaPilot.accounts' } }, () => engine.refresh()),
    ),
    reg('quotaPilot.refreshAccount', async (arg: AccountArg) => {
      const a = await resolveAccount(engine, arg, 'Refresh which account?');
      if (a) await engine.refresh(a.id);
    }),
    reg('quotaPilot.resetCooldowns', async () => {
      await engine.resetCooldowns();
      void vscode.window.showInformationMessage(
        'Quota Pilot: cooldowns cleared; every account is eligible again.',
      );
    }),

    reg('quotaPilot.openDashboard', () => deps.openDashboard()),
    reg('quotaPilot.startProxy', async () => {
      if (!deps.config.get('proxy.enabled')) await deps.config.set('proxy.enabled', true);
      await engine.startProxy();
    }),
    reg('quotaPilot.stopProxy', () => engine.stopProxy()),
    reg('quotaPilot.copyProxyUrl', async () => {
      const url = engine.proxy().url;
      if (!url) throw new Error('The proxy is not running. Start it with "Quota Pilot: Start Proxy".');
      await vscode.env.clipboard.writeText(url);
      void vscode.window.showInformationMessage(`Quota Pilot: copied ${url}`);
    }),
    reg('quotaPilot.copyProxyKey', async () => {
      await vscode.env.clipboard.writeText(await engine.proxyKey());
      void vscode.window.showInformationMessage(
        'Quota Pilot: the local proxy key is on the clipboard. Use it as the API key of your tools.',
      );
    }),
    reg('quotaPilot.showLogs', () => log.show()),
    reg('quotaPilot.showUsageSummary', async () => {
      const doc = await vscode.workspace.openTextDocument({
        content: engine.usageSummaryText(),
        language: 'plaintext',
      });
      await vscode.window.showTextDocument(doc, { preview: true });
    }),
    reg('quotaPilot.openVerification', async (arg: AccountArg) => {
      const a = await resolveAccount(engine, arg, 'Verify which account?');
      const url = a && 'url' in a.status ? a.status.url : undefined;
      if (!url) throw new Error('This account has no verification link. Sign in again or check the logs.');
      await vscode.env.openExternal(vscode.Uri.parse(url));
      void vscode.window
        .showInformationMessage('After verifying in the browser, refresh the account.', 'Refresh Now')
        .then((r) => {
          if (r && a) void engine.setEnabled(a.id, true).then(() => engine.refresh(a.id));
        });
    }),
    reg('quotaPilot.signInAgain', async () => {
      await vscode.commands.executeCommand('quotaPilot.addAccount');
    }),
    reg('quotaPilot.setOAuthClientSecret', async () => {
      const secret = await vscode.window.showInputBox({
        prompt:
          'OAuth client secret of your Google desktop client (kept in SecretStorage, never in settings)',
        password: true,
        ignoreFocusOut: true,
      });
      if (secret === undefined) return;
      await deps.vault.setOAuthClientSecret(secret.trim() || undefined);
      void vscode.window.showInformationMessage(
        secret.trim() ? 'Quota Pilot: client secret saved.' : 'Quota Pilot: client secret removed.',
      );
    }),
  ];
}
