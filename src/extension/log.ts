/**
 * The extension's log: a LogOutputChannel with levels, every line passed through the proxy's
 * redaction (tokens, keys, Authorization headers) plus the secrets this window knows about.
 */
import * as vscode from 'vscode';
import { redact } from '../proxy/redact';

export type LogLevelName = 'error' | 'warn' | 'info' | 'debug' | 'trace';
const ORDER: Readonly<Record<LogLevelName, number>> = { error: 0, warn: 1, info: 2, debug: 3, trace: 4 };

export class Log implements vscode.Disposable {
  readonly channel: vscode.LogOutputChannel;
  private level: LogLevelName = 'info';
  private readonly secrets = new Set<string>();

  constructor(name = 'Quota Pilot') {
    this.channel = vscode.window.createOutputChannel(name, { log: true });
  }

  setLevel(level: LogLevelName): void {
    this.level = level;
  }

  /** Masks this value wherever it appears in later lines (e.g. the local proxy key). */
  addSecret(value: string | undefined): void {
    if (value && value.length >= 8) this.secrets.add(value);
  }

  error(message: string, err?: unknown): void {
    if (this.enabled('error'))
      this.channel.error(this.clean(err === undefined ? message : `${message}: ${describe(err)}`));
  }
  warn(message: string): void {
    if (this.enabled('warn')) this.channel.warn(this.clean(message));
  }
  info(message: string): void {
    if (this.enabled('info')) this.channel.info(this.clean(message));
  }
  debug(message: string): void {
    if (this.enabled('debug')) this.channel.debug(this.clean(message));
  }
  trace(message: string): void {
    if (this.enabled('trace')) this.channel.trace(this.clean(message));
  }

  show(): void {
    this.channel.show(true);
  }

  dispose(): void {
    this.channel.dispose();
  }

  private enabled(level: LogLevelName): boolean {
    return ORDER[level] <= ORDER[this.level];
  }

  private clean(text: string): string {
    return redact(text, [...this.secrets]);
  }
}

export function describe(err: unknown): string {
  if (err instanceof Error) return err.message;
  return typeof err === 'string' ? err : JSON.stringify(err);
}
