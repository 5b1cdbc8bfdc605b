import { describe, expect, it } from 'vitest';
import { parseWebviewMessage } from '../../../src/shared/dashboardProtocol';
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
