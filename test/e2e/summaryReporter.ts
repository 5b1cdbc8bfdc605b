// Prints the plain closing line of the e2e run, "N passed, M failed", after vitest's own summary.
// Tests that were skipped are not counted; a file that failed to load or run counts as one failure.
import type { Reporter, TestModule } from 'vitest/node';

export default class SummaryLineReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<unknown>): void {
    let passed = 0;
    let failed = unhandledErrors.length;
    for (const mod of testModules) {
      let failedInModule = 0;
      for (const test of mod.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed') passed++;
        else if (state === 'failed') failedInModule++;
      }
      // A beforeAll/collection error fails the file without failing a test: count it.
      if (failedInModule === 0 && mod.state() === 'failed') failedInModule = 1;
      failed += failedInModule;
    }
    // Nothing ran at all (setup failed, no files): that is a failure, not a clean run.
    if (passed === 0 && failed === 0) failed = 1;
    console.log(`${passed} passed, ${failed} failed`);
  }
}
