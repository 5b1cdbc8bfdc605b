import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Reads a JSON fixture of test/fixtures/cloudcode/. */
export function fixture(name: string): unknown {
  return JSON.parse(readFileSync(join(__dirname, '../../fixtures/cloudcode', name), 'utf8')) as unknown;
}

export function fixtureText(name: string): string {
  return readFileSync(join(__dirname, '../../fixtures/cloudcode', name), 'utf8');
}
