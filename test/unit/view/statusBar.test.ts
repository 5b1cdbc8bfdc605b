import { describe, expect, it } from 'vitest';
import type { StatusBarContext } from '../../../src/shared/view/statusBar';
import {
  DEFAULT_STATUS_FORMAT,
  statusBarModel,
  validateStatusFormat,
} from '../../../src/shared/view/statusBar';
import { CLAUDE, FLASH, H, NOW, account, snapshot } from './fixtures';

const ctx: StatusBarContext = {
  now: NOW,
  timeZone: 'UTC',
  locale: 'en-GB',
  proxy: { enabled: true, running: true },
  format: DEFAULT_STATUS_FORMAT,
  staleAfterMs: 15 * 60_000,
};

describe('status bar model', () => {
  it('is loading before the engine has a snapshot, signed out without accounts', () => {
    expect(statusBarModel(null, ctx).state).toBe('loading');
    const m = statusBarModel(snapshot([]), ctx);
    expect(m.state).toBe('signed-out');
    expect(m.text).toBe('$(account) Quota Pilot: add an account');
  });

  it('shows the lowest account and pool when nothing is pinned or current', () => {
    const s = snapshot([
      account('work', [{ models: CLAUDE, remaining: 0.8 }]),
      account('home', [
        { models: CLAUDE, remaining: 0.3 },
        { models: FLASH, remaining: 0.9 },
      ]),
    ]);
    const m = statusBarModel(s, ctx);
    expect(m).toMatchObject({
      state: 'ok',
      text: '$(pulse) home: Claude 30%',
      severity: 'ok',
      background: null,
    });
    expect(m.focus).toEqual({ accountId: 'home', pool: 'claude' });
  });

  it('prefers the pinned account, then the current one with the model it served', () => {
    const s = snapshot([
      account('work', [
        { models: CLAUDE, remaining: 0.8 },
        { models: FLASH, remaining: 0.5 },
      ]),
      account('home', [{ models: CLAUDE, remaining: 0.3 }]),
    ]);
    expect(statusBarModel(s, { ...ctx, pinnedAccountId: 'work' }).text).toBe(
      '$(pulse) work: Gemini Flash 50%',
    );
    expect(
      statusBarModel(s, { ...ctx, currentAccountId: 'work', currentModel: 'claude-sonnet-4-6' }).text,
    ).toBe('$(pulse) work: Claude 80%');
  });

  it('turns warning below the warn threshold and error when exhausted', () => {
    const low = statusBarModel(snapshot([account('a', [{ models: CLAUDE, remaining: 0.08 }])]), ctx);
    expect(low).toMatchObject({ severity: 'warning', background: 'warning' });
    const out = statusBarModel(snapshot([account('a', [{ models: CLAUDE, remaining: 0.01 }])]), ctx);
    expect(out).toMatchObject({ severity: 'error', background: 'error' });
  });

  it('has distinct states for degraded, stale and proxy stopped', () => {
    const fresh = [{ models: CLAUDE, remaining: 0.5 }];
    expect(statusBarModel(snapshot([account('a', fresh, { failing: true })]), ctx).state).toBe('degraded');
    const stale = statusBarModel(snapshot([account('a', fresh, { lastSuccessAgo: 40 * 60_000 })]), ctx);
    expect(stale.state).toBe('stale');
    expect(stale.text.startsWith('$(history)')).toBe(true);
    expect(stale.accessibilityLabel).toContain('updated 40m ago');
    const stopped = statusBarModel(snapshot([account('a', fresh)]), {
      ...ctx,
      proxy: { enabled: true, running: false },
    });
    expect(stopped.state).toBe('proxy-stopped');
    expect(
      statusBarModel(snapshot([account('a', fresh)]), { ...ctx, proxy: { enabled: false, running: false } })
        .state,
    ).toBe('ok');
  });

  it('is loading while no refresh has succeeded yet', () => {
    const s = snapshot([account('a', [{ models: CLAUDE, remaining: null }], { lastSuccessAgo: null })]);
    expect(statusBarModel(s, ctx)).toMatchObject({
      state: 'loading',
      text: '$(loading~spin) Quota Pilot: loading quota…',
    });
  });

  it('shows a disabled pinned account as an error with its status', () => {
    const s = snapshot([
      account('a', [{ models: CLAUDE, remaining: 0.5 }], {
        status: { kind: 'disabled', reason: 'sign in again' },
      }),
    ]);
    expect(statusBarModel(s, { ...ctx, pinnedAccountId: 'a' })).toMatchObject({
      severity: 'error',
      text: '$(pulse) a: Claude disabled',
    });
  });

  it('renders a custom format with every placeholder', () => {
    const s = snapshot([
      account('a', [{ models: CLAUDE, remaining: 0.5, resetIn: 80 * 60_000 }], { tier: 'ULTRA' }),
    ]);
    expect(statusBarModel(s, { ...ctx, format: '{tier} {account} {pool} {remaining} {reset}' }).text).toBe(
      '$(pulse) ULTRA a Claude 50% in 1h20m',
    );
    expect(statusBarModel(s, ctx).accessibilityLabel).toBe('Quota Pilot: a, Claude 50% left, resets 13:20');
  });

  it('validates formats with a clear message', () => {
    expect(validateStatusFormat(DEFAULT_STATUS_FORMAT)).toBeNull();
    expect(validateStatusFormat('{acount} {remaining}')).toMatch(/Unknown placeholder \{acount\}/);
    expect(validateStatusFormat('  ')).toMatch(/empty/);
  });

  it('never throws on a large snapshot and picks deterministically', () => {
    const accounts = Array.from({ length: 50 }, (_, i) =>
      account(`acc${i}`, [{ models: CLAUDE, remaining: ((i * 37) % 100) / 100, resetIn: H }]),
    );
    const a = statusBarModel(snapshot(accounts), ctx);
    const b = statusBarModel(snapshot([...accounts].reverse()), ctx);
    expect(a.focus?.accountId).toBe('acc0');
    expect(b.focus?.accountId).toBe('acc0');
  });
});
