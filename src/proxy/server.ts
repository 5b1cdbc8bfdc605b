/**
 * The local proxy's HTTP server: node:http on 127.0.0.1 only, guards on every request, the route
 * table, one log line per request, metrics, and a graceful stop that aborts in-flight calls and closes
 * keep-alive sockets.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { SystemClock, type Clock, type TimerHandle } from '../core/clock';
import { ConfigError } from '../core/errors';
import { ModelMapper, type ModelResolution } from '../core/modelMapping';
import type { CallReporter, ProxyBackend } from './backend';
import {
  describeError,
  errorBodyFor,
  errorEventsFor,
  HttpError,
  retryAfterSeconds,
  type ErrorFormat,
} from './clientErrors';
import {
  checkHost,
  checkJsonBodyHeaders,
  checkOrigin,
  checkSingleHost,
  corsHeaders,
  KeyChecker,
  parseJson,
  preflightHeaders,
  presentedKey,
  readBody,
} from './guards';
import { ProxyMetrics } from './metrics';
import { quotaAnswer } from './quotaAnswer';
import { redact } from './redact';
import { formatOf } from './router';
import type { RequestLogFields, RouteContext } from './routes/context';
import { buildRouter } from './routes/index';
import { SseWriter } from './sse';
import type { Codecs } from './translate/codec';
import { formatSse, type QuotaErrorInfo } from './translate/common';

/** Where the proxy writes its lines (the extension passes its LogOutputChannel). */
export interface ProxyLogger {
  info(line: string): void;
  warn(line: string): void;
  error(line: string): void;
}

export interface ProxyServerOptions {
  backend: ProxyBackend;
  /** The local key clients must present; at least 16 characters. */
  key: string;
  /** Only 127.0.0.1 is accepted (the proxy never listens on a network interface). */
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** Request body cap in bytes (default 20 MiB). */
  maxBodyBytes?: number;
  /** How long a client may take to send its whole body, in milliseconds (default 30 s); 0 disables. */
  bodyTimeoutMs?: number;
  /** Open connections at most (default 1000); one more is answered 503 and closed. */
  maxConnections?: number;
  /** Per-request deadline in milliseconds (default 10 minutes); 0 disables. */
  requestTimeoutMs?: number;
  /** Idle time before an SSE keep-alive comment (default 15 s); 0 disables. */
  sseKeepAliveMs?: number;
  /** How long `stop` waits for in-flight requests to wind down before cutting sockets (default 3 s). */
  stopGraceMs?: number;
  /** Translators, one per client format (routes of a missing format answer 501). */
  codecs: Codecs;
  /** Client model names → upstream ids (default: resolution against the built-in catalog). */
  modelMapper?: ModelNameResolver;
  clock?: Clock;
  logger?: ProxyLogger;
  /** Reported by /healthz. */
  version?: string;
}

/** Resolves client model names; `aliases` lists the client names that resolve, for the model lists. */
export interface ModelNameResolver {
  resolve(name: string): ModelResolution;
  aliases?(): Array<{ alias: string; model: string }>;
}

export const DEFAULT_MAX_BODY_BYTES = 20 * 1024 * 1024;
export const DEFAULT_BODY_TIMEOUT_MS = 30_000;
export const DEFAULT_MAX_CONNECTIONS = 1000;
export const DEFAULT_REQUEST_TIMEOUT_MS = 10 * 60_000;
export const DEFAULT_SSE_KEEPALIVE_MS = 15_000;

const SILENT: ProxyLogger = { info: () => {}, warn: () => {}, error: () => {} };

interface InFlight {
  controller: AbortController;
  done: Promise<void>;
}

export class ProxyServer {
  readonly metrics: ProxyMetrics;
  private readonly server: Server;
  private readonly keys: KeyChecker;
  private readonly clock: Clock;
  private readonly logger: ProxyLogger;
  private readonly router;
  private readonly mapper: ModelNameResolver;
  private readonly inFlight = new Set<InFlight>();
  private readonly sockets = new Set<Socket>();
  private boundPort = 0;
  private stopping: Promise<void> | undefined;
  private secrets: string[];

