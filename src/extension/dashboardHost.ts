/**
 * The dashboard panel's host side: one panel, a strict CSP with a nonce from crypto, scripts only
 * from the extension's dist/ folder, a ready handshake, live updates from engine changes, and a
 * serializer so the panel comes back after a reload. The browser code is src/webview/ (its own
 * bundle); messages are typed in src/shared/dashboardProtocol.ts and validated on arrival.
 */
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import { SystemClock } from '../core/clock';
import { QuotaHistory } from '../core/history';
import type { LedgerAlert } from '../core/ledger/schema';
import type { HostMessage } from '../shared/dashboardProtocol';
import { parseWebviewMessage } from '../shared/dashboardProtocol';
import { alertViews, chartModel, historySamples } from '../shared/view/dashboard';
import { dashboardModel } from '../shared/view/dashboardModel';
import type { EngineFacade } from './engine';
import type { Log } from './log';

const VIEW_TYPE = 'quotaPilot.dashboard';
let current: DashboardPanel | undefined;

/** Kept for the whole activation (not just while the panel is open), so the chart has a past. */
interface Feed {
  history: QuotaHistory;
  alerts: LedgerAlert[];
}
const MAX_ALERTS = 100;
// 15-second points over the last 6 hours: at most 1,440 points per series in each state message.
const feed: Feed = {
  history: new QuotaHistory(new SystemClock(), {
    resolutionMs: 15_000,
    maxAgeMs: 6 * 3_600_000,
    maxPoints: 1_440,
  }),
  alerts: [],
};

class DashboardPanel implements vscode.Disposable {
  private ready = false;
  private readonly subs: vscode.Disposable[] = [];
  private pending: ReturnType<typeof setTimeout> | undefined;

  constructor(
    readonly panel: vscode.WebviewPanel,
    private readonly context: vscode.ExtensionContext,
    private readonly engine: EngineFacade,
    private readonly log: Log,
  ) {
    const dist = vscode.Uri.joinPath(context.extensionUri, 'dist');
    const media = vscode.Uri.joinPath(context.extensionUri, 'media');
    panel.webview.options = { enableScripts: true, localResourceRoots: [dist, media] };
    panel.iconPath = vscode.Uri.joinPath(context.extensionUri, 'media', 'quota-pilot.svg');
    panel.webview.html = this.html(panel.webview, dist);
    this.subs.push(
      panel.webview.onDidReceiveMessage((raw: unknown) => void this.receive(raw)),
      engine.onDidChange(() => this.schedule()),
      panel.onDidDispose(() => this.dispose()),
    );
  }

  private html(webview: vscode.Webview, dist: vscode.Uri): string {
    const nonce = randomBytes(16).toString('base64');
    const script = webview.asWebviewUri(vscode.Uri.joinPath(dist, 'webview.js'));
    const csp = [
      "default-src 'none'",
      `img-src ${webview.cspSource} data:`,
      `style-src ${webview.cspSource} 'nonce-${nonce}'`,
      `font-src ${webview.cspSource}`,
      `script-src 'nonce-${nonce}'`,
    ].join('; ');
    return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>Quota Pilot</title>
</head>
<body>
<div id="app" data-nonce="${nonce}" aria-live="polite">Loading quota…</div>
<script nonce="${nonce}" src="${script.toString()}"></script>
</body>
</html>`;
  }

  private schedule(): void {
    // Before `ready` nothing is posted (the webview could not receive it); `ready` sends the state.
    if (!this.ready || this.pending) return;
    this.pending = setTimeout(() => {
      this.pending = undefined;
      this.post();
    }, 250);
  }

  private post(): void {
    const snapshot = this.engine.snapshot();
    const now = Date.now();
    const message: HostMessage = {
      type: 'state',
      model: dashboardModel(snapshot, {
        now,
        pinnedAccountId: this.engine.pinnedAccountId(),
        proxy: this.engine.proxy(),
        chart: chartModel(feed.history.series(), snapshot),
        alerts: alertViews(feed.alerts, snapshot, { now }),
      }),
    };
    void this.panel.webview.postMessage(message);
  }

  private async receive(raw: unknown): Promise<void> {
    const message = parseWebviewMessage(raw);
    if (!message) {
      this.log.warn('dashboard: ignored a message of unknown shape');
      return;
    }
    if (message.type === 'ready') {
      this.ready = true;
      const config: HostMessage = { type: 'config', config: { timeZone: null, locale: vscode.env.language } };
      void this.panel.webview.postMessage(config);
      this.post();
      return;
    }
    const command: Record<typeof message.command, [string, ...unknown[]]> = {
      refresh: ['quotaPilot.refreshNow'],
      switchAccount: ['quotaPilot.switchAccount'],
      copyProxyUrl: ['quotaPilot.copyProxyUrl'],
      copyKey: ['quotaPilot.copyProxyKey'],
      startProxy: ['quotaPilot.startProxy'],
      stopProxy: ['quotaPilot.stopProxy'],
      addDemoAccounts: ['quotaPilot.addDemoAccounts'],
      pin: ['quotaPilot.pinAccount', message.accountId],
      refreshAccount: ['quotaPilot.refreshAccount', message.accountId],
      openVerification: ['quotaPilot.openVerification', message.accountId],
      signInAgain: ['quotaPilot.signInAgain', message.accountId],
    };
    const [id, ...args] = command[message.command];
    await vscode.commands.executeCommand(id, ...args);
  }

  dispose(): void {
    if (this.pending) clearTimeout(this.pending);
    this.subs.forEach((s) => s.dispose());
    if (current === this) current = undefined;
  }
}

export function openDashboard(context: vscode.ExtensionContext, engine: EngineFacade, log: Log): void {
  if (current) {
    current.panel.reveal();
    return;
  }
  const panel = vscode.window.createWebviewPanel(VIEW_TYPE, 'Quota Pilot', vscode.ViewColumn.Active, {
    enableScripts: true,
    retainContextWhenHidden: false,
    localResourceRoots: [
      vscode.Uri.joinPath(context.extensionUri, 'dist'),
      vscode.Uri.joinPath(context.extensionUri, 'media'),
    ],
  });
  current = new DashboardPanel(panel, context, engine, log);
}

/** Restores the panel after a reload (its UI state lives in the webview's own state). */
export function registerDashboard(
  context: vscode.ExtensionContext,
  engine: EngineFacade,
  log: Log,
): vscode.Disposable[] {
  const record = (): void => {
    const samples = historySamples(engine.snapshot());
    if (samples.length > 0) feed.history.record(samples);
  };
  record();
  return [
    engine.onDidChange(record),
    engine.onAlert((a) => {
      feed.alerts.push(a);
      if (feed.alerts.length > MAX_ALERTS) feed.alerts.splice(0, feed.alerts.length - MAX_ALERTS);
    }),
    vscode.window.registerWebviewPanelSerializer(VIEW_TYPE, {
      deserializeWebviewPanel: async (panel) => {
        current?.dispose();
        current = new DashboardPanel(panel, context, engine, log);
      },
    }),
    { dispose: () => current?.panel.dispose() },
  ];
}
