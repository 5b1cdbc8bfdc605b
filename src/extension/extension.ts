import * as vscode from 'vscode';

/** Activation stays cheap: a log channel, a status item and the commands; the engine starts lazily. */
export function activate(context: vscode.ExtensionContext): { secrets: vscode.SecretStorage } | undefined {
  const log = vscode.window.createOutputChannel('Quota Pilot', { log: true });
  context.subscriptions.push(log);

  const status = vscode.window.createStatusBarItem('quotaPilot.status', vscode.StatusBarAlignment.Right, 100);
  status.name = 'Quota Pilot';
  status.text = '$(pulse) Quota Pilot: no accounts';
  status.tooltip = 'Quota Pilot — add an account to start monitoring quota.';
  status.show();
  context.subscriptions.push(status);

  context.subscriptions.push(
    vscode.commands.registerCommand('quotaPilot.showLogs', () => log.show()),
    vscode.commands.registerCommand('quotaPilot.refreshNow', () =>
      log.info('refresh requested: no accounts yet'),
    ),
  );
  log.info('Quota Pilot activated');
  // Exports are readable by every extension: hand the SecretStorage to our own test run only.
  return context.extensionMode === vscode.ExtensionMode.Test ? { secrets: context.secrets } : undefined;
}

export function deactivate(): void {
  // Everything is owned by context.subscriptions and disposed by VS Code.
}
