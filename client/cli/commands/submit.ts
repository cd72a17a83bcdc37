// `tipline submit`: a source's client. Encrypts on this machine, then uploads in chunks, retrying a chunk
// that fails (Tor circuits drop) rather than starting again. Over one connection: the directory and a
// proof-of-work challenge in one round trip (pipelined), then the opening request with the first chunk (a
// one-chunk tip is done there), then the other chunks several at a time.
// Photos are cleaned of their metadata here, before encryption, as the page does (client/shared/strip.ts); with
// --replies or --codename the tip carries the codename's public reply key and tag key (PROTOCOL.md §Codenames).
import { closeSync, createReadStream, openSync, readFileSync, readSync, statSync } from 'node:fs';
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
import { imageKind, stripImage } from '../../shared/strip.js';
import { codenameKeys, replyField } from '../../shared/replies.js';
import type { Codename } from '../../../crypto/codename.js';
import { printable } from '../printable.js';

export interface SubmitOptions {
  server: string;
  fingerprint: string;
  message: string;
  files: string[];
  proxy?: Proxy | undefined;
  retryForMs: number;
  say: (s: string) => void;
  /** Send photos as they are (--keep-metadata); by default their metadata is removed. */
  keepMetadata?: boolean;
  /** Ask for replies (a new codename) or follow up (a codename typed again): the tip carries its reply field. */
  codename?: Codename | undefined;
  /** For tests: a lower KDF cost. */
  iterations?: number;
}

/** A file as it will be sent: from disk as it is, or (a photo cleaned of its metadata) from memory. */
export interface PreparedFile {
  path: string;
  name: string;
  type: string;
  size: number;
  cleaned?: Uint8Array;
  /** Why this file may still carry hidden details, for a warning; undefined when nothing is known. */
  hidden?: string;
}

async function* readFile(path: string): AsyncIterable<Uint8Array> {
  for await (const piece of createReadStream(path, { highWaterMark: 1024 * 1024 })) yield new Uint8Array(piece as Buffer);
}

async function* fromMemory(bytes: Uint8Array): AsyncIterable<Uint8Array> {
  yield bytes;
}

function head(path: string, n: number): Uint8Array {
  const fd = openSync(path, 'r');
  try {
    const buf = new Uint8Array(n);
    return buf.subarray(0, readSync(fd, buf, 0, n, 0));
  } finally {
    closeSync(fd);
  }
}

const OFFICE = /\.(docx?|docm|xlsx?|xlsm|pptx?|pptm|rtf|odt|ods|odp|odg|pages|numbers|key)$/i;
const IMAGE = /\.(jpe?g|png|gif|webp|heic|heif|tiff?|bmp|avif|dng|cr2|nef|arw)$/i;
const MEDIA = /\.(mp4|m4v|mov|3gp|avi|mkv|webm|mp3|m4a|wav|ogg|opus|aac|flac|amr)$/i;

/** What a file of this kind may carry that its author never saw, or undefined (text, archives: nothing known). */
function hiddenDetails(name: string, start: Uint8Array, kind: 'jpeg' | 'png' | undefined): string | undefined {
  const magic = (ascii: string) => [...ascii].every((c, i) => start[i] === c.charCodeAt(0));
  if (kind) return 'a photo sent with its metadata (--keep-metadata): it may carry the place it was taken (GPS), the camera and the time';
  if (magic('%PDF') || /\.pdf$/i.test(name)) return 'a PDF: it may carry hidden details (author, software, dates, earlier versions) that are sent as they are';
  if (OFFICE.test(name)) return 'an office document: it may carry hidden details (author, comments, tracked changes, dates) that are sent as they are';
  if (IMAGE.test(name)) return 'an image this cannot clean: it may carry the place it was taken (GPS), the camera and the time';
  if (MEDIA.test(name)) return 'a recording: it may carry the place it was made (GPS), the device and the time';
  return undefined;
}

/**
 * Reads the files to attach: each JPEG or PNG (by content, whatever its name) cleaned of its metadata unless
 * `keepMetadata`; one that cannot be cleaned is refused, naming it. Threat: a phone photo's GPS position or
 * camera serial identifies a source more surely than any address, and Tor hides none of it.
 */
export function prepareFiles(paths: string[], keepMetadata: boolean): PreparedFile[] {
  return paths.map((path) => {
    let size: number;
    let start: Uint8Array;
    try {
      const st = statSync(path);
      if (!st.isFile()) throw new Error('not a regular file');
      size = st.size;
      start = head(path, 16);
    } catch (err) {
      throw new CliError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    const name = basename(path);
    const kind = start.length >= 8 ? imageKind(start) : undefined;
    if (kind && !keepMetadata) {
      const cleaned = stripImage(new Uint8Array(readFileSync(path)));
      if (!cleaned) {
        throw new CliError(`${path}: this ${kind === 'jpeg' ? 'JPEG' : 'PNG'} photo cannot be cleaned of its metadata (its structure is not understood), so it was not sent; send it as it is with --keep-metadata, or export it again (a screenshot of it, say)`, 2);
      }
      return { path, name, type: guessType(path), size: cleaned.length, cleaned };
    }
    const hidden = hiddenDetails(name, start, kind);
    return { path, name, type: guessType(path), size, ...(hidden ? { hidden } : {}) };
  });
}

export async function submit(o: SubmitOptions): Promise<Receipt> {
  // Before any connection: a photo that cannot be cleaned stops the run with nothing sent.
  const files = prepareFiles(o.files, o.keepMetadata ?? false);
  for (const f of files) if (f.hidden) o.say(`warning: ${printable(f.name, 200)} is ${f.hidden}`);
  const reply = o.codename ? replyField(await codenameKeys(o.codename, o.fingerprint, o.iterations)) : undefined;
  const api = new Api(new URL(o.server), o.proxy);
  try {
    return await send(api, o, files, reply);
  } finally {
    await api.close();
  }
}

async function send(api: Api, o: SubmitOptions, files: PreparedFile[], reply: Manifest['reply']): Promise<Receipt> {
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

  const manifest: Manifest = { v: 2, sent_day: sentDay(now), message: o.message, files: files.map(({ name, type, size }) => ({ name, type, size })), ...(reply ? { reply } : {}) };
  const envelope = encryptEnvelope({ recipients: recipients.map((r) => fromBase64(r.box_key)), manifest, files: files.map((f) => (f.cleaned ? fromMemory(f.cleaned) : readFile(f.path))) });

  const bar = progress('encrypting and sending', envelope.length);
  let last = 0;
  const receipt = await sendEnvelope(api.source, challenge, envelope, { ...transfer, onProgress: (sent) => (bar.add(sent - last), (last = sent)) });
  bar.done();
  return receipt;
}