  private constructor(private readonly options: ProxyServerOptions) {
    this.keys = new KeyChecker(options.key);
    this.secrets = [options.key];
    this.clock = options.clock ?? new SystemClock();
    this.logger = options.logger ?? SILENT;
    this.router = buildRouter(options.codecs);
    this.mapper = options.modelMapper ?? new ModelMapper();
    this.metrics = new ProxyMetrics(() => options.backend.quotaGauges?.() ?? []);
    this.server = createServer({ keepAlive: true, noDelay: true }, (req, res) => {
      void this.handle(req, res);
    });
    // Keep connections from local clients warm; headersTimeout must exceed keepAliveTimeout.
    this.server.keepAliveTimeout = 30_000;
    this.server.headersTimeout = 35_000;
    // Deadlines are ours (per request, configurable); node's own request timeout would cut long uploads.
    this.server.requestTimeout = 0;
    const maxConnections = options.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
    this.server.on('connection', (socket: Socket) => {
      if (this.sockets.size >= maxConnections) {
        refuseConnection(socket, maxConnections);
        return;
      }
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
  }

  /** Starts listening; rejects with a ConfigError saying what to do when the address is refused or taken. */
  static async start(options: ProxyServerOptions): Promise<ProxyServer> {
    const host = options.host ?? '127.0.0.1';
    if (host !== '127.0.0.1') {
      throw new ConfigError(
        `The proxy only listens on 127.0.0.1, not "${host}": exposing it on a network interface would let other machines use your accounts.`,
        'quotaPilot.proxy.host',
      );
    }
    const port = options.port ?? 0;
    if (!Number.isInteger(port) || port < 0 || port > 65_535) {
      throw new ConfigError(
        `Port ${port} is not valid; set quotaPilot.proxy.port to 0 (any free port) or 1024–65535.`,
        'quotaPilot.proxy.port',
      );
    }
    const proxy = new ProxyServer(options);
    await new Promise<void>((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException): void => {
        proxy.server.off('listening', onListening);
        if (err.code === 'EADDRINUSE') {
          reject(
            new ConfigError(
              `port ${port} is taken; set quotaPilot.proxy.port or stop the other process`,
              'quotaPilot.proxy.port',
            ),
          );
        } else if (err.code === 'EACCES') {
          reject(
            new ConfigError(
              `port ${port} needs privileges; set quotaPilot.proxy.port to 1024–65535 or 0 (any free port)`,
              'quotaPilot.proxy.port',
            ),
          );
        } else reject(err);
      };
      const onListening = (): void => {
        proxy.server.off('error', onError);
        resolve();
      };
      proxy.server.once('error', onError);
      proxy.server.once('listening', onListening);
      proxy.server.listen({ host, port, exclusive: true });
    });
    proxy.boundPort = (proxy.server.address() as AddressInfo).port;
    proxy.server.on('error', (err) =>
      proxy.logger.error(`proxy server error: ${redact(String(err), proxy.secrets)}`),
    );
    return proxy;
  }

  get port(): number {
    return this.boundPort;
  }

  /** The base URL clients use. */
  get url(): string {
    return `http://127.0.0.1:${this.boundPort}`;
  }

  /** Number of requests being handled now. */
  get activeRequests(): number {
    return this.inFlight.size;
  }

  /** Replaces the local key; requests after this need the new one. */
  setKey(key: string): void {
    this.keys.setKey(key);
    this.secrets = [key, ...this.secrets].slice(0, 4);
  }

  /**
   * Stops accepting connections, aborts in-flight calls (so the backend releases their reservations),
   * waits up to `stopGraceMs` for them to finish their answers, then closes every socket.
   */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
      this.server.closeIdleConnections();
      const pending = [...this.inFlight];
      for (const f of pending) {
        f.controller.abort(new HttpError(503, 'Quota Pilot is stopping; retry in a moment.'));
      }
      if (pending.length > 0) {
        let timer: TimerHandle | undefined;
        await Promise.race([
          Promise.allSettled(pending.map((f) => f.done)),
          new Promise<void>((resolve) => {
            timer = this.clock.setTimeout(resolve, this.options.stopGraceMs ?? 3_000);
          }),
        ]);
        timer?.cancel();
      }
      this.server.closeAllConnections();
      for (const s of this.sockets) s.destroy();
      await closed;
    })();
    return this.stopping;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = this.clock.now();
    const controller = new AbortController();
    let finish!: () => void;
    const flight: InFlight = { controller, done: new Promise<void>((r) => (finish = r)) };
    this.inFlight.add(flight);
    const log: RequestLogFields = { attempts: 0 };
    let routeName = 'unmatched';
    let firstByteAt: number | undefined;
    let writer: SseWriter | undefined;
    let deadline: TimerHandle | undefined;
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const found = this.router.find(req.method ?? 'GET', url.pathname);
    const format: ErrorFormat = formatOf(found, url, req.headers);
    const origin = typeof req.headers.origin === 'string' ? req.headers.origin : undefined;
    const cors = corsHeaders(origin);

    res.on('close', () => {
      if (!res.writableFinished && !controller.signal.aborted) {
        controller.abort(new HttpError(499, 'The client closed the connection.'));
      }
    });

    const sendJson = (status: number, body: unknown, headers: Record<string, string> = {}): void => {
      if (res.headersSent || res.writableEnded || res.destroyed) return;
      const text = JSON.stringify(body);
      res.writeHead(status, {
        'content-type': 'application/json; charset=utf-8',
        'content-length': Buffer.byteLength(text),
        'cache-control': 'no-store',
        ...cors,
        ...headers,
      });
      firstByteAt ??= this.clock.now();
      res.end(text);
    };

    const sendError = (err: unknown): void => {
      const described = describeError(err);
      const { retryAfterMs, param } = described;
      let { status, message } = described;
      let quota: QuotaErrorInfo | undefined;
      const headers: Record<string, string> = { ...(err instanceof HttpError ? err.headers : {}) };
      if (described.quota) {
        // Quota and rate limits: a precise Retry-After when the wait is short, a stop when it is long.
        const answer = quotaAnswer({
          format,
          message,
          retryAfterMs,
          ...described.quota,
          now: this.clock.now(),
        });
        ({ status, message, quota } = answer);
        Object.assign(headers, answer.headers);
      } else if (retryAfterMs !== undefined) {
        headers['retry-after'] = retryAfterSeconds(retryAfterMs);
        headers['retry-after-ms'] = String(Math.max(0, Math.round(retryAfterMs)));
      }
      if (status >= 500 && !(err instanceof HttpError)) {
        this.logger.error(`${req.method} ${routeName} failed: ${redact(errorText(err), this.secrets)}`);
      }
      if (!res.headersSent) {
        sendJson(
          status,
          errorBodyFor(this.options.codecs, format, {
            status,
            message,
            ...(param === undefined ? {} : { param }),
            ...(quota === undefined ? {} : { quota }),
          }),
          headers,
        );
      } else if (!res.writableEnded) {
        // Streaming already began: close it with an error event the client understands.
        const ev = errorEventsFor(this.options.codecs, format, { status, message })
          .map((e) => formatSse(e))
          .join('');
        if (writer) writer.end(ev);
        else res.end(ev);
      }
    };

    const reporter: CallReporter = {
      attempt: ({ accountLabel }) => {
        log.attempts += 1;
        log.accountLabel = accountLabel;
      },
      upstreamError: ({ origin: upstream, status }) => {
        this.metrics.upstreamErrors.inc({ origin: upstream, status: String(status) });
        if (status === 429) this.metrics.upstream429.inc({ origin: upstream });
      },
      failover: ({ reason }) => this.metrics.failovers.inc({ reason }),
    };

    try {
      checkSingleHost(req.rawHeaders);
      checkHost(req.headers.host, this.boundPort);
      checkOrigin(origin);
      if (req.method === 'OPTIONS') {
        routeName = 'preflight';
        const requested = req.headers['access-control-request-headers'];
        res.writeHead(
          204,
          preflightHeaders(origin ?? '', typeof requested === 'string' ? requested : undefined),
        );
        res.end();
        return;
      }
      if (url.pathname === '/healthz' && (req.method === 'GET' || req.method === 'HEAD')) {
        routeName = 'healthz';
        sendJson(200, { ok: true, version: this.options.version ?? '0.0.0', pid: process.pid });
        return;
      }
      if (url.pathname === '/' && (req.method === 'GET' || req.method === 'HEAD')) {
        // Clients probe the base URL without a key (Claude Code sends HEAD /): say what answers here.
        routeName = 'root';
        sendJson(200, { ok: true, service: 'Quota Pilot proxy' });
        return;
      }
      this.keys.check(presentedKey(req.headers, url));
      if (url.pathname === '/metrics' && req.method === 'GET') {
        routeName = 'metrics';
        const text = this.metrics.render();
        res.writeHead(200, {
          'content-type': 'text/plain; version=0.0.4; charset=utf-8',
          'content-length': Buffer.byteLength(text),
          ...cors,
        });
        firstByteAt = this.clock.now();
        res.end(text);
        return;
      }
      if (found.kind === 'not-found') {
        throw new HttpError(
          404,
          `No route ${req.method} ${url.pathname}. Quota Pilot serves /v1/chat/completions, /v1/responses, /v1/messages, /v1beta/models/{model}:generateContent and /quota-pilot/v1/….`,
        );
      }
      if (found.kind === 'method-not-allowed') {
        throw new HttpError(
          405,
          `${req.method} is not allowed on ${url.pathname}; use ${found.allow.join(' or ')}.`,
          undefined,
          {
            allow: found.allow.join(', '),
          },
        );
      }
      routeName = found.match.name;

      const timeoutMs = this.options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
      if (timeoutMs > 0) {
        deadline = this.clock.setTimeout(() => {
          const reason = new HttpError(
            504,
            `The request took longer than the proxy's deadline of ${Math.round(timeoutMs / 1000)} s and was stopped; raise quotaPilot.proxy.requestTimeoutSeconds or ask for less output.`,
          );
          controller.abort(reason);
          // Answer now even if the backend ignores the signal; a stream gets its error event.
          if (!res.headersSent) sendError(reason);
        }, timeoutMs);
      }

      let bodyRead: Promise<unknown> | undefined;
      const ctx: RouteContext = {
        req,
        res,
        url,
        params: found.match.params,
        format,
        signal: controller.signal,
        backend: this.options.backend,
        reporter,
        clock: this.clock,
        log,
        json: () => (bodyRead ??= this.readJson(req, controller.signal)),
        sendJson,
        sse: () =>
          (writer ??= new SseWriter(res, {
            clock: this.clock,
            keepAliveMs: this.options.sseKeepAliveMs ?? DEFAULT_SSE_KEEPALIVE_MS,
            headers: cors,
          })),
        mapModel: (name) => {
          const r = this.mapper.resolve(name);
          if (!r.ok) {
            this.metrics.unknownModels.inc({});
            throw new HttpError(404, r.message);
          }
          return r.model;
        },
        modelAliases: () => this.mapper.aliases?.() ?? [],
        markFirstByte: () => {
          firstByteAt ??= this.clock.now();
        },
      };
      await found.match.handler(ctx);
    } catch (err) {
      sendError(controller.signal.aborted ? controller.signal.reason : err);
      if (err instanceof HttpError && (err.status === 413 || err.status === 415 || err.status === 408)) {
        // The rest of the body is not read; do not keep the connection.
        res.shouldKeepAlive = false;
        // A stalled body would keep the socket open after the answer: close it once the answer is out.
        if (err.status === 408) res.once('finish', () => req.socket.destroy());
      }
    } finally {
      deadline?.cancel();
      if (!res.writableEnded && !res.destroyed) res.end();
      const ended = this.clock.now();
      const status = controller.signal.aborted && !res.writableFinished ? 499 : res.statusCode;
      this.metrics.requests.inc({ route: routeName, status: String(status) });
      this.metrics.latency.observe({ route: routeName }, (ended - started) / 1000);
      if (firstByteAt !== undefined)
        this.metrics.ttfb.observe({ route: routeName }, (firstByteAt - started) / 1000);
      this.logLine(req.method ?? '?', routeName, url.pathname, status, ended - started, log);
      this.inFlight.delete(flight);
      finish();
    }
  }

  /**
   * Reads and parses a JSON body: body headers checked first (415), size-capped (413), and within the
   * body deadline (408) so a client that stalls its body does not hold the socket until the request
   * deadline.
   */
  private async readJson(req: IncomingMessage, signal: AbortSignal): Promise<unknown> {
    checkJsonBodyHeaders(req.headers);
    const bodyMs = this.options.bodyTimeoutMs ?? DEFAULT_BODY_TIMEOUT_MS;
    const reading = new AbortController();
    const onAbort = (): void => reading.abort(signal.reason);
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    const timer =
      bodyMs > 0
        ? this.clock.setTimeout(() => {
            reading.abort(
              new HttpError(
                408,
                `The request body did not arrive within ${Math.round(bodyMs / 1000)} s; send the whole body at once.`,
              ),
            );
          }, bodyMs)
        : undefined;
    try {
      const body = await readBody(req, this.options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES, reading.signal);
      return parseJson(body);
    } finally {
      timer?.cancel();
      signal.removeEventListener('abort', onAbort);
    }
  }

  private logLine(
    method: string,
    route: string,
    path: string,
    status: number,
    ms: number,
    log: RequestLogFields,
  ): void {
    const parts = [
      method,
      route === 'unmatched' ? path.slice(0, 120) : route,
      `status=${status}`,
      `${ms}ms`,
      ...(log.model ? [`model=${log.model}`] : []),
      ...(log.accountLabel ? [`account=${log.accountLabel}`] : []),
      ...(log.attempts > 0 ? [`attempts=${log.attempts}`] : []),
      ...(log.stream ? ['stream'] : []),
      ...(log.error ? [`error=${log.error}`] : []),
    ];
    const line = redact(parts.join(' '), this.secrets);
    if (status >= 500) this.logger.warn(line);
    else this.logger.info(line);
  }
}

/** Answers a connection over the cap with a 503 (before any request is read) and closes it. */
function refuseConnection(socket: Socket, max: number): void {
  const body = JSON.stringify({
    error: {
      code: 503,
      message: `Quota Pilot has ${max} connections open, its limit; close idle connections or retry in a moment.`,
      status: 'UNAVAILABLE',
    },
  });
  socket.on('error', () => socket.destroy());
  socket.end(
    'HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json; charset=utf-8\r\n' +
      `retry-after: 1\r\nconnection: close\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

function errorText(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause instanceof Error ? ` (cause: ${err.cause.name}: ${err.cause.message})` : '';
  return `${err.name}: ${err.message}${cause}`;
}
