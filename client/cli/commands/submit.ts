// `tipline submit`: a source's client. Encrypts on this machine, then uploads in chunks, retrying a chunk
// that fails (Tor circuits drop) rather than starting again.
import { createReadStream, statSync } from 'node:fs';
import { basename } from 'node:path';
import { verifyDirectory, activeRecipients } from '../../../crypto/directory.js';
import { normalizeFingerprint } from '../../../crypto/keys.js';
import { encryptEnvelope, type Manifest } from '../../../crypto/envelope/index.js';
import { fromBase64 } from '../../../crypto/bytes.js';
import { solvePow } from '../../../crypto/pow.js';
import type { Receipt } from '../../../schema/wire.js';
import { Api } from '../api.js';
import { CliError } from '../errors.js';
import { HttpError, NetworkError, type Proxy } from '../http.js';
import { progress } from '../progress.js';
import { guessType } from '../filetypes.js';

export interface SubmitOptions {
  server: string;
  fingerprint: string;
  message: string;
  files: string[];
  proxy?: Proxy | undefined;
  retryForMs: number;
  say: (s: string) => void;
}

async function* readFile(path: string): AsyncIterable<Uint8Array> {
  for await (const piece of createReadStream(path, { highWaterMark: 1024 * 1024 })) yield new Uint8Array(piece as Buffer);
}

/** Regroups a stream into pieces of exactly `size` bytes (the last may be shorter). */
async function* rechunk(input: AsyncIterable<Uint8Array>, size: number): AsyncIterable<Uint8Array> {
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

function retryable(err: unknown): boolean {
  return err instanceof NetworkError || (err instanceof HttpError && (err.status >= 500 || err.status === 429));
}

async function withRetry<T>(what: string, retryForMs: number, say: (s: string) => void, fn: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + retryForMs;
  let delay = 250;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (!retryable(err) || Date.now() + delay > deadline) throw err;
      say(`${what} failed (${(err as Error).message}); retrying in ${(delay / 1000).toFixed(1)} s`);
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 5000);
    }
  }
}

export async function submit(o: SubmitOptions): Promise<Receipt> {
  const api = new Api(new URL(o.server), o.proxy);
  if (!o.proxy && !/^(127\.|localhost$|\[::1\]$)/.test(api.base.hostname)) {
    o.say('warning: sending without Tor (no --socks): the server and your network can see your address');
  }
  const expected = normalizeFingerprint(o.fingerprint);
  const now = new Date();
  const doc = await withRetry('fetching the directory', o.retryForMs, o.say, () => api.directory());
  let directory;
  try {
    directory = verifyDirectory(doc, expected, now);
  } catch (err) {
    throw new CliError(`refusing to encrypt: the server's directory does not verify against fingerprint ${o.fingerprint}: ${(err as Error).message}`);
  }
  const recipients = activeRecipients(directory, 'desk', now);
  if (recipients.length === 0) throw new CliError('refusing to encrypt: the directory lists no desk key valid today');

  const files = o.files.map((path) => {
    let size: number;
    try {
      const st = statSync(path);
      if (!st.isFile()) throw new Error('not a regular file');
      size = st.size;
    } catch (err) {
      throw new CliError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    return { path, name: basename(path), type: guessType(path), size };
  });
  const manifest: Manifest = { v: 1, message: o.message, files: files.map(({ name, type, size }) => ({ name, type, size })) };
  const envelope = encryptEnvelope({ recipients: recipients.map((r) => fromBase64(r.box_key)), manifest, files: files.map((f) => readFile(f.path)) });

  const challenge = await withRetry('fetching a proof-of-work challenge', o.retryForMs, o.say, () => api.pow());
  const nonce = solvePow(challenge.token, challenge.difficulty);
  const upload = await withRetry('opening the upload', o.retryForMs, o.say, () => api.createUpload({ token: challenge.token, nonce }, envelope.length));
  const bar = progress('encrypting and sending', envelope.length);
  let n = 0;
  let receipt: Receipt | undefined;
  for await (const chunk of rechunk(envelope.stream, upload.chunk_size)) {
    const last = n === upload.chunk_count - 1;
    const index = n;
    const answer = await withRetry(`sending chunk ${index + 1} of ${upload.chunk_count}`, o.retryForMs, o.say, () => api.putChunk(upload.id, index, chunk, last));
    if (last) receipt = answer as Receipt;
    bar.add(chunk.length);
    n++;
  }
  bar.done();
  if (n !== upload.chunk_count || !receipt) throw new CliError(`internal error: produced ${n} chunks, the server expected ${upload.chunk_count}`);
  return receipt;
}
