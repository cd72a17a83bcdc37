// A source's client for fault tests: the shared transfer code (client/shared/transfer.ts, the same the page and
// the CLI run) over plain fetch, with a hook that sees every exchange. The hook lets a test break something
// (stop the database, kill the server) at an exact point of an upload, and see every answer's headers.
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
export async function sendAsSource(base: string, envelope: Uint8Array, o: { hooks?: Hooks; exchanges?: Exchange[]; retryForMs?: number } = {}): Promise<Receipt> {
  const api = new SourceApi(fetchTransport(base, o.hooks, o.exchanges));
  const challenge = await api.pow();
  return sendEnvelope(api, challenge, { length: envelope.length, stream: pieces(envelope) }, {
    retryForMs: o.retryForMs ?? 60_000,
    // One chunk in flight at a time: the test decides which request meets the fault.
    windowBytes: 0,
  });
}
