import { describe, expect, it } from 'vitest';
import { accountView } from '../../../src/shared/view/quotaRows';
import { DEFAULT_STATUS_FORMAT, statusBarModel } from '../../../src/shared/view/statusBar';
import { escapeMarkdown, tooltipMarkdown } from '../../../src/shared/view/tooltip';
import { treeNodes } from '../../../src/shared/view/tree';
import { CLAUDE, FLASH, H, NOW, account, snapshot } from './fixtures';

const time = { now: NOW, timeZone: 'UTC', locale: 'en-GB' };

describe('quota rows', () => {
  it('groups models by pool and takes the minimum', () => {
    const snap = account('a', [
      { models: CLAUDE, remaining: 0.4 },
      { models: FLASH, remaining: 0.9 },
    ]);
    snap.models[1]!.decision.remainingFraction = 0.2;
    const v = accountView(snap);
    expect(v.pools.map((p) => [p.label, p.remaining, p.models.length])).toEqual([
      ['Claude', 0.2, 2],
      ['Gemini Flash', 0.9, 1],
    ]);
    expect(v.lowest?.pool).toBe('claude');
  });

  it('maps buckets onto the pools they cover, tightest first', () => {
    const snap = account('a', [{ models: CLAUDE, remaining: 0.4 }]);
    snap.buckets = [
      {
        id: '3p-5h',
        window: '5h',
        group: 'Claude and GPT models',
        remainingFraction: 0.7,
        resetTime: NOW + H,
        models: CLAUDE,
        fetchedAt: NOW,
      },
      {
        id: '3p-weekly',
        window: 'weekly',
        group: 'Claude and GPT models',
        remainingFraction: 0.4,
        resetTime: NOW + 50 * H,
        models: CLAUDE,
        fetchedAt: NOW,
      },
      {
        id: 'gem-5h',
        window: '5h',
        group: 'Gemini Models',
        remainingFraction: 0.1,
        resetTime: NOW + H,
        models: FLASH,
        fetchedAt: NOW,
      },
    ];
    expect(accountView(snap).pools[0]!.buckets).toEqual([
      { window: '5h', remaining: 0.7, resetTime: NOW + H },
      { window: 'weekly', remaining: 0.4, resetTime: NOW + 50 * H },
    ]);
  });
});

describe('tree nodes', () => {
  it('lists accounts → pools → buckets with stable ids, colours and context values', () => {
    const a = account('work', [{ models: CLAUDE, remaining: 0.08, resetIn: 2 * H }], { tier: 'ULTRA' });
    a.buckets = [
      {
        id: '3p-5h',
        window: '5h',
        group: 'g',
        remainingFraction: 0.5,
        resetTime: NOW + H,
        models: CLAUDE,
        fetchedAt: NOW,
      },
    ];
    const [node] = treeNodes(snapshot([a]), { ...time, pinnedAccountId: 'work', currentAccountId: 'work' });
    expect(node).toMatchObject({
      id: 'work',
      label: 'work',
      description: 'ULTRA · active · pinned · current',
      contextValue: 'account active pinned current',
      icon: { id: 'pinned', color: 'charts.yellow' },
    });
    const pool = node!.children[0]!;
    expect(pool).toMatchObject({
      id: 'work/claude',
      label: 'Claude',
      description: '8% · resets in 2h (14:00)',
    });
    expect(pool.icon).toEqual({ id: 'warning', color: 'charts.yellow' });
    expect(pool.children[0]).toMatchObject({
      id: 'work/claude/5h',
      label: '5-hour window',
      description: '50% · resets in 1h (13:00)',
    });
  });

  it('shows a cooldown under the pool', () => {
    const a = account('a', [{ models: CLAUDE, remaining: 0.5, cooldownIn: 30 * 60_000, kind: 'exhausted' }]);
    const pool = treeNodes(snapshot([a]), time)[0]!.children[0]!;
    expect(pool.children[0]).toMatchObject({ kind: 'cooldown', description: 'until 12:30 (in 30m)' });
  });

  it('turns account problems into items whose action fixes them', () => {
    const verify = account('v', [], {
      status: {
        kind: 'needs-verification',
        reason: 'Verify your account',
        url: 'https://example.com/verify',
      },
    });
    const signin = account('s', [], { status: { kind: 'disabled', reason: 'sign in again' } });
    const off = account('d', [], { status: { kind: 'disabled', reason: 'disabled by you' } });
    const nodes = treeNodes(snapshot([verify, signin, off]), time);
    expect(nodes.map((n) => n.children[0]?.command?.command)).toEqual([
      'quotaPilot.openVerification',
      'quotaPilot.signInAgain',
      'quotaPilot.enableAccount',
    ]);
    expect(nodes[0]!.contextValue).toBe('account inactive unpinned');
  });

  it('shows a placeholder before the first refresh', () => {
    const n = treeNodes(snapshot([account('a', [])]), time)[0]!;
    expect(n.children).toHaveLength(1);
    expect(n.children[0]!.kind).toBe('placeholder');
  });
});

describe('tooltip markdown', () => {
  const ctxFor = (s: ReturnType<typeof snapshot>) => ({
    ...time,
    model: statusBarModel(s, {
      ...time,
      proxy: { enabled: true, running: true },
      format: DEFAULT_STATUS_FORMAT,
      staleAfterMs: H,
    }),
    proxyUrl: 'http://127.0.0.1:8383',
  });

  it('has a row per account × pool with remaining, countdown and local time, and command links', () => {
    const s = snapshot([
      account('work|1', [
        { models: CLAUDE, remaining: 0.62, resetIn: 80 * 60_000 },
        { models: FLASH, remaining: 0.01 },
      ]),
    ]);
    const md = tooltipMarkdown(s, ctxFor(s));
    expect(md).toContain('| $(pass) | $(arrow-right) work\\|1 · PRO | Claude | 62% | in 1h20m (13:20) |');
    expect(md).toContain('| $(error) |  | Gemini Flash | 1% | in 2h (14:00) |');
    expect(md).toContain('Last updated 1m ago.');
    expect(md).toContain('(command:quotaPilot.switchAccount)');
    expect(md).toContain('Proxy: `http://127.0.0.1:8383`');
  });

  it('offers to add an account when there is none', () => {
    const s = snapshot([]);
    expect(tooltipMarkdown(s, ctxFor(s))).toContain('command:quotaPilot.addAccount');
  });

  it('escapes markdown in user-provided labels', () => {
    expect(escapeMarkdown('a|b*[c](d)')).toBe('a\\|b\\*\\[c\\]\\(d\\)');
  });
});
