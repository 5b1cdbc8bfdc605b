// The dashboard's browser code: renders the host's view model (src/shared/view/dashboardModel.ts)
// and sends typed commands back. Countdowns tick here every second without host messages.
import type { HostMessage, WebviewMessage } from '../shared/dashboardProtocol';
import type { AccountCard, BarView, DashboardModel } from '../shared/view/dashboardModel';

declare function acquireVsCodeApi(): {
  postMessage(message: WebviewMessage): void;
  getState(): unknown;
  setState(state: unknown): void;
};

const vscode = acquireVsCodeApi();
const app = document.getElementById('app') as HTMLElement;
let model: DashboardModel | null =
  (vscode.getState() as { model?: DashboardModel } | undefined)?.model ?? null;

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string> = {},
  ...children: Array<Node | string>
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  for (const c of children) e.append(c);
  return e;
}

function countdown(until: number | null): string {
  if (until === null) return 'reset unknown';
  const ms = until - Date.now();
  if (ms <= 0) return 'resetting now';
  const s = Math.floor(ms / 1000);
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const parts = d > 0 ? `${d}d ${h}h` : h > 0 ? `${h}h ${m}m` : m > 0 ? `${m}m ${s % 60}s` : `${s % 60}s`;
  return `resets in ${parts}`;
}

function bar(b: BarView): HTMLElement {
  const percent = b.percent === null ? '?' : `${b.percent}%`;
  const fill = el('div', { class: `fill ${b.severity}`, style: `width:${b.percent ?? 0}%` });
  return el(
    'div',
    {
      class: 'bar-row',
      role: 'meter',
      'aria-label': `${b.label} ${percent}`,
      'aria-valuemin': '0',
      'aria-valuemax': '100',
      'aria-valuenow': String(b.percent ?? 0),
    },
    el('span', { class: 'bar-label' }, b.label),
    el('div', { class: 'bar' }, fill),
    el('span', { class: 'bar-value' }, percent),
    el('span', { class: 'countdown', 'data-until': String(b.resetTime ?? '') }, countdown(b.resetTime)),
  );
}

function button(text: string, message: WebviewMessage): HTMLButtonElement {
  const b = el('button', { type: 'button' }, text);
  b.addEventListener('click', () => vscode.postMessage(message));
  return b;
}

function card(a: AccountCard): HTMLElement {
  const head = el(
    'header',
    {},
    el('h2', {}, a.label, a.pinned ? ' 📌' : ''),
    el('span', { class: `tier tier-${a.tier.toLowerCase()}` }, a.tier),
    el('span', { class: 'status' }, a.status),
  );
  const body = el('div', { class: 'pools' });
  for (const p of a.pools) {
    const section = el(
      'section',
      { class: 'pool', 'aria-label': p.label },
      el('h3', {}, p.label),
      bar(p.effective),
    );
    for (const b of p.buckets) section.append(bar(b));
    if (p.cooldownUntil !== null) section.append(el('p', { class: 'cooldown' }, `Cooling down: ${p.reason}`));
    body.append(section);
  }
  if (a.pools.length === 0) body.append(el('p', { class: 'muted' }, 'No quota data yet.'));
  const actions = el(
    'footer',
    {},
    button('Refresh', { type: 'command', command: 'refreshAccount', accountId: a.id }),
  );
  if (!a.pinned) actions.append(button('Pin', { type: 'command', command: 'pin', accountId: a.id }));
  if (a.problem?.action)
    actions.append(
      button(a.problem.action === 'openVerification' ? 'Verify account' : 'Sign in again', {
        type: 'command',
        command: a.problem.action,
        accountId: a.id,
      }),
    );
  const problem = a.problem ? el('p', { class: 'problem', role: 'alert' }, a.problem.text) : '';
  return el('article', { class: 'card', 'aria-label': `Account ${a.label}` }, head, problem, body, actions);
}

