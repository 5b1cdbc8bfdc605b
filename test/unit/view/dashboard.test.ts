import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../src/core/clock';
import { QuotaHistory } from '../../../src/core/history';
import type { LedgerAlert } from '../../../src/core/ledger/schema';
import { isHostMessage, parseWebviewMessage } from '../../../src/shared/dashboardProtocol';
import { alertViews, chartModel, historySamples } from '../../../src/shared/view/dashboard';
import { dashboardModel } from '../../../src/shared/view/dashboardModel';
import { CLAUDE, FLASH, H, NOW, account, snapshot } from './fixtures';

const proxy = {
  enabled: true,
  running: true,
  url: 'http://127.0.0.1:8383',
  requests: 3,
  avoided429: 1,
  failovers: 1,
  error: null,
};

describe('dashboard view model', () => {
  it('has a card per account with a bar per pool and its buckets', () => {
    const a = account('work', [
      { models: CLAUDE, remaining: 0.62, resetIn: 2 * H },
      { models: FLASH, remaining: 0.04 },
    ]);
    a.buckets = [
      {
        id: '3p-5h',
        window: '5h',
        group: 'g',
        remainingFraction: 0.08,
        resetTime: NOW + H,
        models: CLAUDE,
        fetchedAt: NOW,
      },
    ];
    const m = dashboardModel(snapshot([a]), { now: NOW, pinnedAccountId: 'work', proxy });
    expect(m.empty).toBe(false);
    const card = m.accounts[0]!;
    expect(card).toMatchObject({ label: 'work', tier: 'PRO', status: 'active', pinned: true, problem: null });
    expect(card.pools.map((p) => [p.label, p.effective.percent, p.effective.severity])).toEqual([
      ['Claude', 62, 'ok'],
      ['Gemini Flash', 4, 'error'],
    ]);
    expect(card.pools[0]!.buckets).toEqual([
      { label: '5-hour', percent: 8, severity: 'warning', resetTime: NOW + H },
    ]);
    expect(m.proxy).toEqual(proxy);
  });

  it('names the fix for an account problem', () => {
    const v = account('v', [], {
      status: { kind: 'needs-verification', reason: 'Verify it', url: 'https://example.com' },
    });
    const s = account('s', [], { status: { kind: 'disabled', reason: 'sign in again' } });
    const m = dashboardModel(snapshot([v, s]), { now: NOW, pinnedAccountId: null, proxy });
    expect(m.accounts.map((c) => [c.status, c.problem])).toEqual([
      ['needs verification', { text: 'Verify it', action: 'openVerification' }],
      ['disabled', { text: 'sign in again', action: 'signInAgain' }],
    ]);
  });

  it('is empty without a snapshot or accounts', () => {
    expect(dashboardModel(null, { now: NOW, pinnedAccountId: null, proxy }).empty).toBe(true);
  });
});

describe('dashboard protocol', () => {
  it('accepts the messages the webview may send', () => {
    expect(parseWebviewMessage({ type: 'ready' })).toEqual({ type: 'ready' });
    expect(parseWebviewMessage({ type: 'command', command: 'copyKey' })).toEqual({
      type: 'command',
      command: 'copyKey',
    });
    expect(parseWebviewMessage({ type: 'command', command: 'pin', accountId: 'a@x' })).toMatchObject({
      accountId: 'a@x',
    });
  });

  it.each([
    null,
    'ready',
    { type: 'state' },
    { type: 'command', command: 'rm -rf' },
    { type: 'command', command: 'pin' },
    { type: 'command', command: 'copyKey', key: 'secret' },
    { type: 'ready', extra: 1 },
  ])('refuses %j', (raw) => {
    expect(parseWebviewMessage(raw)).toBeUndefined();
  });
});

