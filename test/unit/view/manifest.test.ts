/** Keeps package.json's contributes in step with the settings schema and the commands the UI links to. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SETTINGS } from '../../../src/shared/settings';
import { TOOLTIP_COMMANDS } from '../../../src/shared/view/tooltip';

interface Manifest {
  engines: { vscode: string };
  contributes: {
    commands: Array<{ command: string; title: string; category: string }>;
    configuration: { properties: Record<string, { default: unknown; markdownDescription?: string }> };
    menus: Record<string, Array<{ command: string }>>;
  };
}

const manifest = JSON.parse(
  readFileSync(join(__dirname, '..', '..', '..', 'package.json'), 'utf8'),
) as Manifest;

describe('package.json manifest', () => {
  it('accepts VS Code 1.139 (the version inside code-server)', () => {
    const m = /^\^1\.(\d+)\.0$/.exec(manifest.engines.vscode);
    expect(m).not.toBeNull();
    expect(Number(m![1])).toBeLessThanOrEqual(139);
  });

  it('declares exactly the settings the schema validates, with the same defaults and a description', () => {
    const declared = manifest.contributes.configuration.properties;
    expect(Object.keys(declared).sort()).toEqual(
      Object.keys(SETTINGS)
        .map((k) => `quotaPilot.${k}`)
        .sort(),
    );
    for (const [key, spec] of Object.entries(SETTINGS)) {
      expect(declared[`quotaPilot.${key}`]!.default, key).toEqual(spec.default);
      expect(declared[`quotaPilot.${key}`]!.markdownDescription, key).toBeTruthy();
    }
  });

  it('documents every setting in the README settings table', () => {
    const readme = readFileSync(join(__dirname, '..', '..', '..', 'README.md'), 'utf8');
    const missing = Object.keys(manifest.contributes.configuration.properties).filter(
      // Table cells are padded by the formatter: match the key cell, then any spaces.
      (k) => !readme.split('\n').some((line) => line.startsWith(`| \`${k}\` `)),
    );
    expect(missing).toEqual([]);
  });

  it('gives every command the "Quota Pilot" category, and declares every command a menu or link uses', () => {
    const ids = new Set(manifest.contributes.commands.map((c) => c.command));
    expect(manifest.contributes.commands.every((c) => c.category === 'Quota Pilot')).toBe(true);
    const used = [
      ...Object.values(manifest.contributes.menus).flatMap((items) => items.map((i) => i.command)),
      ...TOOLTIP_COMMANDS,
      'quotaPilot.openVerification',
      'quotaPilot.signInAgain',
      'quotaPilot.enableAccount',
    ];
    expect(used.filter((c) => !ids.has(c))).toEqual([]);
  });
});
