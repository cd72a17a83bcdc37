// Sending an envelope to a tip line, the same for the command line and the page (no Node, no DOM): the request
// that opens the upload carries the proof-of-work and the first chunk (a one-chunk tip is that one request);
// the other chunks follow several at a time, each retried until it lands (Tor circuits drop; a source must be
// able to continue, not restart), the last one finishing the upload in the same round trip.
import { solvePow } from '../../crypto/pow.js';
import type { PowChallenge, Receipt, UploadCreated } from '../../schema/wire.js';
import { chunkCount, type SourceApi } from './api.js';
import { MalformedAnswer } from './errors.js';
import { finishedTooEarly, needsFreshPow, retryable, withRetry, type RetryOptions } from './retry.js';

export interface TransferOptions extends RetryOptions {
  onPreparing?(): void;
  onProgress?(bytesSent: number, total: number): void;
  /** Bytes of chunks sent but not yet acknowledged, at most (at least two chunks). Over Tor a few MB keep
   * the link busy while answers travel back. */
  windowBytes?: number;
  /**
   * The time a small exchange took (ms), for clients whose requests in flight travel on parallel connections
   * (the page: browsers do not pipeline). Those connections share the link fairly, so chunks started together
   * also finish together and the link idles while their answers travel back, every window. Given this, the
   * chunks that first fill the window are started spread over the time chunk 0 took on the link, and stay apart.
   */
  spreadAgainstRttMs?: number;
  /** Proof-of-work attempts in flight at once (crypto/pow.ts's default unless given). */
  powInFlight?: number;
}

const DEFAULT_WINDOW = 4 * 1024 * 1024;
const now = () => performance.now();
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Regroups a stream into pieces of exactly `size` bytes (the last may be shorter). */
export async function* rechunk(input: AsyncIterable<Uint8Array>, size: number): AsyncIterable<Uint8Array> {
  // A size of 0 would never fill a piece: the loop below would not end.
  if (!Number.isSafeInteger(size) || size < 1) throw new RangeError(`chunk size must be a positive integer, got ${size}`);
  let buf = new Uint8Array(size);
  let fill = 0;
  for await (const piece of input) {
    let off = 0;
    while (off < piece.length) {
      const take = Math.min(size - fill, piece.length - off);
      buf.set(piece.subarray(off, off + take), fill);
      fill += take;
      off += take;
      if (fill === size) {
        yield buf;
        buf = new Uint8Array(size);
        fill = 0;
      }
    }
  }
  if (fill > 0) yield buf.subarray(0, fill);
}

/** A receipt is what tells the source the tip is stored: one for other bytes is not proof of that. */
function matchingReceipt(r: Receipt, size: number): Receipt {
  if (r.size !== size) throw new MalformedAnswer(`the server's receipt is for ${r.size} bytes, not the ${size} sent; the tip may not be stored`);
  return r;
}

/**
 * Sends a whole envelope; resolves with the receipt once the server has committed the tip. `challenge` is a
 * proof-of-work challenge fetched beforehand (alongside the directory, in the same round trip); its
 * `chunk_size` decides how the envelope is cut.
 */
