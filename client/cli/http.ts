// A small HTTP client over node:http, so requests can go through Tor's SOCKS proxy. The proxy resolves host
// names itself (SOCKS5 remote DNS): a .onion name is never looked up locally, and no DNS query leaks.
import http from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import { SocksClient } from 'socks';
import { CliError } from './errors.js';
import { printable } from './printable.js';

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

class SocksAgent extends http.Agent {
  constructor(
    private readonly proxy: Proxy,
    private readonly timeoutMs: number,
  ) {
    super({ keepAlive: false });
  }

  override createConnection(opts: http.ClientRequestArgs, done?: (err: Error | null, stream: Duplex) => void): undefined {
    if (!done) throw new Error('SocksAgent needs a callback');
    SocksClient.createConnection({
      proxy: { host: this.proxy.host, port: this.proxy.port, type: 5, ...(this.proxy.isolation ? { userId: 'tipline', password: this.proxy.isolation } : {}) },
      command: 'connect',
      destination: { host: String(opts.hostname ?? opts.host), port: Number(opts.port ?? 80) },
      timeout: this.timeoutMs,
    }).then(
      ({ socket }) => done(null, socket),
      (err: Error) => done(new NetworkError(`SOCKS proxy ${this.proxy.host}:${this.proxy.port}: ${err.message}`), undefined as unknown as Duplex),
    );
    return undefined;
  }
}

export interface Response {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: http.IncomingMessage;
}

export class NetworkError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NetworkError';
  }
}

export function request(
  url: URL,
  init: { method: string; headers?: Record<string, string>; body?: Uint8Array; proxy?: Proxy | undefined; timeoutMs?: number },
): Promise<Response> {
  return new Promise((resolve, reject) => {
    const isHttps = url.protocol === 'https:';
    if (!isHttps && url.protocol !== 'http:') return reject(new CliError(`unsupported URL scheme ${url.protocol} (use http:// or https://)`, 2));
    // Looking up an onion name in DNS tells the resolver, and whoever watches it, that this machine is
    // contacting the tip line; without a proxy it cannot work anyway.
    if (!init.proxy && url.hostname.endsWith('.onion')) return reject(new CliError('an .onion address needs Tor: add --socks 127.0.0.1:9050 (tor) or 127.0.0.1:9150 (Tor Browser)', 2));
    if (init.proxy && isHttps) return reject(new CliError('https through --socks is not supported: onion services are reached over http', 2));
    const headers: Record<string, string> = { ...init.headers };
    if (init.body) headers['content-length'] = String(init.body.length);
    const options: http.RequestOptions = {
      method: init.method,
      hostname: url.hostname.replace(/^\[|\]$/g, ''),
      port: url.port || (isHttps ? 443 : 80),
      path: url.pathname + url.search,
      headers,
      agent: false,
    };
    // Through an Agent: Node ignores `createConnection` on a request made with `agent: false`, which would
    // silently bypass the proxy and reveal the source's address. This path has a test that kills the proxy.
    if (init.proxy) options.agent = new SocksAgent(init.proxy, init.timeoutMs ?? 60_000);
    const req = (isHttps ? https : http).request(options, (res) => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: res }));
    req.setTimeout(init.timeoutMs ?? 120_000, () => req.destroy(new NetworkError('request timed out')));
    req.on('error', (err: NodeJS.ErrnoException) => reject(err instanceof NetworkError ? err : new NetworkError(err.code ?? err.message)));
    req.end(init.body);
  });
}

export async function readAll(body: http.IncomingMessage, limit = 16 * 1024 * 1024): Promise<Uint8Array> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const part of body as AsyncIterable<Buffer>) {
    size += part.length;
    if (size > limit) throw new CliError('server response is unexpectedly large');
    parts.push(part);
  }
  return new Uint8Array(Buffer.concat(parts));
}

/** Reads a JSON response; a non-2xx answer becomes a CliError carrying the server's message. */
export async function json<T>(res: Response, what: string): Promise<T> {
  const text = new TextDecoder().decode(await readAll(res.body));
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new CliError(`${what}: the server answered ${res.status} with something that is not JSON`);
  }
  if (res.status < 200 || res.status > 299) {
    const e = (parsed as { error?: { code?: string; message?: string } }).error;
    throw new HttpError(res.status, printable(e?.code ?? 'unknown', 64), `${what}: ${printable(e?.message ?? `HTTP ${res.status}`)} (${res.status})`);
  }
  return parsed as T;
}

export class HttpError extends CliError {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}
