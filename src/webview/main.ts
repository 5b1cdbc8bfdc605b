// The dashboard's browser code: renders the host's view model (src/shared/view/dashboardModel.ts)
// and sends typed commands back. Countdowns tick here every second without host messages; the
// selected chart pool and the last model survive a reload through the webview state.
import '@vscode-elements/elements/dist/vscode-badge/index.js';
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import uPlot from 'uplot';
import uplotCss from 'uplot/dist/uPlot.min.css';
import type { DashboardConfig, WebviewMessage } from '../shared/protocol';
import { isHostMessage } from '../shared/protocol';
import type { AlertView, ChartModel } from '../shared/view/dashboard';
import type { AccountCard, BarView, DashboardModel } from '../shared/view/dashboardModel';
import css from './styles.css';

declare function acquireVsCodeApi(): {
  postMessage(message: WebviewMessage): void;
  getState(): unknown;
  setState(state: unknown): void;
};

/** What survives a reload (the host's state arrives again after `ready`; this paints at once). */
interface SavedState {
  model: DashboardModel | null;
  /** The pool shown in the chart: a pool id, ALL, or null (not chosen yet: the first pool). */
  pool: string | null;
}

const ALL = '*';
const vscode = acquireVsCodeApi();
const app = document.getElementById('app') as HTMLElement;
const saved = (vscode.getState() ?? {}) as Partial<SavedState>;
// A state saved by an older version may lack fields: check it like a host message.
let model: DashboardModel | null =
  saved.model && isHostMessage({ type: 'state', model: saved.model }) ? saved.model : null;
let pool: string | null = typeof saved.pool === 'string' ? saved.pool : null;
let config: DashboardConfig = { timeZone: null, locale: null };
let plot: uPlot | null = null;

function save(): void {
  vscode.setState({ model, pool } satisfies SavedState);
}

function send(message: WebviewMessage): void {
  vscode.postMessage(message);
}

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

function button(
  text: string,
  message: WebviewMessage,
  opts: { secondary?: boolean; label?: string } = {},
): HTMLElement {
  const b = document.createElement('vscode-button');
  b.textContent = text;
  if (opts.secondary) b.setAttribute('secondary', '');
  if (opts.label) b.setAttribute('aria-label', opts.label);
  b.dataset['command'] = message.type === 'command' ? message.command : message.type;
  b.addEventListener('click', () => send(message));
  return b;
}

// ---- time ----------------------------------------------------------------------------------

function formatter(options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  return new Intl.DateTimeFormat(config.locale ?? undefined, {
    ...options,
    timeZone: config.timeZone ?? undefined,
  });
}

function duration(ms: number): string {
  const s = Math.floor(ms / 1000);
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  return d > 0 ? `${d}d ${h}h` : h > 0 ? `${h}h ${m}m` : m > 0 ? `${m}m ${s % 60}s` : `${s % 60}s`;
}

