/**
 * Threshold alerts from the ledger as notifications: a warning at the early levels, an error at
 * exhaustion, with actions. An alert id is shown at most once, also across windows and restarts
 * (ids are remembered in globalState — they carry no secrets); muted accounts stay quiet.
 */
import * as vscode from 'vscode';
import type { LedgerAlert } from '../core/ledger/schema';
import { formatReset } from '../shared/view/format';
import type { EngineFacade } from './engine';
import type { Log } from './log';

const SEEN_KEY = 'quotaPilot.notifiedAlertIds';
const MUTED_KEY = 'quotaPilot.mutedAccounts';
const MAX_SEEN = 500;

export function alertMessage(alert: LedgerAlert, accountLabel: string, now: number): string {
  const reset = alert.resetTime ? `; resets ${formatReset(alert.resetTime, { now })}` : '';
  if (alert.exhausted) {
    return `Quota Pilot: ${accountLabel} has no ${alert.model} quota left${reset}. Requests go to other accounts.`;
  }
  const what = alert.source === 'limit' ? `your ${alert.window} limit` : 'its quota';
  return `Quota Pilot: ${accountLabel} has used ${alert.level}% of ${what} for ${alert.model}${reset}.`;
}

export class AlertNotifier implements vscode.Disposable {
  private readonly sub: vscode.Disposable;

  constructor(
    private readonly engine: EngineFacade,
    private readonly state: vscode.Memento,
    private readonly log: Log,
  ) {
    this.sub = engine.onAlert((a) => void this.show(a));
  }

  async show(alert: LedgerAlert): Promise<void> {
    const seen = this.state.get<string[]>(SEEN_KEY, []);
    if (seen.includes(alert.id)) return;
    await this.state.update(SEEN_KEY, [...seen, alert.id].slice(-MAX_SEEN));
    const account = this.engine.accounts().find((a) => a.id === alert.account);
    const label = account?.label ?? alert.account;
    this.log.info(
      `alert ${alert.level}% ${alert.exhausted ? '(exhausted) ' : ''}${label} ${alert.model}: ${alert.scope}`,
    );
    if (this.state.get<string[]>(MUTED_KEY, []).includes(alert.account)) return;
    const text = alertMessage(alert, label, Date.now());
    const actions = ['Switch Account', 'Open Dashboard', 'Mute This Account'] as const;
    const choice = alert.exhausted
      ? await vscode.window.showErrorMessage(text, ...actions)
      : await vscode.window.showWarningMessage(text, ...actions);
    if (choice === 'Switch Account') await vscode.commands.executeCommand('quotaPilot.switchAccount');
    else if (choice === 'Open Dashboard') await vscode.commands.executeCommand('quotaPilot.openDashboard');
    else if (choice === 'Mute This Account') {
      await this.state.update(MUTED_KEY, [
        ...new Set([...this.state.get<string[]>(MUTED_KEY, []), alert.account]),
      ]);
      void vscode.window.showInformationMessage(`Quota Pilot: alerts for ${label} muted.`);
    }
  }

  dispose(): void {
    this.sub.dispose();
  }
}
