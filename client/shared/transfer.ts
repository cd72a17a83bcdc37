// Sending an envelope to a tip line, the same for the command line and the web page (no Node, no DOM):
// proof-of-work, open, then chunks in order, each retried until it lands (Tor circuits drop; a source must be
// able to continue, not restart), the last one finishing the upload in the same round trip.
import { solvePow } from '../../crypto/pow.js';
import type { PowChallenge, Receipt, UploadCreated } from '../../schema/wire.js';

export interface TipTransport {
  pow(): Promise<PowChallenge>;
  createUpload(pow: { token: string; nonce: string }, size: number): Promise<UploadCreated>;
  putChunk(id: string, n: number, data: Uint8Array, finish: boolean): Promise<Receipt | { received: number }>;
}

export interface TransferOptions {
  /** Keep retrying a failed step for this long before giving up. */
  retryForMs: number;
  /** Which failures are worth retrying (connection lost, server restarting) and which are final. */
  retryable(err: unknown): boolean;
  onRetry?(what: string, err: unknown, delayMs: number): void;
  onPreparing?(): void;
  onProgress?(bytesSent: number, total: number): void;
  sleep?(ms: number): Promise<void>;
}

const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function withRetry<T>(what: string, o: TransferOptions, fn: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + o.retryForMs;
  let delay = 250;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (!o.retryable(err) || Date.now() + delay > deadline) throw err;
      // Jitter: many sources cut off by the same outage should not all come back in the same instant.
      const wait = Math.round(delay * (0.75 + Math.random() * 0.5));
      o.onRetry?.(what, err, wait);
      await (o.sleep ?? defaultSleep)(wait);
      delay = Math.min(delay * 2, 5000);
    }
  }
}

/** Regroups a stream into pieces of exactly `size` bytes (the last may be shorter). */
export async function* rechunk(input: AsyncIterable<Uint8Array>, size: number): AsyncIterable<Uint8Array> {
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

function powSpent(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  return e.code === 'TIPLINE_ERR_POW_REUSED' || (e.code === 'TIPLINE_ERR_POW_INVALID' && /expired/.test(e.message ?? ''));
}

/** Sends a whole envelope; resolves with the receipt once the server has committed the tip. */
export async function sendEnvelope(t: TipTransport, envelope: { length: number; stream: AsyncIterable<Uint8Array> }, o: TransferOptions): Promise<Receipt> {
  o.onPreparing?.();
  // Challenge, solution and opening are one step: if the answer to the opening is lost, the solution was
  // spent (or has expired by the time the connection is back), and only a fresh challenge can open it.
  const upload = await withRetry('opening the upload', { ...o, retryable: (err) => o.retryable(err) || powSpent(err) }, async () => {
    const challenge = await t.pow();
    return t.createUpload({ token: challenge.token, nonce: solvePow(challenge.token, challenge.difficulty) }, envelope.length);
  });
  let n = 0;
  let sent = 0;
  let receipt: Receipt | undefined;
  o.onProgress?.(0, envelope.length);
  for await (const chunk of rechunk(envelope.stream, upload.chunk_size)) {
    const index = n;
    const last = index === upload.chunk_count - 1;
    const answer = await withRetry(`sending chunk ${index + 1} of ${upload.chunk_count}`, o, () => t.putChunk(upload.id, index, chunk, last));
    if (last) receipt = answer as Receipt;
    sent += chunk.length;
    o.onProgress?.(sent, envelope.length);
    n++;
  }
  if (n !== upload.chunk_count || !receipt) throw new Error(`produced ${n} chunks, the server expected ${upload.chunk_count}`);
  return receipt;
}
