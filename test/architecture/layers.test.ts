/**
 * The layer rules of DESIGN.md, checked on every test run:
 * - only src/extension/ imports `vscode`;
 * - src/core/ imports none of Node's I/O modules and reads the time only through its Clock;
 * - imports point down the layer stack.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findLayerViolations } from './layerRules';

const root = join(__dirname, '..', '..');

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) out.push(...sourceFiles(full));
    else if (name.endsWith('.ts')) out.push(full);
  }
  return out;
}

describe('layer rules', () => {
  const files = sourceFiles(join(root, 'src')).map((f) => ({
    path: relative(root, f).split(sep).join('/'),
    text: readFileSync(f, 'utf8'),
  }));

  it('finds the sources', () => {
    expect(files.some((f) => f.path === 'src/core/clock.ts')).toBe(true);
  });

  it('holds for every file in src/', () => {
    expect(findLayerViolations(files)).toEqual([]);
  });
});

describe('the layer checker itself', () => {
  it('flags vscode outside src/extension', () => {
    const v = findLayerViolations([{ path: 'src/proxy/x.ts', text: "import * as vscode from 'vscode';" }]);
    expect(v).toHaveLength(1);
    expect(v[0]).toContain('vscode');
  });

  it('allows vscode inside src/extension', () => {
    expect(
      findLayerViolations([{ path: 'src/extension/x.ts', text: "import * as vscode from 'vscode';" }]),
    ).toEqual([]);
  });

  it.each([
    "import { readFile } from 'node:fs';",
    "import * as fs from 'fs/promises';",
    "import net from 'net';",
    "import { request } from 'node:http';",
    "import https from 'https';",
    "import { spawn } from 'node:child_process';",
    "const fs = require('fs');",
    "const m = await import('node:fs');",
  ])('flags Node I/O in core: %s', (text) => {
    expect(findLayerViolations([{ path: 'src/core/a.ts', text }])).toHaveLength(1);
  });

  it.each([
    'const t = Date.now();',
    'const d = new Date();',
    'performance.now()',
    'setTimeout(() => {}, 10);',
    'setInterval(f, 10)',
  ])('flags direct time in core: %s', (text) => {
    expect(findLayerViolations([{ path: 'src/core/a.ts', text }])).toHaveLength(1);
  });

  it('allows the clock itself and explicit dates in core', () => {
    expect(
      findLayerViolations([{ path: 'src/core/clock.ts', text: 'Date.now(); setTimeout(f, 1);' }]),
    ).toEqual([]);
    expect(
      findLayerViolations([
        { path: 'src/core/a.ts', text: 'new Date(clock.now()); this.clock.setTimeout(f, 1);' },
      ]),
    ).toEqual([]);
  });

  it('ignores comments', () => {
    expect(
      findLayerViolations([
        { path: 'src/core/a.ts', text: '// never call Date.now() here\n/* setTimeout( */' },
      ]),
    ).toEqual([]);
  });

  it('flags upward imports', () => {
    const v = findLayerViolations([{ path: 'src/core/a.ts', text: "import { x } from '../proxy/server';" }]);
    expect(v).toHaveLength(1);
    expect(v[0]).toContain('proxy');
  });
});
