// The page's transport: fetch to its own origin, no cookies, no referrer, nothing cached. What is sent and how
// answers are checked is client/shared/api.ts, the same code the command line runs.
import { concatBytes } from '../../crypto/bytes.js';
import { SourceApi, type Transport, type WireAnswer, type WireRequest } from '../shared/api.js';
import { MalformedAnswer, NetworkError } from '../shared/errors.js';

const TIMEOUT_MS = 10 * 60_000;
const TOO_LARGE = "the server's answer is larger than any valid one";

async function readLimited(res: Response, limit: number): Promise<Uint8Array> {
  const declared = Number(res.headers.get('content-length'));
  if (Number.isSafeInteger(declared) && declared > limit) throw new MalformedAnswer(TOO_LARGE);
  if (!res.body) return new Uint8Array(0);
  const reader = res.body.getReader();
  const parts: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > limit) {
      await reader.cancel();
      throw new MalformedAnswer(TOO_LARGE);
    }
    parts.push(value);
  }
  return concatBytes(...parts);
}

export const fetchTransport: Transport = {
  async send(req: WireRequest, limit: number): Promise<WireAnswer> {
    try {
      const res = await fetch(req.path, {
        method: req.method,
        body: req.body as BodyInit | undefined,
        headers: req.headers ?? {},
        cache: 'no-store',
        credentials: 'omit',
        referrerPolicy: 'no-referrer',
        // A connection that hangs (a stalled circuit) fails and is retried rather than waited on for ever.
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
      return { status: res.status, body: await readLimited(res, limit), retryAfter: res.headers.get('retry-after') ?? undefined };
    } catch (err) {
      if (err instanceof MalformedAnswer) throw err;
      throw new NetworkError((err as Error).message || 'network error');
    }
  },
};

export const webApi = new SourceApi(fetchTransport);
