import type { CliCommand } from './command';
import { serveCommand } from './serve';
import { simulateCommand } from './simulate';
import { statusCommand } from './status';

/** Every CLI command, in the order `help` lists them. */
export const COMMANDS: readonly CliCommand[] = [serveCommand, simulateCommand, statusCommand];
