// Checks the harness helpers the UI tests rely on, against built-in VS Code parts (the Explorer
// tree, the Markdown preview webview), so a broken selector shows up here and not as a puzzling
// failure in a feature test.
import { describe, expect, it } from 'vitest';
import { THEMES, UI_TIMEOUT_MS, useWorkbench } from './harness';

describe('harness helpers', () => {
  const wb = useWorkbench({
    name: 'harness',
    installVsix: false,
    settings: { 'workbench.colorTheme': THEMES.light },
    workspaceFiles: { 'notes.md': '# Hello from e2e\n\nA paragraph.\n' },
  });

  it('openViewContainer + treeItems list the workspace files in the Explorer', async () => {
    await wb().openViewContainer('Explorer');
    await expect.poll(() => wb().treeItems(), { timeout: UI_TIMEOUT_MS }).toContain('notes.md');
  });

  it('runCommand + webviewFrame reach the content of a webview (Markdown preview)', async () => {
    await wb().page.locator('.part.sidebar .monaco-list-row[aria-label="notes.md"]').dblclick();
    await wb().page.locator('.editor-instance .monaco-editor').first().waitFor({ timeout: UI_TIMEOUT_MS });
    await wb().runCommand('Markdown: Open Preview');
    const frame = await wb().webviewFrame();
    await expect
      .poll(() => frame.locator('h1').textContent(), { timeout: UI_TIMEOUT_MS })
      .toBe('Hello from e2e');
    await wb().screenshot('markdown-preview-light');
  });

  it('backgroundColor reads a computed colour', async () => {
    const colour = await wb().backgroundColor(wb().page.locator('#workbench\\.parts\\.statusbar'));
    expect(colour).toMatch(/^rgba?\(/);
  });
});
