// Tests that run inside a real VS Code extension host, against the real `vscode` API.
// This module only *type*-imports `vscode`, so plain Node (the e2e runner) can load it to learn the
// test names; test/vscode/suite.ts (bundled into dist/test/suite.js) runs them inside VS Code.
// To add a test: add an entry to `cases` — it is reported as its own test by `npm run test:e2e`.
import assert from 'node:assert/strict';
import type * as vscodeApi from 'vscode';
import { z } from 'zod';

export type Vscode = typeof vscodeApi;

/** The extension's identifier: `<publisher>.<name>` from package.json. */
export const EXTENSION_ID = 'quota-pilot.quota-pilot';

/**
 * The part of `activate`'s return value these tests use; src/extension/extension.ts returns it in
 * ExtensionMode.Test only (exports are visible to every extension, secrets must not be).
 */
export interface QuotaPilotTestApi {
  secrets: vscodeApi.SecretStorage;
}

export interface ExtensionTestContext {
  vscode: Vscode;
}

export type ExtensionTestCase = (t: ExtensionTestContext) => Promise<void>;

const manifestSchema = z.object({
  contributes: z.object({
    commands: z.array(z.object({ command: z.string(), title: z.string() })),
    configuration: z.object({
      properties: z.record(z.string(), z.object({ default: z.unknown() })),
    }),
  }),
});

function extension(vscode: Vscode): vscodeApi.Extension<unknown> {
  const ext = vscode.extensions.getExtension<unknown>(EXTENSION_ID);
  assert.ok(ext, `extension ${EXTENSION_ID} is not loaded in this extension host`);
  return ext;
}

function manifest(vscode: Vscode): z.infer<typeof manifestSchema> {
  const parsed = manifestSchema.safeParse(extension(vscode).packageJSON);
  assert.ok(parsed.success, `package.json contributes is not as expected: ${parsed.error?.message ?? ''}`);
  return parsed.data;
}

async function testApi(vscode: Vscode): Promise<QuotaPilotTestApi> {
  const exports: unknown = await extension(vscode).activate();
  const parsed = z.object({ secrets: z.object({ store: z.unknown() }) }).safeParse(exports);
  assert.ok(
    parsed.success,
    'activate() returned no test API: is the extension running in ExtensionMode.Test?',
  );
  return exports as QuotaPilotTestApi;
}

export const cases: Record<string, ExtensionTestCase> = {
  'the extension activates': async ({ vscode }) => {
    const ext = extension(vscode);
    await ext.activate();
    assert.equal(ext.isActive, true);
  },

  'every command in package.json contributes.commands is registered': async ({ vscode }) => {
    await extension(vscode).activate();
    const registered = new Set(await vscode.commands.getCommands(true));
    const declared = manifest(vscode).contributes.commands.map((c) => c.command);
    assert.ok(declared.length > 0, 'package.json declares no commands');
    const missing = declared.filter((c) => !registered.has(c));
    assert.deepEqual(missing, [], `declared but not registered: ${missing.join(', ')}`);
  },

  'the configuration defaults are the ones package.json declares': async ({ vscode }) => {
    const properties = manifest(vscode).contributes.configuration.properties;
    const config = vscode.workspace.getConfiguration();
    for (const [key, declared] of Object.entries(properties)) {
      const inspected = config.inspect(key);
      assert.ok(inspected, `setting ${key} is not known to VS Code`);
      assert.deepEqual(inspected.defaultValue, declared.default, `default of ${key}`);
      assert.deepEqual(config.get(key), declared.default, `effective value of ${key} on a fresh profile`);
    }
  },

  'the commands run without error': async ({ vscode }) => {
    await extension(vscode).activate();
    await vscode.commands.executeCommand('quotaPilot.showLogs');
    await vscode.commands.executeCommand('quotaPilot.refreshNow');
  },

  'the local proxy key lives only in SecretStorage, in a versioned shape': async ({ vscode }) => {
    const api = (await testApi(vscode)) as QuotaPilotTestApi & { engine: { proxyKey(): Promise<string> } };
    const key = await api.engine.proxyKey();
    assert.match(key, /^qp-[\w-]{40,}$/);
    const stored: unknown = JSON.parse((await api.secrets.get('quotaPilot.vault')) ?? 'null');
    const vault = z
      .object({ version: z.literal(1), proxyKey: z.string(), accounts: z.record(z.string(), z.unknown()) })
      .parse(stored);
    assert.equal(vault.proxyKey, key);
    const settings = JSON.stringify(vscode.workspace.getConfiguration('quotaPilot'));
    assert.ok(!settings.includes(key), 'the key must not appear in settings');
  },

  'SecretStorage round trip through the extension context': async ({ vscode }) => {
    const { secrets } = await testApi(vscode);
    const key = 'quotaPilot.e2e.roundTrip';
    const value = `secret-${Math.random().toString(36).slice(2)}`;
    await secrets.store(key, value);
    assert.equal(await secrets.get(key), value);
    await secrets.delete(key);
    assert.equal(await secrets.get(key), undefined);
  },
};