describe('dashboard chart and alerts', () => {
  const alert = (over: Partial<LedgerAlert>): LedgerAlert => ({
    id: 'a1',
    account: 'work',
    model: 'claude-sonnet-4-6',
    level: 80,
    exhausted: false,
    used: 80,
    remaining: 20,
    unit: 'percent',
    resetTime: null,
    source: 'provider',
    window: '5h',
    scope: '5-hour window of work',
    firedAt: NOW,
    ...over,
  });

  it('feeds the history from a snapshot and charts one labelled line per account × pool', () => {
    const snap = snapshot([
      account('work', [
        { models: CLAUDE, remaining: 0.62 },
        { models: FLASH, remaining: 0.04 },
      ]),
      account('home', [{ models: CLAUDE, remaining: null }], { label: 'Home' }),
    ]);
    const samples = historySamples(snap);
    expect(samples.map((s) => [s.account, s.remaining])).toEqual([
      ['work', 0.62],
      ['work', 0.04],
      ['home', null],
    ]);
    const clock = new VirtualClock(NOW);
    const history = new QuotaHistory(clock);
    history.record(samples);
    clock.advance(5 * 60_000);
    history.record([...samples.slice(0, 2), { account: 'gone', pool: samples[0]!.pool, remaining: 0.5 }]);
    const chart = chartModel(history.series(), snap);
    expect(chart.times).toEqual([NOW / 1000, NOW / 1000 + 300]);
    // 'home' never had a value: no line; 'gone' left the snapshot: labelled with its id.
    expect(chart.lines.map((l) => [l.accountLabel, l.poolLabel, l.values])).toEqual([
      ['work', 'Claude', [62, 62]],
      ['work', 'Gemini Flash', [4, 4]],
      ['gone', 'Claude', [null, 50]],
    ]);
    expect(chart.pools.map((p) => p.label)).toEqual(['Claude', 'Gemini Flash']);
    const m = dashboardModel(snap, { now: NOW, pinnedAccountId: null, proxy, chart });
    expect(m.chart).toBe(chart);
    expect(m.alerts).toEqual([]);
  });

  it('charts nothing without history', () => {
    const clock = new VirtualClock(NOW);
    expect(chartModel(new QuotaHistory(clock).series(), null)).toEqual({ times: [], pools: [], lines: [] });
    expect(dashboardModel(null, { now: NOW, pinnedAccountId: null, proxy }).chart.lines).toEqual([]);
  });

  it('lists alerts newest first, once each, with the local time in the given zone', () => {
    const snap = snapshot([account('work', [], { label: 'Work' })]);
    const list = alertViews(
      [
        alert({ id: 'old', firedAt: NOW - 3 * H }),
        alert({ id: 'new', level: 100, exhausted: true, firedAt: NOW - 60_000 }),
        alert({ id: 'old', firedAt: NOW - 3 * H }),
        alert({ id: 'other', account: 'left', source: 'limit', firedAt: NOW - 26 * H }),
      ],
      snap,
      { now: NOW, timeZone: 'Asia/Tokyo', locale: 'en-GB' },
    );
    expect(list.map((a) => [a.id, a.level, a.accountLabel, a.when])).toEqual([
      ['new', 'error', 'Work', '20:59'],
      ['old', 'warning', 'Work', '18:00'],
      ['other', 'warning', 'left', '22 Nov 19:00'],
    ]);
    expect(list[0]!.text).toBe("Work · claude-sonnet-4-6: exhausted of the provider's quota");
    expect(list[2]!.text).toBe('left · claude-sonnet-4-6: 80% used of your limit (5-hour window of work)');
    expect(alertViews([alert({ id: 'x' }), alert({ id: 'y' })], null, { now: NOW }, 1)).toHaveLength(1);
  });
});

describe('host messages (checked in the webview)', () => {
  it('accepts a state and a config', () => {
    const model = dashboardModel(null, { now: NOW, pinnedAccountId: null, proxy });
    expect(isHostMessage({ type: 'state', model })).toBe(true);
    expect(isHostMessage({ type: 'config', config: { timeZone: null, locale: 'en' } })).toBe(true);
  });

  it.each([
    null,
    [],
    { type: 'state' },
    { type: 'state', model: { generatedAt: 1, accounts: [], proxy: {}, alerts: [] } },
    { type: 'config', config: { timeZone: 3, locale: null } },
    { type: 'other' },
  ])('refuses %j', (raw) => {
    expect(isHostMessage(raw)).toBe(false);
  });
});
