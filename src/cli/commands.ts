import type { CliCommand } from './command';
import { simulateCommand } from './simulate';
import { statusCommand } from './status';

/** Every CLI command, in the order `help` lists them. */
export const COMMANDS: readonly CliCommand[] = [simulateCommand, statusCommand];