function render(): void {
  app.replaceChildren();
  if (!model) {
    app.append(el('p', {}, 'Loading quota…'));
    return;
  }
  const p = model.proxy;
  const proxy = el(
    'section',
    { class: 'proxy', 'aria-label': 'Proxy' },
    el('h2', {}, 'Proxy'),
    el('p', {}, p.running ? `Listening on ${p.url ?? ''}` : p.error ? `Stopped: ${p.error}` : 'Stopped'),
    el(
      'p',
      { class: 'stats' },
      `${p.requests} requests · ${p.avoided429} 429s avoided · ${p.failovers} failovers`,
    ),
    button('Copy URL', { type: 'command', command: 'copyProxyUrl' }),
    button('Copy key', { type: 'command', command: 'copyKey' }),
    p.running
      ? button('Stop', { type: 'command', command: 'stopProxy' })
      : button('Start', { type: 'command', command: 'startProxy' }),
  );
  const cards = el('div', { class: 'cards' });
  for (const a of model.accounts) cards.append(card(a));
  if (model.empty) {
    cards.append(
      el(
        'p',
        {},
        'No accounts yet. ',
        button('Add demo accounts', { type: 'command', command: 'addDemoAccounts' }),
      ),
    );
  }
  app.append(
    el(
      'header',
      { class: 'top' },
      el('h1', {}, 'Quota Pilot'),
      button('Refresh all', { type: 'command', command: 'refresh' }),
      button('Switch account…', { type: 'command', command: 'switchAccount' }),
    ),
    proxy,
    cards,
  );
}

const style = document.createElement('style');
style.setAttribute('nonce', app.dataset['nonce'] ?? '');
style.textContent = `
body { font-family: var(--vscode-font-family); color: var(--vscode-foreground); background: var(--vscode-editor-background); padding: 0 16px 24px; }
h1 { font-size: 1.4em; margin: 0; } h2 { font-size: 1.1em; margin: 0; } h3 { font-size: 0.95em; margin: 8px 0 4px; font-weight: 600; }
.top { display: flex; gap: 12px; align-items: center; margin: 16px 0; }
button { background: var(--vscode-button-secondaryBackground); color: var(--vscode-button-secondaryForeground); border: 1px solid var(--vscode-button-border, transparent); padding: 3px 10px; border-radius: 2px; cursor: pointer; margin-right: 6px; font: inherit; }
button:hover { background: var(--vscode-button-secondaryHoverBackground); }
button:focus-visible { outline: 1px solid var(--vscode-focusBorder); }
.proxy, .card { border: 1px solid var(--vscode-panel-border, var(--vscode-widget-border, #8884)); border-radius: 6px; padding: 12px 14px; margin-bottom: 12px; background: var(--vscode-sideBar-background, transparent); }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(340px, 1fr)); gap: 12px; }
.card header { display: flex; gap: 8px; align-items: baseline; }
.tier { font-size: 0.8em; padding: 1px 6px; border-radius: 8px; background: var(--vscode-badge-background); color: var(--vscode-badge-foreground); }
.status, .muted, .countdown, .stats { color: var(--vscode-descriptionForeground); font-size: 0.9em; }
.bar-row { display: grid; grid-template-columns: 80px 1fr 48px 130px; gap: 8px; align-items: center; margin: 3px 0; }
.bar { height: 8px; border-radius: 4px; background: var(--vscode-progressBar-background, #888); background: color-mix(in srgb, var(--vscode-foreground) 15%, transparent); overflow: hidden; }
.fill { height: 100%; }
.fill.ok { background: var(--vscode-charts-green); } .fill.warning { background: var(--vscode-charts-yellow); }
.fill.error { background: var(--vscode-charts-red); } .fill.unknown { background: var(--vscode-charts-lines, #888); }
.bar-value { text-align: right; font-variant-numeric: tabular-nums; }
.problem { color: var(--vscode-errorForeground); } .cooldown { color: var(--vscode-charts-orange); font-size: 0.9em; }
footer { margin-top: 8px; }
`;
document.head.append(style);

window.addEventListener('message', (event: MessageEvent<HostMessage>) => {
  if (event.data?.type !== 'state') return;
  model = event.data.model;
  vscode.setState({ model });
  render();
});

setInterval(() => {
  for (const c of Array.from(document.querySelectorAll<HTMLElement>('.countdown'))) {
    const until = Number(c.dataset['until']);
    c.textContent = countdown(Number.isFinite(until) && until > 0 ? until : null);
  }
}, 1000);

render();
vscode.postMessage({ type: 'ready' });
