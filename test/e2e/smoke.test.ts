// UI smoke test: the packaged vsix installs into a fresh code-server profile, activates on startup,
// shows its status bar item with a tooltip, and its "Show Logs" command opens the output channel.
import { describe, expect, it } from 'vitest';
import { THEMES, UI_TIMEOUT_MS, useWorkbench } from './harness';

describe('smoke: packaged extension in code-server', () => {
  // A per-test setting (here the theme) reaches the fresh profile.
  const wb = useWorkbench({ name: 'smoke', settings: { 'workbench.colorTheme': THEMES.dark } });

  it('opens the workbench with the profile settings applied (dark theme)', async () => {
    await expect
      // The theme is applied just after the first paint: poll.
      .poll(() => wb().page.locator('.monaco-workbench').getAttribute('class'), { timeout: UI_TIMEOUT_MS })
      .toMatch(/\bvs-dark\b/);
  });

  it('shows the Quota Pilot status bar item after activation', async () => {
    const item = wb().statusBarItem('Quota Pilot');
    await item.waitFor({ state: 'visible', timeout: UI_TIMEOUT_MS });
    await expect
      .poll(() => item.textContent(), { timeout: UI_TIMEOUT_MS })
      .toContain('Quota Pilot: add an account');
    await wb().screenshot('workbench-status-bar');
  });

  it('shows the tooltip when the status item is hovered', async () => {
    const tooltip = await wb().hover(wb().statusBarItem('Quota Pilot'));
    expect(await tooltip.textContent()).toContain('No accounts yet.');
    await wb().screenshot('status-bar-tooltip');
    await wb().page.mouse.move(700, 300);
  });

  it('"Quota Pilot: Show Logs" opens the Quota Pilot output channel', async () => {
    await wb().runCommand('Quota Pilot: Show Logs');
    const panel = wb().page.locator('#workbench\\.parts\\.panel');
    await panel.waitFor({ state: 'visible', timeout: UI_TIMEOUT_MS });
    // The output view's channel picker shows the selected channel, and the log line is in the editor.
    await expect
      .poll(() => wb().editorText(panel.locator('.monaco-editor').first()), { timeout: UI_TIMEOUT_MS })
      .toContain('Quota Pilot activated');
    await wb().screenshot('output-channel');
  });
});
