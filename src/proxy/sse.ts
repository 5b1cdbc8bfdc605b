/**
 * Server-sent events, written chunk by chunk with backpressure: `write` resolves only once the socket
 * took the frame (awaiting 'drain' when `res.write` returns false), so a slow reader pauses whoever
 * produces the frames instead of the proxy buffering the whole answer. Headers are flushed at
 * `open`, and an idle stream gets a keep-alive comment so that clients and middleboxes do not time out.
 */
import type { ServerResponse } from 'node:http';
import type { Clock, TimerHandle } from '../core/clock';

export interface SseOptions {
  clock: Clock;
  /** Idle time after which a `: keep-alive` comment is sent; 0 disables. */
  keepAliveMs: number;
  /** Extra headers (CORS). */
  headers?: Readonly<Record<string, string>>;
}

/** Thrown by `write` when the client went away; the caller should stop producing. */
export class ClientGoneError extends Error {
  constructor() {
    super('The client closed the connection.');
    this.name = 'ClientGoneError';
  }
}

export class SseWriter {
  private keepAlive: TimerHandle | undefined;
  private opened = false;
  private finished = false;
  private waiters: Array<() => void> = [];
  /** Bytes of frames written (not counting keep-alive comments). */
  bytes = 0;
  /** Epoch ms of the first frame written, if any. */
  firstFrameAt: number | undefined;

  constructor(
    private readonly res: ServerResponse,
    private readonly options: SseOptions,
  ) {
    const wake = (): void => {
      const waiters = this.waiters;
      this.waiters = [];
      for (const w of waiters) w();
    };
    res.on('drain', wake);
    res.on('close', () => {
      this.stopKeepAlive();
      wake();
    });
  }

  /** True once the client is gone or the stream ended. */
  get closed(): boolean {
    return this.finished || this.res.destroyed || this.res.writableEnded;
  }

  /** Sends the status line and headers at once (before the first event). */
  open(): void {
    if (this.opened) return;
    this.opened = true;
    this.res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
      ...this.options.headers,
    });
    this.res.flushHeaders();
    this.armKeepAlive();
  }

  /** Writes one frame (one or more complete SSE events); resolves when the socket can take more. */
  async write(frame: string): Promise<void> {
    if (!this.opened) this.open();
    if (this.closed) throw new ClientGoneError();
    this.firstFrameAt ??= this.options.clock.now();
    this.bytes += Buffer.byteLength(frame);
    const ok = this.res.write(frame);
    this.armKeepAlive();
    if (!ok) await this.drained();
    if (this.res.destroyed) throw new ClientGoneError();
  }

  /** Ends the stream (idempotent). */
  end(frame?: string): void {
    if (this.finished) return;
    this.finished = true;
    this.stopKeepAlive();
    if (this.res.destroyed || this.res.writableEnded) return;
    if (!this.opened) this.open();
    this.stopKeepAlive();
    if (frame) this.res.end(frame);
    else this.res.end();
  }

  private drained(): Promise<void> {
    if (this.res.destroyed || !this.res.writableNeedDrain) return Promise.resolve();
    return new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  private armKeepAlive(): void {
    this.stopKeepAlive();
    if (this.options.keepAliveMs <= 0 || this.closed) return;
    this.keepAlive = this.options.clock.setTimeout(() => {
      if (this.closed) return;
      // A comment line; every SSE parser ignores it. Skipped while the socket is backed up.
      if (!this.res.writableNeedDrain) this.res.write(': keep-alive\n\n');
      this.armKeepAlive();
    }, this.options.keepAliveMs);
  }

  private stopKeepAlive(): void {
    this.keepAlive?.cancel();
    this.keepAlive = undefined;
  }
}

/** One SSE event with an optional name; `data` is serialized as one JSON line. */
export function sseEvent(data: unknown, event?: string): string {
  return `${event ? `event: ${event}\n` : ''}data: ${JSON.stringify(data)}\n\n`;
}
