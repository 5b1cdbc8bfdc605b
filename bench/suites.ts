/**
 * Every benchmark suite `npm run bench` runs, in order. Add yours by appending an import and an
 * entry; `npm run bench -- <name>…` runs only the named suites.
 */
import type { BenchSuite } from './harness';
import { engineSuite } from './engine';
import { ledgerSuite } from './ledger';
import { acquireSuite } from './acquire';
import { studySuite } from './study/suite';
import { overheadSuite } from './overhead/suite';
import { refreshSuite } from './refresh';
import { responsesSuite } from './responses';

export const SUITES: BenchSuite[] = [
  engineSuite,
  ledgerSuite,
  acquireSuite,
  studySuite,
  overheadSuite,
  refreshSuite,
  responsesSuite,
];
