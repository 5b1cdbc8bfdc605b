/** `quota-pilot status`: today's usage per account and model, read from the usage ledger. */
import { promises as fs } from 'node:fs';
import { SystemClock } from '../core/clock';
import { ConfigError } from '../core/errors';
import { UsageLedger } from '../core/ledger/ledger';
import { formatSummaryTable } from '../core/ledger/summaryTable';
import { ledgerFilePath, resolveDataDir } from '../store/dataDir';
import { FileLedgerStore, journalPathFor } from '../store/ledgerFileStore';
import type { CliCommand } from './command';

const HELP = `Usage: quota-pilot status [--data-dir DIR] [--json]

Prints today's usage per account and model from the usage ledger: requests, input / output /
thinking tokens, errors, the most binding limit (used %, left), the provider's remaining quota,
alerts fired and reservations outstanding. Days start at midnight in the time zone the ledger
was written with (the quotaPilot.ledger.timeZone setting of whoever records the usage).

Options:
  --data-dir DIR  Folder holding ledger.json (default: $QUOTA_PILOT_DATA_DIR or ~/.quota-pilot)
  --json          Print the summary as JSON (the same data the dashboard and admin API use)`;

export const statusCommand: CliCommand = {
  name: 'status',
  summary: "Print today's usage per account and model from the usage ledger",
  help: HELP,
  options: {
    'data-dir': { type: 'string' },
    json: { type: 'boolean' },
  },
  async run(values) {
    const dataDir = resolveDataDir(typeof values['data-dir'] === 'string' ? values['data-dir'] : undefined);
    const file = ledgerFilePath(dataDir);
    const exists = async (path: string): Promise<unknown> =>
      fs.access(path).then(
        () => null,
        (err: unknown) => err,
      );
    // Until the first compaction, the usage may live in the journal alone.
    const absent = (await exists(file)) && (await exists(journalPathFor(file)));
    if (absent) {
      if ((absent as NodeJS.ErrnoException).code === 'ENOENT') {
        process.stdout.write(
          `No usage ledger yet in ${dataDir} (no ${file}).\n` +
            `It is created when Quota Pilot (the extension or \`quota-pilot serve --data-dir ${dataDir}\`) records its first request.\n`,
        );
        return 0;
      }
    }
    const store = new FileLedgerStore(file, { readOnly: true });
    const loaded = await store.load();
    let ledger: UsageLedger;
    try {
      ledger = await UsageLedger.open({
        clock: new SystemClock(),
        store,
        config: { timeZone: loaded.doc?.timeZone ?? 'UTC' },
      });
    } catch (err) {
      if (err instanceof ConfigError) {
        process.stderr.write(`quota-pilot status: ${err.message}\n`);
        return 1;
      }
      throw err;
    }
    for (const p of ledger.problems) process.stderr.write(`quota-pilot status: ${p.message}\n`);
    // A skipped journal line (a crash's torn write) is worth saying, not worth failing for.
    if (ledger.problems.some((p) => p.kind !== 'journal')) return 1;
    const summary = ledger.summary();
    process.stdout.write(
      values.json ? `${JSON.stringify(summary, null, 2)}\n` : `${formatSummaryTable(summary)}\n`,
    );
    return 0;
  },
};
