// Bundles the three entry points: the extension host (CommonJS, `vscode` external), the dashboard's
// browser code (IIFE), and the headless CLI / benchmarks (CommonJS for Node).
import * as esbuild from 'esbuild';
import { existsSync } from 'node:fs';

const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');

/** @type {import('esbuild').BuildOptions} */
const common = {
  bundle: true,
  sourcemap: production ? false : 'linked',
  minify: production,
  logLevel: 'info',
  legalComments: 'none',
};

/** @type {import('esbuild').BuildOptions[]} */
const builds = [
  {
    ...common,
    entryPoints: { extension: 'src/extension/extension.ts' },
    outdir: 'dist',
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    external: ['vscode'],
  },
  {
    ...common,
    entryPoints: { webview: 'src/webview/main.ts' },
    outdir: 'dist',
    platform: 'browser',
    target: 'es2022',
    format: 'iife',
    loader: { '.css': 'text' },
  },
  {
    ...common,
    entryPoints: { cli: 'src/cli.ts' },
    outdir: 'dist',
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    banner: { js: '#!/usr/bin/env node' },
  },
];

// Development-only bundles: benchmarks and the tests that run inside a real VS Code.
if (!production) {
  if (existsSync('bench/index.ts')) {
    builds.push({
      ...common,
      entryPoints: { bench: 'bench/index.ts' },
      outdir: 'dist',
      platform: 'node',
      target: 'node20',
      format: 'cjs',
    });
  }
  if (existsSync('test/vscode/suite.ts')) {
    builds.push({
      ...common,
      entryPoints: { 'test/suite': 'test/vscode/suite.ts' },
      outdir: 'dist',
      platform: 'node',
      target: 'node20',
      format: 'cjs',
      external: ['vscode'],
    });
  }
}

if (watch) {
  const contexts = await Promise.all(builds.map((b) => esbuild.context(b)));
  await Promise.all(contexts.map((c) => c.watch()));
} else {
  await Promise.all(builds.map((b) => esbuild.build(b)));
}
