/** Renders the status bar model (src/shared/view/statusBar.ts) into a StatusBarItem. */
import * as vscode from 'vscode';
import { statusBarModel } from '../shared/view/statusBar';
import { TOOLTIP_COMMANDS, tooltipMarkdown } from '../shared/view/tooltip';
import type { Config } from './config';
import type { ViewSource } from './viewSource';

export class StatusBarController implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  private readonly subs: vscode.Disposable[] = [];
  private ticker: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly source: ViewSource,
    private readonly config: Config,
  ) {
    this.item = vscode.window.createStatusBarItem('quotaPilot.status', vscode.StatusBarAlignment.Right, 100);
    this.item.name = 'Quota Pilot';
    this.item.command = 'quotaPilot.showMenu';
    this.subs.push(
      source.onDidChange(() => this.render()),
      config.onDidChange(() => this.render()),
    );
    // Countdowns and "stale" move with time even when nothing else changes.
    this.ticker = setInterval(() => this.render(), 30_000);
    this.render();
    this.item.show();
  }

  render(): void {
    const snapshot = this.source.snapshot();
    const current = this.source.current();
    const proxy = this.source.proxy();
    const now = Date.now();
    const refresh = this.config.get('refreshIntervalSeconds');
    const model = statusBarModel(snapshot, {
      now,
      pinnedAccountId: this.source.pinnedAccountId(),
      currentAccountId: current?.accountId ?? null,
      currentModel: current?.model ?? null,
      proxy: { enabled: this.config.get('proxy.enabled'), running: proxy.running, url: proxy.url },
      format: this.config.get('statusBar.format'),
      staleAfterMs: Math.max(3 * refresh * 1000, 10 * 60_000),
    });
    this.item.text = model.text;
    this.item.accessibilityInformation = { label: model.accessibilityLabel, role: 'button' };
    this.item.backgroundColor =
      model.background === 'error'
        ? new vscode.ThemeColor('statusBarItem.errorBackground')
        : model.background === 'warning'
          ? new vscode.ThemeColor('statusBarItem.warningBackground')
          : undefined;
    const md = new vscode.MarkdownString(
      tooltipMarkdown(snapshot, {
        now,
        model,
        pinnedAccountId: this.source.pinnedAccountId(),
        proxyUrl: proxy.running ? proxy.url : null,
      }),
      true,
    );
    md.isTrusted = { enabledCommands: [...TOOLTIP_COMMANDS] };
    md.supportHtml = false;
    this.item.tooltip = md;
  }

  dispose(): void {
    if (this.ticker) clearInterval(this.ticker);
    this.subs.forEach((s) => s.dispose());
    this.item.dispose();
  }
}
