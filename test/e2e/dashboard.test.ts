// The dashboard webview in a real VS Code, in demo mode, in a light and a dark theme: opened from
// the command palette; cards for the demo accounts, the proxy panel, the alerts list and the uPlot
// chart inside the webview frame; a command sent back from the webview (pin) reaches the engine;
// the chart's pool choice survives a webview reload. Screenshots: test-output/e2e/dashboard-*/.
import { describe, expect, it } from 'vitest';
import { THEMES, UI_TIMEOUT_MS, useWorkbench } from './harness';

const HISTORY_SLOT_MS = 15_000;

function dashboardSuite(theme: 'light' | 'dark'): void {
  describe(`the dashboard in the ${theme} theme`, () => {
    const simPort = 20_000 + Math.floor(Math.random() * 20_000);
    const wb = useWorkbench({
      name: `dashboard-${theme}`,
      settings: {
        'quotaPilot.demo.enabled': true,
        'quotaPilot.demo.simulatorPort': simPort,
        'quotaPilot.proxy.port': 0,
        'workbench.colorTheme': THEMES[theme],
      },
      viewport: { width: 1400, height: 1000 },
    });

    async function drain(account: string, pool: string, toFraction: number): Promise<void> {
      const res = await fetch(`http://127.0.0.1:${simPort}/_simulator/drain`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ account, pool, toFraction }),
      });
      expect(res.status).toBe(200);
    }

    it('shows cards, proxy, alerts and a chart with history, and sends commands to the host', async () => {
      await wb()
        .statusBarItem(/: (Claude|Gemini \w+|GPT-OSS) \d+%/)
        .waitFor({ state: 'visible', timeout: UI_TIMEOUT_MS });
      // Two history points at least one slot apart, and a threshold alert for the list.
      await drain('ben.pro@example.com', 'claude', 0.4);
      await wb().runCommand('Quota Pilot: Refresh Quotas Now');
      await new Promise((r) => setTimeout(r, HISTORY_SLOT_MS + 1_000));
      await drain('ben.pro@example.com', 'claude', 0.02);
      await wb().runCommand('Quota Pilot: Refresh Quotas Now');

      await wb().runCommand('Quota Pilot: Open Dashboard');
      const frame = await wb().webviewFrame();
      const cards = frame.locator('article.card');
      await expect.poll(() => cards.count(), { timeout: UI_TIMEOUT_MS }).toBe(4);
      const names = (await cards.locator('h2').allTextContents()).join(' ');
      expect(names).toMatch(/ada\.ultra[\s\S]*ben\.pro[\s\S]*cy\.free[\s\S]*dee\.free/);
      // Bars carry their value for assistive technology; a countdown shows on each.
      const meters = cards.first().locator('[role="meter"]');
      expect(await meters.count()).toBeGreaterThan(0);
      expect(await meters.first().getAttribute('aria-label')).toMatch(/\d+% left|\? left/);
      await expect
        .poll(() => frame.locator('.proxy .proxy-state').textContent(), { timeout: UI_TIMEOUT_MS })
        .toBe('Running');
      expect(await frame.locator('.proxy .proxy-url').textContent()).toMatch(/^http:\/\/127\.0\.0\.1:\d+/);
      await expect
        .poll(() => frame.locator('.alerts').textContent(), { timeout: UI_TIMEOUT_MS })
        .toContain('ben.pro');
      // uPlot drew the history (a canvas and a legend entry per series).
      await frame.locator('#chart canvas').waitFor({ timeout: UI_TIMEOUT_MS });
      expect(await frame.locator('#chart .u-legend .u-series').count()).toBeGreaterThan(1);
      // Its legend shows the latest value of each series.
      expect(await frame.locator('#chart .u-legend .u-series .u-value').allTextContents()).toContain('2%');
      // The countdowns tick in the webview without host messages: one ending in 90 s, put in the
      // page next to the others, counts down on the webview's own timer.
      // (Page scripts as strings: this file is type-checked without the DOM library.)
      await frame.evaluate(`{
        const span = document.createElement('span');
        span.className = 'countdown';
        span.id = 'probe';
        span.dataset.until = String(Date.now() + 90000);
        document.body.append(span);
      }`);
      const tick = frame.locator('#probe');
      await expect.poll(() => tick.textContent(), { timeout: 5_000 }).toMatch(/^1m \d+s/);
      const first = await tick.textContent();
      await expect.poll(() => tick.textContent(), { timeout: 5_000 }).not.toBe(first);
      await frame.evaluate(`document.getElementById('probe').remove()`);
      await wb().screenshot(`dashboard-${theme}`);
      // The drained account's card, scrolled into view (red bars, countdowns).
      await wb().screenshot(`dashboard-${theme}-card`, cards.nth(1));

      // A command from the webview reaches the engine: pinning cy.free moves the status bar.
      await frame.locator('article.card[data-account*="cy.free"] vscode-button[data-command="pin"]').click();
      await wb()
        .statusBarItem(/cy\.free: /)
        .waitFor({ timeout: UI_TIMEOUT_MS });
    });

    it('keeps the chosen chart pool across a webview reload', async () => {
      let frame = await wb().webviewFrame();
      // The dropdown's list opens after an animation frame: retry open + pick if the first click lands too early.
      await expect
        .poll(
          async () => {
            try {
              await frame.locator('#chart-pool').click();
              await frame
                .locator('#chart-pool')
                .getByText('Gemini Pro', { exact: true })
                .filter({ visible: true })
                .first()
                .click({ timeout: 3_000 });
              return true;
            } catch {
              return false;
            }
          },
          { timeout: UI_TIMEOUT_MS },
        )
        .toBe(true);
      await expect
        .poll(() => frame.locator('#chart-pool').evaluate((e) => (e as unknown as { value: string }).value))
        .toBe('gemini-pro');
      await wb().runCommand('Developer: Reload Webviews');
      frame = await wb().webviewFrame();
      await frame.locator('article.card').first().waitFor({ timeout: UI_TIMEOUT_MS });
      await expect
        .poll(() => frame.locator('#chart-pool').evaluate((e) => (e as unknown as { value: string }).value), {
          timeout: UI_TIMEOUT_MS,
        })
        .toBe('gemini-pro');
      await wb().screenshot(`dashboard-${theme}-gemini-pro`);
    });
  });
}

dashboardSuite('light');
dashboardSuite('dark');
