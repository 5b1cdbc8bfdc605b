// Entry point VS Code loads as `extensionTestsPath` (bundled to dist/test/suite.js by esbuild.mjs).
// A minimal runner: runs every case of ./cases.ts in order against the real `vscode` API, logs one
// line per case, writes the results as JSON to $QP_E2E_RESULTS when set (the e2e runner reads it),
// and rejects when any case failed, which makes VS Code report a non-zero exit code.
import { writeFileSync } from 'node:fs';
import * as vscode from 'vscode';
import { cases } from './cases';

export interface CaseResult {
  name: string;
  ok: boolean;
  ms: number;
  error?: string;
}

const CASE_TIMEOUT_MS = 30_000;

function withTimeout<T>(promise: Promise<T>, ms: number, name: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`"${name}" did not finish within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export async function run(): Promise<void> {
  const results: CaseResult[] = [];
  for (const [name, fn] of Object.entries(cases)) {
    const start = performance.now();
    try {
      await withTimeout(fn({ vscode }), CASE_TIMEOUT_MS, name);
      results.push({ name, ok: true, ms: Math.round(performance.now() - start) });
      console.log(`[extension-host] PASS ${name}`);
    } catch (err) {
      const error = err instanceof Error ? (err.stack ?? err.message) : String(err);
      results.push({ name, ok: false, ms: Math.round(performance.now() - start), error });
      console.error(`[extension-host] FAIL ${name}\n${error}`);
    }
  }
  const failed = results.filter((r) => !r.ok).length;
  console.log(`[extension-host] ${results.length - failed} passed, ${failed} failed`);
  const out = process.env['QP_E2E_RESULTS'];
  if (out) writeFileSync(out, JSON.stringify({ results }, null, 2));
  if (failed > 0) throw new Error(`${failed} extension-host test(s) failed`);
}
