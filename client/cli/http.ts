// The command line's HTTP transport: one connection for the whole run (over Tor, one stream: every new one
// costs a round trip more), kept alive, with requests pipelined on it (HTTP/1.1), optionally through Tor's
// SOCKS proxy. The proxy resolves host names itself (SOCKS5 remote DNS): a .onion name is never looked up
// locally, and no DNS query leaks.
import type { Socket } from 'node:net';
import { Client, buildConnector } from 'undici';
import { SocksClient } from 'socks';
import type { WireAnswer, WireRequest, Transport } from '../shared/api.js';
import { NetworkError } from '../shared/errors.js';
import { CliError } from './errors.js';

export { NetworkError };

export interface Proxy {
  host: string;
  port: number;
  /** SOCKS credentials that only serve to give this run its own Tor circuit (IsolateSOCKSAuth). */
  isolation?: string;
}

export function parseProxy(value: string | undefined): Proxy | undefined {
  if (!value) return undefined;
  const m = /^(?:socks5h?:\/\/)?\[?([^\]]+?)\]?:(\d{1,5})\/?$/.exec(value.trim());
  if (!m) throw new CliError(`cannot read the SOCKS proxy "${value}": expected HOST:PORT, e.g. 127.0.0.1:9050`, 2);
  return { host: m[1]!, port: Number(m[2]) };
}

/** Requests in flight on the connection at most (HTTP/1.1 pipelining); callers keep their own, smaller windows. */
const PIPELINING = 32;
const CONNECT_TIMEOUT_MS = 60_000;
const DEFAULT_TIMEOUT_MS = 120_000;
/** A whole exchange read into memory, at most (as the page's): undici's timeouts are idle timers, which a server
 * sending one byte at a time never trips. */
const ANSWER_DEADLINE_MS = 10 * 60_000;
/** 16 KiB a minute: far below what the slowest Tor circuit carries, far above a trickle. */
const MIN_DOWNLOAD_RATE = { minBytes: 16 * 1024, windowMs: 60_000 };

/** A streamed answer (a tip's envelope): the caller consumes or destroys `body`. */
export interface StreamedAnswer {
  status: number;
  body: AsyncIterable<Uint8Array> & { destroy(err?: Error): unknown };
}

export class Connection implements Transport {
  private readonly client: Client;

  constructor(
    readonly base: URL,
    readonly proxy: Proxy | undefined,
  ) {
    const isHttps = base.protocol === 'https:';
    if (!isHttps && base.protocol !== 'http:') throw new CliError(`unsupported URL scheme ${base.protocol} (use http:// or https://)`, 2);
    // Looking up an onion name in DNS tells the resolver, and whoever watches it, that this machine is
    // contacting the tip line; without a proxy it cannot work anyway.
    // A trailing dot ("….onion.", also spelt "%2e") names the same host and must not dodge the check.
    const host = base.hostname.replace(/\.+$/, '');
    if (!proxy && (host === 'onion' || host.endsWith('.onion'))) throw new CliError('an .onion address needs Tor: add --socks 127.0.0.1:9050 (tor) or 127.0.0.1:9150 (Tor Browser)', 2);
    if (proxy && isHttps) throw new CliError('https through --socks is not supported: onion services are reached over http', 2);
    this.client = new Client(base.origin, {
      pipelining: PIPELINING,
      // Idle between steps (decrypting, writing files) without losing the connection; the server closes it
      // sooner if it wants (its Keep-Alive hint wins).
      keepAliveTimeout: 60_000,
      keepAliveMaxTimeout: 10 * 60_000,
      headersTimeout: DEFAULT_TIMEOUT_MS,
      bodyTimeout: DEFAULT_TIMEOUT_MS,
      // With a proxy, this connector is the only way out: there is no direct path to fall back on if the proxy
      // is gone (test/submit_socks.test.ts kills it and expects the command to fail).
      connect: proxy ? socksConnector(proxy) : buildConnector({ timeout: CONNECT_TIMEOUT_MS }),
    });
  }

  private async dispatch(req: WireRequest, timeoutMs: number, signal?: AbortSignal) {
    try {
      return await this.client.request({
        method: req.method,
        path: req.path,
        headers: { ...req.headers },
        body: req.body ? Buffer.from(req.body.buffer, req.body.byteOffset, req.body.byteLength) : null,
        // Only requests that are safe to send again are pipelined behind others (undici's rule); `blocking:
        // false` lets the next request go out before this one's answer has started.
        idempotent: req.idempotent ?? (req.method === 'GET' || req.method === 'PUT'),
        blocking: false,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
        ...(signal ? { signal } : {}),
      });
    } catch (err) {
      throw networkError(err);
    }
  }

