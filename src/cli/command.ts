/** One CLI subcommand. Options use node:util parseArgs's shape. */
export interface CliCommand {
  name: string;
  summary: string;
  help: string;
  options: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: false }>;
  /** Resolves to the exit code; long-running commands resolve when stopped (SIGINT / SIGTERM). */
  run(values: Record<string, string | boolean | undefined>): Promise<number>;
}
