// verify-site's HTTP: whole answers with every header as received (a header sent twice stays two values), no
// redirect followed, no decompression unless asked, through Tor's SOCKS port when given (client/cli/http.ts's
// connector: there is no direct path to fall back on).
import { Client, buildConnector } from 'undici';
import { brotliDecompressSync, gunzipSync, inflateSync } from 'node:zlib';
import { socksConnector, type Proxy } from '../http.js';
import { CliError } from '../errors.js';
import { NetworkError } from '../../shared/errors.js';

/** The largest body read (the worker, with libsodium, is about 1 MiB). */
const LIMIT = 16 * 1024 * 1024;
const TIMEOUT_MS = 120_000;

/**
 * Asked as Tor Browser asks. Threat: a proxy serving the signed files to requests that do not look like a
 * browser's (undici sends no User-Agent, no Accept) and a changed script to browsers. A cloak on finer
 * signs (header order, TLS) remains possible: only a check inside the browser closes it (SECURITY.md).
 */
export const BROWSER_HEADERS: Readonly<Record<string, string>> = {
  'user-agent': 'Mozilla/5.0 (Windows NT 10.0; rv:128.0) Gecko/20100101 Firefox/128.0',
  accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8',
  'accept-language': 'en-US,en;q=0.5',
};

export interface Answer {
  status: number;
  /** Lower-case names; a header received more than once has several values. */
  headers: Record<string, string[]>;
  /** As received (still compressed when Content-Encoding says so). */
  body: Buffer;
}

export class SiteClient {
  private readonly client: Client;

  constructor(
    readonly origin: string,
    proxy: Proxy | undefined,
  ) {
    const base = new URL(origin);
    const host = base.hostname.replace(/\.+$/, '');
    // Looking an onion name up in DNS tells the resolver this machine visits the tip line; it cannot work anyway.
    if (!proxy && (host === 'onion' || host.endsWith('.onion'))) throw new CliError('an .onion address needs Tor: add --socks 127.0.0.1:9050 (tor) or 127.0.0.1:9150 (Tor Browser)', 2);
    if (proxy && base.protocol === 'https:') throw new CliError('https through --socks is not supported: onion services are reached over http', 2);
    this.client = new Client(base.origin, {
      headersTimeout: TIMEOUT_MS,
      bodyTimeout: TIMEOUT_MS,
      connect: proxy ? socksConnector(proxy) : buildConnector({ timeout: 60_000 }),
    });
  }

  async get(path: string, headers: Record<string, string> = {}): Promise<Answer> {
    let res;
    try {
      res = await this.client.request({ method: 'GET', path, headers: { ...BROWSER_HEADERS, ...headers }, signal: AbortSignal.timeout(10 * 60_000) });
    } catch (err) {
      throw asNetworkError(err);
    }
    const parts: Buffer[] = [];
    let size = 0;
    try {
      for await (const part of res.body as AsyncIterable<Buffer>) {
        size += part.length;
        if (size > LIMIT) {
          res.body.destroy();
          throw new CliError(`${path}: the answer is larger than ${LIMIT} bytes`);
        }
        parts.push(part);
      }
    } catch (err) {
      throw asNetworkError(err);
    }
    return { status: res.statusCode, headers: headerLists(res.headers), body: Buffer.concat(parts) };
  }

  async close(): Promise<void> {
    await this.client.close().catch(() => {});
  }
}

/** undici keeps a header received twice as an array of its values. */
function headerLists(parsed: Record<string, string | string[] | undefined>): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(parsed)) if (v !== undefined) out[k.toLowerCase()] = Array.isArray(v) ? v : [v];
  return out;
}

function asNetworkError(err: unknown): Error {
  if (err instanceof CliError || err instanceof NetworkError) return err;
  const e = err as { code?: string; message?: string; cause?: unknown };
  if (e.cause instanceof NetworkError) return e.cause;
  return new NetworkError(e.code && !e.code.startsWith('UND_ERR') ? e.code : (e.message ?? String(err)));
}

/** The body as the browser would read it, or why it cannot be decoded. */
export function decodeBody(a: Answer): { body: Buffer } | { error: string } {
  const enc = (a.headers['content-encoding'] ?? []).join(',').trim().toLowerCase();
  try {
    if (enc === '' || enc === 'identity') return { body: a.body };
    if (enc === 'gzip' || enc === 'x-gzip') return { body: gunzipSync(a.body) };
    if (enc === 'deflate') return { body: inflateSync(a.body) };
    if (enc === 'br') return { body: brotliDecompressSync(a.body) };
  } catch (err) {
    return { error: `its ${enc} body does not decode (${(err as Error).message})` };
  }
  return { error: `it is sent with Content-Encoding "${enc}", which verify-site cannot check` };
}