function countdown(until: number | null): string {
  if (until === null) return 'unknown';
  const ms = until - Date.now();
  if (ms <= 0) return 'now';
  const local = formatter({ hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(until);
  const day = ms > 20 * 3_600_000 ? `${formatter({ weekday: 'short' }).format(until)} ` : '';
  return `${duration(ms)} (${day}${local})`;
}

// ---- cards ---------------------------------------------------------------------------------

function bar(b: BarView, effective = false): HTMLElement {
  const percent = b.percent === null ? '?' : `${b.percent}%`;
  const fill = el('div', { class: `fill ${b.severity}` });
  fill.style.width = `${Math.max(0, Math.min(100, b.percent ?? 0))}%`;
  return el(
    'div',
    {
      class: effective ? 'bar-row effective' : 'bar-row',
      role: 'meter',
      'aria-label': `${b.label}: ${percent} left, resets ${countdown(b.resetTime)}`,
      'aria-valuemin': '0',
      'aria-valuemax': '100',
      'aria-valuenow': String(b.percent ?? 0),
    },
    el('span', { class: 'bar-label' }, b.label),
    el('div', { class: 'bar' }, fill),
    el('span', { class: 'bar-value' }, percent),
    el(
      'span',
      { class: 'countdown', 'data-until': String(b.resetTime ?? ''), title: 'Resets in' },
      countdown(b.resetTime),
    ),
  );
}

function card(a: AccountCard): HTMLElement {
  const tier = document.createElement('vscode-badge');
  tier.textContent = a.tier;
  tier.setAttribute('aria-label', `Tier ${a.tier}`);
  const head = el(
    'header',
    {},
    el('h2', {}, a.label, a.pinned ? ' (pinned)' : ''),
    tier,
    el('span', { class: a.problem || a.failing ? 'status bad' : 'status' }, a.status),
  );
  if (a.email && a.email !== a.label) head.append(el('span', { class: 'muted' }, a.email));
  const body = el('div', { class: 'pools' });
  for (const p of a.pools) {
    const section = el(
      'section',
      { class: 'pool', 'aria-label': p.label },
      el('h3', {}, p.label),
      bar(p.effective, true),
    );
    for (const b of p.buckets) section.append(bar(b));
    if (p.cooldownUntil !== null) {
      section.append(
        el(
          'p',
          { class: 'cooldown' },
          `Cooling down: ${p.reason} — ends in `,
          el(
            'span',
            { class: 'countdown', 'data-until': String(p.cooldownUntil) },
            countdown(p.cooldownUntil),
          ),
        ),
      );
    }
    body.append(section);
  }
  if (a.pools.length === 0) body.append(el('p', { class: 'muted' }, 'No quota data yet.'));
  const actions = el(
    'footer',
    { class: 'row' },
    button(
      'Refresh',
      { type: 'command', command: 'refreshAccount', accountId: a.id },
      {
        secondary: true,
        label: `Refresh ${a.label}`,
      },
    ),
  );
  if (!a.pinned) {
    actions.append(
      button(
        'Pin',
        { type: 'command', command: 'pin', accountId: a.id },
        { secondary: true, label: `Pin ${a.label}` },
      ),
    );
  }
  if (a.problem?.action) {
    const text = a.problem.action === 'openVerification' ? 'Verify account' : 'Sign in again';
    actions.prepend(
      button(
        text,
        { type: 'command', command: a.problem.action, accountId: a.id },
        { label: `${text}: ${a.label}` },
      ),
    );
  }
  const problem = a.problem ? el('p', { class: 'problem', role: 'alert' }, a.problem.text) : '';
  return el(
    'article',
    { class: 'card', 'aria-label': `Account ${a.label}`, 'data-account': a.id },
    head,
    problem,
    body,
    actions,
  );
}

// ---- proxy and alerts ------------------------------------------------------------------------

function proxyPanel(p: DashboardModel['proxy']): HTMLElement {
  const state = p.running ? 'Running' : p.enabled ? 'Stopped' : 'Disabled';
  return el(
    'section',
    { class: 'panel proxy', 'aria-labelledby': 'proxy-h' },
    el('h2', { id: 'proxy-h' }, 'Proxy'),
    el(
      'p',
      { class: 'row' },
      el('span', { class: `proxy-state ${p.running ? 'running' : 'stopped'}` }, state),
      p.running && p.url ? el('span', { class: 'proxy-url' }, p.url) : '',
    ),
    p.error ? el('p', { class: 'problem', role: 'alert' }, p.error) : '',
    el(
      'p',
      { class: 'stats' },
      `${p.requests} requests · ${p.avoided429} 429s avoided · ${p.failovers} failovers`,
    ),
    el(
      'div',
      { class: 'row' },
      p.running
        ? button(
            'Stop',
            { type: 'command', command: 'stopProxy' },
            { secondary: true, label: 'Stop the proxy' },
          )
        : button('Start', { type: 'command', command: 'startProxy' }, { label: 'Start the proxy' }),
      button(
        'Copy URL',
        { type: 'command', command: 'copyProxyUrl' },
        { secondary: true, label: 'Copy the proxy URL' },
      ),
      button(
        'Copy key',
        { type: 'command', command: 'copyKey' },
        { secondary: true, label: 'Copy the proxy key' },
      ),
    ),
  );
}

function alertsPanel(alerts: AlertView[]): HTMLElement {
  const section = el(
    'section',
    { class: 'panel', 'aria-labelledby': 'alerts-h' },
    el('h2', { id: 'alerts-h' }, 'Alerts'),
  );
  if (alerts.length === 0) {
    section.append(
      el('p', { class: 'muted' }, 'No alerts. One appears here when an account crosses a usage threshold.'),
    );
    return section;
  }
  const list = el('ul', { class: 'alerts', role: 'list' });
  for (const a of alerts) {
    list.append(
      el(
        'li',
        { 'aria-label': `${a.level}: ${a.text}, ${a.when}` },
        el('span', { class: `level ${a.level}` }, a.level === 'error' ? 'Error' : 'Warning'),
        el('span', {}, a.text, ' ', el('span', { class: 'when' }, a.when)),
      ),
    );
  }
  section.append(list);
  return section;
}

// ---- chart -----------------------------------------------------------------------------------

const PALETTE = ['blue', 'green', 'orange', 'purple', 'yellow', 'red'];
const FALLBACK: Record<string, string> = {
  blue: '#3794ff',
  green: '#89d185',
  orange: '#d18616',
  purple: '#b180d7',
  yellow: '#cca700',
  red: '#f14c4c',
};

function themeVar(name: string, fallback: string): string {
  const v = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return v || fallback;
}

/** The pool the chart shows: the user's choice while it exists, else the first pool. */
function shownPool(chart: ChartModel): string {
  if (pool === ALL || chart.pools.some((p) => p.pool === pool)) return pool as string;
  return chart.pools[0]?.pool ?? ALL;
}

function chartPanel(chart: ChartModel): HTMLElement {
  const pools = chart.pools;
  const select = document.createElement('vscode-single-select');
  select.id = 'chart-pool';
  select.setAttribute('aria-label', 'Pool shown in the chart');
  for (const [value, label] of [
    [ALL, 'All pools'] as const,
    ...pools.map((p) => [p.pool, p.label] as const),
  ]) {
    const o = document.createElement('vscode-option');
    o.setAttribute('value', value);
    o.textContent = label;
    if (value === shownPool(chart)) o.setAttribute('selected', '');
    select.append(o);
  }
  select.addEventListener('change', () => {
    pool = select.value || ALL;
    save();
    drawChart(chart);
  });
  const section = el(
    'section',
    { class: 'panel', 'aria-labelledby': 'chart-h' },
    el(
      'div',
      { class: 'chart-head' },
      el('h2', { id: 'chart-h' }, 'Remaining quota over time'),
      el('span', { class: 'row' }, el('label', { for: 'chart-pool' }, 'Pool'), select),
    ),
    el('div', { id: 'chart', role: 'img' }),
  );
  return section;
}

function drawChart(chart: ChartModel): void {
  const host = document.getElementById('chart');
  if (!host) return;
  plot?.destroy();
  plot = null;
  host.replaceChildren();
  const selected = shownPool(chart);
  const lines = chart.lines.filter((l) => selected === ALL || l.pool === selected);
  if (chart.times.length < 2 || lines.length === 0) {
    host.setAttribute('aria-label', 'No history yet');
    host.append(el('p', { class: 'muted' }, 'No history yet: the chart fills in as quota is refreshed.'));
    return;
  }
  host.setAttribute(
    'aria-label',
    `Remaining quota over time: ${lines
      .map((l) => `${l.accountLabel} ${l.poolLabel} ${l.values.at(-1) ?? '?'}%`)
      .join(', ')}`,
  );
  const axis = themeVar('--vscode-descriptionForeground', '#888');
  const grid = themeVar('--vscode-editorWidget-border', 'rgba(128,128,128,0.3)');
  const font = `11px ${themeVar('--vscode-font-family', 'sans-serif')}`;
  const opts: uPlot.Options = {
    width: Math.max(240, host.clientWidth),
    height: 220,
    scales: { x: { time: true }, y: { range: [0, 100] } },
    axes: [
      { stroke: axis, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid }, font },
      {
        stroke: axis,
        grid: { stroke: grid, width: 1 },
        ticks: { stroke: grid },
        font,
        values: (_u, ticks) => ticks.map((t) => `${t}%`),
      },
    ],
    series: [
      {},
      ...lines.map((l, i) => {
        const name = PALETTE[i % PALETTE.length] as string;
        return {
          label: selected === ALL ? `${l.accountLabel} · ${l.poolLabel}` : l.accountLabel,
          stroke: themeVar(`--vscode-charts-${name}`, FALLBACK[name] as string),
          width: 2,
          dash: i >= PALETTE.length ? [6, 4] : undefined,
          spanGaps: false,
          value: (_u: uPlot, v: number | null) => (v === null ? '?' : `${v}%`),
        };
      }),
    ],
    legend: { live: true },
    hooks: {
      // The legend shows the latest values whenever the pointer is not over a point in time.
      ready: [(u) => u.setLegend({ idx: chart.times.length - 1 })],
      setCursor: [
        (u) => {
          if (u.cursor.idx === null || u.cursor.idx === undefined)
            u.setLegend({ idx: chart.times.length - 1 });
        },
      ],
    },
    cursor: { drag: { x: false, y: false } },
  };
  const data: uPlot.AlignedData = [chart.times, ...lines.map((l) => l.values)];
  plot = new uPlot(opts, data, host);
}

new ResizeObserver(() => {
  const host = document.getElementById('chart');
  if (plot && host) plot.setSize({ width: Math.max(240, host.clientWidth), height: 220 });
}).observe(document.body);

// ---- page ------------------------------------------------------------------------------------

function render(): void {
  plot?.destroy();
  plot = null;
  app.replaceChildren();
  if (!model) {
    app.append(el('p', {}, 'Loading quota…'));
    return;
  }
  const cards = el('div', { class: 'cards' });
  for (const a of model.accounts) cards.append(card(a));
  if (model.empty) {
    cards.append(
      el(
        'div',
        { class: 'panel' },
        el('p', {}, 'No accounts yet. Sign in from the Accounts view, or try the built-in demo accounts.'),
        button('Add demo accounts', { type: 'command', command: 'addDemoAccounts' }),
      ),
    );
  }
  app.append(
    el(
      'header',
      { class: 'top' },
      el('h1', {}, 'Quota Pilot'),
      button('Refresh all', { type: 'command', command: 'refresh' }, { secondary: true }),
      button('Switch account…', { type: 'command', command: 'switchAccount' }, { secondary: true }),
    ),
    el('div', { class: 'summary' }, proxyPanel(model.proxy), alertsPanel(model.alerts)),
    chartPanel(model.chart),
    cards,
  );
  drawChart(model.chart);
}

const style = document.createElement('style');
style.setAttribute('nonce', app.dataset['nonce'] ?? '');
style.textContent = `${uplotCss}\n${css}`;
document.head.append(style);

window.addEventListener('message', (event: MessageEvent<unknown>) => {
  const message = event.data;
  if (!isHostMessage(message)) return;
  if (message.type === 'config') {
    config = message.config;
  } else {
    model = message.model;
    save();
  }
  render();
});

setInterval(() => {
  for (const c of Array.from(document.querySelectorAll<HTMLElement>('.countdown'))) {
    const until = Number(c.dataset['until']);
    c.textContent = countdown(c.dataset['until'] && Number.isFinite(until) ? until : null);
  }
}, 1000);

render();
send({ type: 'ready' });
