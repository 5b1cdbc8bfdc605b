/**
 * A separate Node process for the ledger integration tests (bundled by the test, run with `node`):
 *   append <file> <account> <count>   records <count> requests, saving after each one
 *   load <file>                       opens the ledger and prints its problems
 *   steady <file> <account> <intervalMs> <journal|whole> [compactBytes]
 *                                     records one request every <intervalMs> until killed, and
 *                                     prints "<seq> <epoch ms>" after each one (the kill test)
 * Prints one JSON line: { problems: [...], requests?: number }.
 */
import { SystemClock } from '../../src/core/clock';
import { UsageLedger } from '../../src/core/ledger';
import { FileLedgerStore } from '../../src/store/ledgerFileStore';

/** Records at a steady rate until killed (at most 30 s), logging each record once it is made. */
async function steady(file: string, account: string, intervalMs: number, kind: string, compactBytes: number) {
  const ledger = await UsageLedger.open({
    clock: new SystemClock(),
    store: new FileLedgerStore(file, {
      timeoutMs: 20_000,
      journal: kind !== 'whole',
      ...(compactBytes > 0 ? { compactBytes } : {}),
    }),
  });
  let seq = 0;
  const timer = setInterval(() => {
    ledger.record({ account, model: 'claude-sonnet-4-6', inputTokens: 1 });
    // Pipes are written synchronously on Linux: a line printed here was recorded before it.
    process.stdout.write(`${++seq} ${Date.now()}\n`);
  }, intervalMs);
  setTimeout(() => {
    clearInterval(timer);
    void ledger.dispose();
  }, 30_000).unref();
}

async function main(): Promise<void> {
  const [mode, file, account, count] = process.argv.slice(2);
  if (mode === 'steady' && file && account) {
    const [, , , , kind, compactBytes] = process.argv.slice(2);
    await steady(file, account, Number(count), kind ?? 'journal', Number(compactBytes ?? 0));
    return;
  }
  if (!file) throw new Error('usage: ledger-child append|load <file> [account count]');
  const ledger = await UsageLedger.open({
    clock: new SystemClock(),
    store: new FileLedgerStore(file, { timeoutMs: 20_000 }),
    config: { saveDelayMs: 0 },
  });
  if (mode === 'append' && account) {
    for (let i = 0; i < Number(count); i++) {
      // Half on a model both processes use (same counters), half on this process's own model.
      ledger.record({ account: 'shared', model: 'claude-sonnet-4-6', inputTokens: 1 });
      ledger.record({ account, model: 'gemini-3-flash', outputTokens: 2 });
      await ledger.flush();
    }
  }
  await ledger.dispose();
  process.stdout.write(`${JSON.stringify({ problems: ledger.problems })}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exitCode = 1;
});
