/** Where Quota Pilot keeps its files outside VS Code (the CLI's `status` and `serve`). */
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

export const DEFAULT_DATA_DIR_NAME = '.quota-pilot';
export const LEDGER_FILE_NAME = 'ledger.json';

/**
 * The data folder: the `--data-dir` option when given, else `QUOTA_PILOT_DATA_DIR`, else
 * `~/.quota-pilot`. A leading `~` is expanded; the result is absolute.
 */
export function resolveDataDir(option?: string, env: NodeJS.ProcessEnv = process.env): string {
  const chosen = option ?? env.QUOTA_PILOT_DATA_DIR ?? join(homedir(), DEFAULT_DATA_DIR_NAME);
  const expanded = chosen === '~' ? homedir() : chosen.replace(/^~(?=[/\\])/, homedir());
  return resolve(expanded);
}

/** The usage ledger's file in a data folder. */
export function ledgerFilePath(dataDir: string): string {
  return join(dataDir, LEDGER_FILE_NAME);
}
