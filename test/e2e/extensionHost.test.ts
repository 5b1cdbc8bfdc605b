// Runs test/vscode (bundled to dist/test/suite.js) inside a real VS Code extension host, with this
// repository as the development extension, and reports each case of test/vscode/cases.ts as a test.
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { cases } from '../vscode/cases';
import { useWorkbench, type ExtensionTestRun } from './harness';

const resultsSchema = z.object({
  results: z.array(
    z.object({ name: z.string(), ok: z.boolean(), ms: z.number(), error: z.string().optional() }),
  ),
});

describe('extension host', () => {
  const wb = useWorkbench({ name: 'extension-host', installVsix: false, extensionTests: true });
  let run: Promise<{ run: ExtensionTestRun; results: z.infer<typeof resultsSchema>['results'] }> | undefined;
  const finished = () =>
    (run ??= wb()
      .extensionTestRun()
      .then((r) => {
        const written = wb().extensionTestResults();
        if (written === undefined) {
          throw new Error(`the suite wrote no results (exit ${r.exitCode}). Its log:\n${r.log.join('\n')}`);
        }
        return { run: r, results: resultsSchema.parse(written).results };
      }));

  for (const name of Object.keys(cases)) {
    it(name, async () => {
      const { results } = await finished();
      const result = results.find((r) => r.name === name);
      expect(result, `no result for "${name}"`).toBeDefined();
      if (!result?.ok) throw new Error(result?.error ?? 'failed');
    });
  }

  it('the run exits 0 and ran every case', async () => {
    const { run: r, results } = await finished();
    expect(results.map((x) => x.name)).toEqual(Object.keys(cases));
    expect(r.exitCode, r.log.join('\n')).toBe(0);
  });
});
