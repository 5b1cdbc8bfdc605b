/**
 * Headless entry point: `node dist/cli.js <command> [options]`. Runs the same engine, simulator and
 * proxy as the extension, outside VS Code. Each command lives in its own module under src/cli/.
 */
import { parseArgs } from 'node:util';
import type { CliCommand } from './cli/command';
import { COMMANDS } from './cli/commands';

const VERSION = '0.1.0';

function usage(commands: readonly CliCommand[]): string {
  const width = Math.max(...commands.map((c) => c.name.length), 8);
  return [
    'Usage: quota-pilot <command> [options]',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    `  ${'help'.padEnd(width)}  Show this help, or a command's options: quota-pilot help <command>`,
    '',
    'Options for every command: --help',
  ].join('\n');
}

export async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    const target = name === 'help' ? COMMANDS.find((c) => c.name === rest[0]) : undefined;
    process.stdout.write(`${target ? target.help : usage(COMMANDS)}\n`);
    return 0;
  }
  if (name === '--version' || name === 'version') {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    process.stderr.write(`quota-pilot: unknown command "${name}".\n\n${usage(COMMANDS)}\n`);
    return 2;
  }
  let parsed;
  try {
    parsed = parseArgs({
      args: [...rest],
      options: { ...command.options, help: { type: 'boolean' } },
      strict: true,
    });
  } catch (err) {
    process.stderr.write(`quota-pilot ${name}: ${(err as Error).message}\n\n${command.help}\n`);
    return 2;
  }
  if (parsed.values.help) {
    process.stdout.write(`${command.help}\n`);
    return 0;
  }
  return command.run(parsed.values as Record<string, string | boolean | undefined>);
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      // Long-running commands (serve, simulate) resolve only when they are stopped.
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`quota-pilot: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