  /** One request, its whole answer read into memory (at most `limit` bytes). */
  async send(req: WireRequest, limit: number, timeoutMs = DEFAULT_TIMEOUT_MS, deadlineMs = ANSWER_DEADLINE_MS): Promise<WireAnswer> {
    const res = await this.dispatch(req, timeoutMs, AbortSignal.timeout(deadlineMs));
    const declared = Number(res.headers['content-length']);
    if (Number.isSafeInteger(declared) && declared > limit) {
      res.body.destroy();
      throw new CliError('server response is unexpectedly large');
    }
    const parts: Buffer[] = [];
    let size = 0;
    try {
      for await (const part of res.body as AsyncIterable<Buffer>) {
        size += part.length;
        if (size > limit) {
          res.body.destroy();
          throw new CliError('server response is unexpectedly large');
        }
        parts.push(part);
      }
    } catch (err) {
      throw networkError(err);
    }
    return { status: res.statusCode, body: new Uint8Array(Buffer.concat(parts)), retryAfter: String(res.headers['retry-after'] ?? '') || undefined };
  }

  /** One request whose answer is streamed to the caller (downloads of any size). A download of any size has no
   * whole-exchange deadline, so it has a floor on its rate instead: `rate.minBytes` in every `rate.windowMs`
   * while it is being read, or it fails (a server trickling bytes must not hold a desk's run, and its Tor
   * circuit, for days). */
  async stream(req: WireRequest, timeoutMs = DEFAULT_TIMEOUT_MS, rate: { minBytes: number; windowMs: number } = MIN_DOWNLOAD_RATE): Promise<StreamedAnswer> {
    const res = await this.dispatch(req, timeoutMs);
    const body = res.body;
    async function* chunks(): AsyncIterable<Uint8Array> {
      let inWindow = 0;
      let tooSlow = false;
      const watchdog = setInterval(() => {
        if (inWindow < rate.minBytes) {
          tooSlow = true;
          body.destroy(new NetworkError(`download too slow (under ${rate.minBytes} bytes in ${rate.windowMs / 1000} s)`));
        }
        inWindow = 0;
      }, rate.windowMs);
      try {
        for await (const part of body as AsyncIterable<Buffer>) {
          inWindow += part.length;
          yield new Uint8Array(part.buffer, part.byteOffset, part.length);
        }
      } catch (err) {
        throw tooSlow ? new NetworkError(`download too slow (under ${rate.minBytes} bytes in ${rate.windowMs / 1000} s)`) : networkError(err);
      } finally {
        clearInterval(watchdog);
      }
    }
    const it = chunks();
    return { status: res.statusCode, body: Object.assign(it, { destroy: (err?: Error) => body.destroy(err) }) };
  }

  /** Closes the connection once the requests in flight are answered. */
  async close(): Promise<void> {
    await this.client.close().catch(() => {});
  }
}

function networkError(err: unknown): Error {
  if (err instanceof NetworkError || err instanceof CliError) return err;
  const e = err as { code?: string; message?: string; cause?: unknown };
  if (e.cause instanceof NetworkError) return e.cause;
  // undici's own codes say what happened (UND_ERR_SOCKET: the other side closed; …_TIMEOUT: no answer).
  if ((err as Error)?.name === 'TimeoutError' || e.code === 'UND_ERR_HEADERS_TIMEOUT' || e.code === 'UND_ERR_BODY_TIMEOUT' || e.code === 'UND_ERR_CONNECT_TIMEOUT') return new NetworkError('request timed out');
  return new NetworkError(e.code && !e.code.startsWith('UND_ERR') ? e.code : (e.message ?? String(err)));
}

/** The connector that reaches `proxy` only (no direct path): also used by verify-site, which needs whole answers with their headers. */
export function socksConnector(proxy: Proxy): buildConnector.connector {
  return (opts, done) => {
    SocksClient.createConnection({
      proxy: { host: proxy.host, port: proxy.port, type: 5, ...(proxy.isolation ? { userId: 'tipline', password: proxy.isolation } : {}) },
      command: 'connect',
      destination: { host: opts.hostname.replace(/^\[|\]$/g, ''), port: Number(opts.port || 80) },
      timeout: CONNECT_TIMEOUT_MS,
    }).then(
      ({ socket }) => {
        socket.setNoDelay(true);
        done(null, socket as Socket);
      },
      (err: Error) => done(new NetworkError(`SOCKS proxy ${proxy.host}:${proxy.port}: ${err.message}`), null),
    );
  };
}
