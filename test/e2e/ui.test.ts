// The product in a real VS Code, in demo mode: demo accounts from the built-in simulator, the status
// bar with its tooltip, the accounts tree, switching from the command palette, the colour change
// when the simulator drains quota past a threshold, and a threshold notification.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { THEMES, UI_TIMEOUT_MS, useWorkbench } from './harness';

// A port for the demo simulator, so the test can drive its control API; the proxy picks its own.
const SIM_PORT = 20_000 + Math.floor(Math.random() * 20_000);
const SIM = `http://127.0.0.1:${SIM_PORT}`;

async function drain(account: string, pool: string, toFraction: number): Promise<void> {
  const res = await fetch(`${SIM}/_simulator/drain`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ account, pool, toFraction }),
  });
  expect(res.status).toBe(200);
}

describe('Quota Pilot in demo mode', () => {
  const wb = useWorkbench({
    name: 'ui-demo',
    settings: {
      'quotaPilot.demo.enabled': true,
      'quotaPilot.demo.simulatorPort': SIM_PORT,
      'quotaPilot.proxy.port': 0,
      'workbench.colorTheme': THEMES.dark,
    },
  });

  it('shows the demo accounts’ quota in the status bar, loaded at start', async () => {
    const quota = wb().statusBarItem(/: (Claude|Gemini \w+|GPT-OSS) \d+%/);
    await quota.waitFor({ state: 'visible', timeout: UI_TIMEOUT_MS });
    // Adding them again changes nothing (accounts are keyed by email).
    await wb().runCommand('Quota Pilot: Add Demo Accounts (Simulator)');
    await wb().screenshot('status-bar-demo');
  });

  it('shows a tooltip table of accounts × quota pools with reset times and command links', async () => {
    const tooltip = await wb().hover(wb().statusBarItem(/: (Claude|Gemini \w+|GPT-OSS) \d+%/));
    const text = (await tooltip.textContent()) ?? '';
    expect(text).toContain('ada.ultra');
    expect(text).toContain('Claude');
    expect(text).toMatch(/\d+%/);
    expect(text).toContain('Switch account');
    await wb().screenshot('status-bar-tooltip');
    await wb().page.mouse.move(700, 300);
  });

  it('lists accounts and their quota pools in the tree', async () => {
    await wb().openViewContainer('Quota Pilot');
    await expect
      .poll(async () => (await wb().treeItems()).join('\n'), { timeout: UI_TIMEOUT_MS })
      .toMatch(/ada\.ultra[\s\S]*ben\.pro[\s\S]*cy\.free/);
    const labels = await wb().treeItems();
    expect(labels.join('\n')).toMatch(/Claude.*\d+%/);
    expect(labels.filter((l) => /^(ada\.ultra|ben\.pro|cy\.free|dee\.free)\b/.test(l))).toHaveLength(4);
    await wb().screenshot('tree');
  });

  it('switches (pins) an account from the command palette and the status bar follows', async () => {
    const input = wb().page.locator('.quick-input-widget input');
    await wb().page.keyboard.press('F1');
    await input.fill('>Quota Pilot: Switch or Pin Account');
    await wb()
      .page.locator('.quick-input-list .monaco-list-row')
      .filter({ hasText: 'Switch or Pin Account' })
      .first()
      .waitFor();
    await wb().page.keyboard.press('Enter');
    const row = wb()
      .page.locator('.quick-input-list .monaco-list-row')
      .filter({ hasText: 'ben.pro' })
      .first();
    await row.waitFor({ timeout: UI_TIMEOUT_MS });
    await wb().screenshot('quickpick');
    await row.click();
    await wb()
      .statusBarItem(/ben\.pro: /)
      .waitFor({ timeout: UI_TIMEOUT_MS });
  });

  it('turns the status bar red when the simulator drains the pinned account past the floor, and notifies', async () => {
    const item = wb().statusBarItem(/ben\.pro: /);
    const before = await wb().backgroundColor(item);
    // Start from an empty notification centre: the demo's time-scaled windows keep firing alerts
    // for other accounts, and the centre's list is virtualised (only the newest rows are in the DOM).
    await wb().runCommand('Notifications: Clear All Notifications');
    await drain('ben.pro@example.com', 'claude', 0.01);
    await drain('ben.pro@example.com', 'gemini-pro', 0.01);
    await drain('ben.pro@example.com', 'gemini-flash', 0.01);
    await wb().runCommand('Quota Pilot: Refresh Quotas Now');
    await expect.poll(() => item.textContent(), { timeout: UI_TIMEOUT_MS }).toMatch(/ben\.pro: .* 1%/);
    await expect.poll(() => wb().backgroundColor(item), { timeout: UI_TIMEOUT_MS }).not.toBe(before);
    await wb().screenshot('status-bar-exhausted');
    // The threshold alert reaches the notification centre.
    await wb().runCommand('Notifications: Show Notifications');
    const centre = wb().page.locator('.notifications-center');
    // Alerts of other accounts may arrive after ben.pro's and push its rows out of the rendered part
    // of the list: page down through the list and look at every row seen so far.
    const seen: string[] = [];
    await expect
      .poll(
        async () => {
          seen.push((await centre.textContent()) ?? '');
          await centre
            .locator('.monaco-list')
            .first()
            .press('PageDown')
            .catch(() => undefined);
          return seen.join('\n');
        },
        { timeout: UI_TIMEOUT_MS },
      )
      .toMatch(/Quota Pilot: ben\.pro has/);
    await wb().screenshot('notification-centre');
  });

  it('a second window follows the engine of the first: same accounts, no second engine', async () => {
    const second = await wb().page.context().newPage();
    try {
      await second.goto(wb().page.url());
      await second.locator('.monaco-workbench').waitFor({ timeout: UI_TIMEOUT_MS });
      const item = second
        .locator('#workbench\\.parts\\.statusbar .statusbar-item')
        .filter({ hasText: /ben\.pro: / })
        .first();
      await item.waitFor({ timeout: UI_TIMEOUT_MS });
      // Its log says it follows; only the first window runs the proxy and the refresh loop.
      await second.keyboard.press('F1');
      await second.locator('.quick-input-widget input').fill('>Quota Pilot: Show Logs');
      await second
        .locator('.quick-input-list .monaco-list-row')
        .filter({ hasText: 'Show Logs' })
        .first()
        .waitFor();
      await second.keyboard.press('Enter');
      const panel = second.locator('#workbench\\.parts\\.panel .monaco-editor .view-lines');
      // Monaco renders spaces as no-break spaces.
      await expect
        .poll(async () => ((await panel.textContent()) ?? '').replace(/\u00a0/g, ' '), {
          timeout: UI_TIMEOUT_MS,
        })
        .toMatch(/activated \(follower\)/);
      await second.screenshot({ path: join(wb().outputDir, 'second-window.png') });
    } finally {
      await second.close();
    }
  });
});
