// `tipline submit`: a source's client. Encrypts on this machine, then uploads in chunks, retrying a chunk
// that fails (Tor circuits drop) rather than starting again. Over one connection: the directory and a
// proof-of-work challenge in one round trip (pipelined), then the opening request with the first chunk (a
// one-chunk tip is done there), then the other chunks several at a time.
import { createReadStream, statSync } from 'node:fs';
import { basename } from 'node:path';
import { verifyDirectory, activeRecipients, directoryMark } from '../../../crypto/directory.js';
import type { SignedDocument } from '../../../crypto/signed.js';
import { rememberSerial } from '../serials.js';
import { normalizeFingerprint } from '../../../crypto/keys.js';
import { encryptEnvelope, sentDay, type Manifest } from '../../../crypto/envelope/index.js';
import { fromBase64 } from '../../../crypto/bytes.js';
import { sendEnvelope, type TransferOptions } from '../../shared/transfer.js';
import { withRetry } from '../../shared/retry.js';
import type { Receipt } from '../../../schema/wire.js';
import { Api } from '../api.js';
import { CliError } from '../errors.js';
import type { Proxy } from '../http.js';
import { progress } from '../progress.js';
import { guessType } from '../../shared/filetypes.js';

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

export async function submit(o: SubmitOptions): Promise<Receipt> {
  const api = new Api(new URL(o.server), o.proxy);
  try {
    return await send(api, o);
  } finally {
    await api.close();
  }
}

async function send(api: Api, o: SubmitOptions): Promise<Receipt> {
  if (!o.proxy && !/^(127\.|localhost$|\[::1\]$)/.test(api.base.hostname)) {
    o.say('warning: sending without Tor (no --socks): the server and your network can see your address');
  }
  const expected = normalizeFingerprint(o.fingerprint);
  const now = new Date();
  const transfer: TransferOptions = {
    retryForMs: o.retryForMs,
    onRetry: (what, err, delay) => o.say(`${what} failed (${(err as Error).message}); retrying in ${(delay / 1000).toFixed(1)} s`),
  };
  // One round trip for both: the challenge is only used if the directory verifies.
  const [doc, challenge] = await withRetry('fetching the directory', transfer, () => Promise.all([api.source.directory(), api.source.pow()]));
  let directory;
  try {
    directory = verifyDirectory(doc, expected, now);
  } catch (err) {
    throw new CliError(`refusing to encrypt: the server's directory does not verify against fingerprint ${o.fingerprint}: ${(err as Error).message}`);
  }
  // Threat: a server handing out an older directory that still lists a removed desk.
  rememberSerial(expected, directoryMark(doc as SignedDocument, directory), o.say);
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
  const manifest: Manifest = { v: 2, sent_day: sentDay(now), message: o.message, files: files.map(({ name, type, size }) => ({ name, type, size })) };
  const envelope = encryptEnvelope({ recipients: recipients.map((r) => fromBase64(r.box_key)), manifest, files: files.map((f) => readFile(f.path)) });

  const bar = progress('encrypting and sending', envelope.length);
  let last = 0;
  const receipt = await sendEnvelope(api.source, challenge, envelope, { ...transfer, onProgress: (sent) => (bar.add(sent - last), (last = sent)) });
  bar.done();
  return receipt;
}