export async function sendEnvelope(api: SourceApi, challenge: PowChallenge, envelope: { length: number; stream: AsyncIterable<Uint8Array> }, o: TransferOptions): Promise<Receipt> {
  o.onPreparing?.();
  const size = envelope.length;
  const chunkSize = challenge.chunk_size;
  const count = chunkCount(size, chunkSize);
  const chunks = rechunk(envelope.stream, chunkSize)[Symbol.asyncIterator]();
  try {
    const first = await chunks.next();
    if (first.done) throw new RangeError('the envelope is empty');
    const chunk0 = first.value;
    // The second chunk is encrypted while the opening travels.
    let ahead: Promise<IteratorResult<Uint8Array>> | undefined = count > 1 ? chunks.next() : undefined;
    ahead?.catch(() => {}); // awaited below, or dropped with the upload

    // The opening: sent again as it was after a lost answer (the server recognises the solution and answers
    // with the same upload); a fresh challenge only when the server says this solution cannot open one.
    // A challenge fetched before the envelope's size was known covers one chunk: a larger envelope asks for one
    // priced for its size (the server refuses a cheaper one), costing a round trip next to many chunks.
    const solve = async (c: PowChallenge) => ({ token: c.token, nonce: await solvePow(c.token, c.difficulty, o.powInFlight === undefined ? {} : { inFlight: o.powInFlight }) });
    const sized = async (): Promise<PowChallenge> => {
      const c = await api.pow(size);
      if (c.chunk_size !== chunkSize) throw new MalformedAnswer('the server changed its chunk size while this tip was being sent; send it again');
      return c;
    };
    let current = challenge.size >= size ? challenge : await withRetry('fetching a proof-of-work challenge', o, sized);
    let solution = await solve(current);
    let stale = false;
    o.onProgress?.(0, size);
    const openStarted = now();
    const opened = await withRetry(
      count === 1 ? 'sending the tip' : 'opening the upload',
      o,
      async () => {
        if (stale) {
          current = await sized();
          solution = await solve(current);
          stale = false;
        }
        try {
          return await api.open(solution, size, chunk0, chunkSize);
        } catch (err) {
          if (needsFreshPow(err)) stale = true;
          throw err;
        }
      },
      (err) => retryable(err) || needsFreshPow(err),
    );
    const openedMs = now() - openStarted;
    if (count === 1) {
      o.onProgress?.(size, size);
      return matchingReceipt(opened as Receipt, size);
    }
    const { id } = opened as UploadCreated;
    let sent = chunk0.length;
    o.onProgress?.(sent, size);

    const windowBytes = Math.max(o.windowBytes ?? DEFAULT_WINDOW, 2 * chunkSize);
    const pending = new Set<Promise<void>>();
    let inFlight = 0;
    let failure: { err: unknown } | undefined;
    // Spreading the first window's chunks (see spreadAgainstRttMs); nothing waits on a link that is fast anyway.
    const slots = Math.floor(windowBytes / chunkSize);
    const spreadMs = o.spreadAgainstRttMs === undefined ? 0 : Math.min(Math.max(0, openedMs - o.spreadAgainstRttMs), 30_000) / slots;
    const firstPutAt = now();
    let started = 0;
    let receipt: Receipt | undefined;
    let finishLater = false;
    let n = 1;
    for (;;) {
      // The next chunk is encrypted while the ones before it travel.
      const next = await (ahead ?? chunks.next());
      ahead = undefined;
      if (next.done) break;
      const index = n++;
      const data = next.value;
      while (!failure && pending.size > 0 && inFlight + data.length > windowBytes) await Promise.race(pending);
      const due = firstPutAt + started * spreadMs;
      if (!failure && started < slots && pending.size > 0 && due > now()) await Promise.race([sleep(due - now()), ...pending]);
      if (failure) break;
      started++;
      const last = index === count - 1;
      inFlight += data.length;
      const task: Promise<void> = withRetry(`sending chunk ${index + 1} of ${count}`, o, () => api.putChunk(id, index, data, last))
        .then(
          (answer) => {
            if (last) receipt = answer as Receipt;
            sent += data.length;
            o.onProgress?.(sent, size);
          },
          (err: unknown) => {
            if (last && finishedTooEarly(err)) finishLater = true;
            else failure ??= { err };
          },
        )
        .finally(() => {
          inFlight -= data.length;
          pending.delete(task);
        });
      pending.add(task);
    }
    await Promise.all(pending);
    if (failure) throw failure.err;
    if (n !== count) throw new Error(`produced ${n} chunks, the server expected ${count}`);
    if (finishLater) {
      // Every chunk is stored now: finishing can no longer find one missing.
      receipt = await withRetry('finishing the upload', o, () => api.finish(id));
      o.onProgress?.(size, size);
    }
    if (!receipt) throw new Error('the upload ended without a receipt');
    return matchingReceipt(receipt, size);
  } finally {
    await chunks.return?.();
  }
}
