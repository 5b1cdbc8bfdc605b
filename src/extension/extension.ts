/**
 * Activation: cheap and synchronous up to the first paint (log, settings, status bar, tree,
 * commands); the engine starts in the background, and only runs the proxy and the refresh loop
 * once an account exists. Every component is a Disposable owned by the extension context.
 */
import * as vscode from 'vscode';
import { AccountsTreeProvider } from './tree';
import { registerCommands } from './commands';
import { Config } from './config';
import { ExtensionEngine } from './engineFacade';
import { Log } from './log';
import { AlertNotifier } from './notifications';
import { SecretVault } from './secrets';
import { StatusBarController } from './statusBar';
import { openDashboard, registerDashboard } from './dashboardHost';

/** Returned by `activate` to the extension-host tests only (ExtensionMode.Test), never to other extensions. */
export interface QuotaPilotTestApi {
  secrets: vscode.SecretStorage;
  engine: ExtensionEngine;
}

let engine: ExtensionEngine | undefined;

export function activate(context: vscode.ExtensionContext): QuotaPilotTestApi | undefined {
  const log = new Log();
  context.subscriptions.push(log);
  const config = new Config((message) => {
    log.warn(message);
    void vscode.window.showWarningMessage(`Quota Pilot: ${message}`, 'Open Settings').then((a) => {
      if (a) void vscode.commands.executeCommand('workbench.action.openSettings', 'quotaPilot');
    });
  });
  context.subscriptions.push(config);
  log.setLevel(config.get('logLevel'));
  context.subscriptions.push(config.onDidChange((s) => log.setLevel(s.logLevel)));

  const vault = new SecretVault(context.secrets);
  engine = new ExtensionEngine(context, config, vault, log);
  context.subscriptions.push(engine);

  context.subscriptions.push(new StatusBarController(engine, config));
  const tree = new AccountsTreeProvider(engine);
  context.subscriptions.push(
    tree,
    vscode.window.createTreeView('quotaPilot.accounts', { treeDataProvider: tree, showCollapseAll: true }),
  );
  context.subscriptions.push(new AlertNotifier(engine, context.globalState, log));
  const current = engine;
  context.subscriptions.push(...registerDashboard(context, current, log));
  context.subscriptions.push(
    ...registerCommands({
      engine: current,
      config,
      vault,
      log,
      openDashboard: () => openDashboard(context, current, log),
    }),
  );

  void current.start().then(
    () => {
      if (vault.problem) void vscode.window.showWarningMessage(`Quota Pilot: ${vault.problem}`);
      log.info(`Quota Pilot activated (${current.role})`);
    },
    (err: unknown) => log.error('the engine did not start', err),
  );

  // Exports are readable by every extension: expose internals only to our own test run.
  return context.extensionMode === vscode.ExtensionMode.Test
    ? { secrets: context.secrets, engine: current }
    : undefined;
}

export async function deactivate(): Promise<void> {
  // Flush the ledger and give up leadership before VS Code disposes the rest.
  await engine?.shutdown();
  engine = undefined;
}
