// A source's client for fault tests: the shared transfer code (client/shared/transfer.ts, the same the page and
// the CLI run) over plain fetch, with a hook that sees every exchange. The hook lets a test break something
// (stop the database, kill the server) at an exact point of an upload, and see every answer's headers.
import http from 'node:http';
import net from 'node:net';
import { SourceApi, type Transport, type WireAnswer, type WireRequest } from '../../client/shared/api.js';
import { NetworkError } from '../../client/shared/errors.js';
import { sendEnvelope } from '../../client/shared/transfer.js';
import type { Receipt } from '../../schema/wire.js';

export interface Exchange {
  req: WireRequest;
  status: number;
  headers: Headers;
  body: string;
  ms: number;
}

export interface Hooks {
  /** Before a request is sent (may wait: the request waits with it). */
  before?(req: WireRequest): Promise<void> | void;
  /** Instead of sending it: for a test that sends the request itself (to kill the server mid-request). */
  send?(req: WireRequest, plain: () => Promise<WireAnswer>): Promise<WireAnswer>;
  /** After an answer (or a failure, with status 0) and before the transfer code sees it. */
  after?(x: Exchange): Promise<void> | void;
}

export function fetchTransport(base: string, hooks: Hooks = {}, exchanges: Exchange[] = []): Transport {
  const plain = async (req: WireRequest): Promise<WireAnswer> => {
    const started = performance.now();
    let res: Response;
    let body: Uint8Array;
    try {
      res = await fetch(base + req.path, {
        method: req.method,
        headers: req.headers ?? {},
        body: req.body as BodyInit | undefined,
        signal: AbortSignal.timeout(60_000),
      });
      body = new Uint8Array(await res.arrayBuffer());
    } catch (err) {
      const x = { req, status: 0, headers: new Headers(), body: String((err as Error).message), ms: performance.now() - started };
      exchanges.push(x);
      await hooks.after?.(x);
      throw new NetworkError(`${req.method} ${req.path}: ${(err as Error).message}`);
    }
    const x = { req, status: res.status, headers: res.headers, body: new TextDecoder().decode(body), ms: performance.now() - started };
    exchanges.push(x);
    await hooks.after?.(x);
    return { status: res.status, body };
  };
  return {
    async send(req) {
      await hooks.before?.(req);
      return hooks.send ? hooks.send(req, () => plain(req)) : plain(req);
    },
  };
}

async function* pieces(bytes: Uint8Array): AsyncIterable<Uint8Array> {
  for (let off = 0; off < bytes.length; off += 256 * 1024) yield bytes.subarray(off, off + 256 * 1024);
}

/** Sends `envelope` as a source's client does, retrying failed steps for up to `retryForMs`. */
export async function sendAsSource(base: string, envelope: Uint8Array, o: { hooks?: Hooks; exchanges?: Exchange[]; retryForMs?: number; transport?: Transport } = {}): Promise<Receipt> {
  const api = new SourceApi(o.transport ?? fetchTransport(base, o.hooks, o.exchanges));
  const challenge = await api.pow();
  return sendEnvelope(api, challenge, { length: envelope.length, stream: pieces(envelope) }, {
    retryForMs: o.retryForMs ?? 60_000,
    // One chunk in flight at a time: the test decides which request meets the fault.
    windowBytes: 0,
  });
}

export interface HeldRequest {
  /** Sends the rest of the body. */
  finish(): void;
  /** The answer, or status 0 and the error when the connection was cut. */
  answer: Promise<{ status: number; body: string; error?: string }>;
}

/** A request whose headers and first `sentFirst` body bytes go out now and the rest when the test says: a chunk
 * upload caught in progress. On its own connection. */
export function heldRequest(url: string, method: string, headers: Record<string, string>, body: Uint8Array, sentFirst: number): HeldRequest {
  const u = new URL(url);
  let req!: http.ClientRequest;
  const answer = new Promise<{ status: number; body: string; error?: string }>((resolve) => {
    req = http.request({ method, hostname: u.hostname, port: u.port, path: u.pathname + u.search, headers: { ...headers, 'content-length': String(body.length) }, agent: false }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      res.on('error', (err) => resolve({ status: 0, body: text, error: err.message }));
    });
    req.on('error', (err) => resolve({ status: 0, body: '', error: err.message }));
  });
  req.flushHeaders();
  req.write(body.subarray(0, sentFirst));
  return { finish: () => void req.end(body.subarray(sentFirst)), answer };
}

/** Whether a new TCP connection to `url` is accepted now. */
export function accepts(url: string): Promise<boolean> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const s = net.connect({ host: u.hostname, port: Number(u.port) });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}
