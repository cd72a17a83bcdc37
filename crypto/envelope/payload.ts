// The plaintext inside the chunks (FORMAT.md §Payload):
//   P = u32 BE manifest length | manifest (UTF-8 JSON) | file bytes in manifest order | zeros up to
//       padme(max(len, 64 KiB))
// Encoding side: a lazy generator of plaintext pieces (files are streamed, never held whole).
// Decoding side: a push parser fed authenticated chunk plaintexts, emitting events.
import { _abytes, _hasExactKeys, _isPlainObject } from '../_guard.js';
import { fromBase64, utf8Decode, utf8Encode } from '../bytes.js';
import { CryptoArgumentError, FileSizeMismatchError, MalformedEnvelopeError } from '../errors.js';
import { LENGTH_PREFIX, MAX_MANIFEST_LENGTH, paddedLength } from './format.js';

export interface ManifestFile {
  name: string;
  type: string;
  size: number;
}

export interface Manifest {
  v: 2;
  /** UTC day the sender's clock read when sealing, "YYYY-MM-DD": a re-delivered old envelope shows its age. */
  sent_day: string;
  message: string;
  files: ManifestFile[];
  /** A follow-up or a tip that asks for replies: the source's reply key and tag key (crypto/codename.ts). */
  reply?: { box_key: string; mailbox: string };
  /** A reply from a desk (crypto/reply.ts): who signed it, the signature, and the token that deletes it. */
  answer?: { desk_key: string; delete_token: string; signature: string };
}

export type DecryptEvent =
  | { kind: 'manifest'; manifest: Manifest }
  | { kind: 'data'; file: number; bytes: Uint8Array }
  | { kind: 'file-end'; file: number }
  | { kind: 'end' };

const MAX_FILE_NAME = 1024;
const MAX_FILE_TYPE = 255;
const MAX_MAILBOX = 256;
const DAY_MS = 86_400_000;

/** Milliseconds of a valid "YYYY-MM-DD" calendar day (UTC midnight), or undefined (2025-02-30 is not a day). */
function parseDay(s: unknown): number | undefined {
  if (typeof s !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(s)) return undefined;
  const ms = Date.parse(`${s}T00:00:00Z`);
  return Number.isFinite(ms) && new Date(ms).toISOString().slice(0, 10) === s ? ms : undefined;
}

/** The manifest's `sent_day` for a sealing at `at` (the caller's clock: crypto/ reads none). */
export function sentDay(at: Date): string {
  if (!(at instanceof Date) || !Number.isFinite(at.getTime())) throw new CryptoArgumentError('sentDay: expected a valid Date');
  const day = at.toISOString().slice(0, 10);
  if (parseDay(day) === undefined) throw new CryptoArgumentError(`sentDay: ${day} is outside years 0000..9999`);
  return day;
}

/**
 * Compares the day a tip says it was sealed (inside the encryption) with the day the server says it received
 * it. Returns a warning when they are more than one day apart (one day either way is clock skew and midnight),
 * else undefined. Threat: an operator re-delivering an old, already deleted envelope as a new tip.
 */
export function sentDayMismatch(manifestSentDay: string, receivedDay: string): string | undefined {
  const sent = parseDay(manifestSentDay);
  const received = parseDay(receivedDay);
  // The sent day was checked when the manifest was decrypted; the received day is the server's word.
  if (sent === undefined) throw new CryptoArgumentError(`sentDayMismatch: sent day ${String(manifestSentDay)} is not a YYYY-MM-DD day`);
  if (received === undefined) return `sealed on ${manifestSentDay}, but the server gives no valid day of receipt`;
  const days = Math.round((received - sent) / DAY_MS);
  if (days > 1) {
    return `sealed on ${manifestSentDay} but delivered as received on ${receivedDay} (${days} days later): this may be an old tip sent again, not a new one`;
  }
  if (days < -1) {
    return `sealed on ${manifestSentDay}, ${-days} days after the server says it was received (${receivedDay}): the sender's clock or the server's day is wrong`;
  }
  return undefined;
}

/** Returns a copy with fields in canonical order (so the encoding does not depend on how the caller built it). */
export function _validateManifest(m: unknown, fail: (msg: string) => Error): Manifest {
  if (!_isPlainObject(m)) throw fail('manifest: expected {v, sent_day, message, files, reply?, answer?}');
  if (m.v !== 2) throw fail(`manifest: unsupported version ${String(m.v)} (expected 2)`);
  if (!_hasExactKeys(m, ['v', 'sent_day', 'message', 'files'], ['reply', 'answer'])) {
    throw fail('manifest: expected {v, sent_day, message, files, reply?, answer?}');
  }
  if (parseDay(m.sent_day) === undefined) throw fail('manifest: sent_day must be a UTC day "YYYY-MM-DD"');
  if (typeof m.message !== 'string') throw fail('manifest: message must be a string');
  if (!Array.isArray(m.files)) throw fail('manifest: files must be an array');
  let total = 0;
  const files = m.files.map((f: unknown, i: number): ManifestFile => {
    const at = `manifest: files[${i}]`;
    if (!_isPlainObject(f) || !_hasExactKeys(f, ['name', 'type', 'size'])) throw fail(`${at}: expected {name, type, size}`);
    // The name is as the source's device gave it; whoever writes it to disk MUST sanitise it (path traversal).
    if (typeof f.name !== 'string' || f.name.length === 0 || f.name.length > MAX_FILE_NAME) {
      throw fail(`${at}.name must be 1..${MAX_FILE_NAME} characters`);
    }
    if (typeof f.type !== 'string' || f.type.length > MAX_FILE_TYPE) throw fail(`${at}.type must be at most ${MAX_FILE_TYPE} characters`);
    if (typeof f.size !== 'number' || !Number.isSafeInteger(f.size) || f.size < 0) {
      throw fail(`${at}.size must be a non-negative integer`);
    }
    total += f.size;
    if (!Number.isSafeInteger(total)) throw fail('manifest: total file size is too large');
    return { name: f.name, type: f.type, size: f.size };
  });
  const out: Manifest = { v: 2, sent_day: m.sent_day as string, message: m.message, files };
  if (m.reply !== undefined) {
    const r = m.reply;
    if (!_isPlainObject(r) || !_hasExactKeys(r, ['box_key', 'mailbox'])) throw fail('manifest: reply must be {box_key, mailbox}');
    let key: Uint8Array | undefined;
    try {
      key = typeof r.box_key === 'string' ? fromBase64(r.box_key) : undefined;
    } catch {
      key = undefined;
    }
    if (key?.length !== 32) throw fail('manifest: reply.box_key must be base64 of 32 bytes');
    if (typeof r.mailbox !== 'string' || r.mailbox.length === 0 || r.mailbox.length > MAX_MAILBOX) {
      throw fail(`manifest: reply.mailbox must be 1..${MAX_MAILBOX} characters`);
    }
    out.reply = { box_key: r.box_key as string, mailbox: r.mailbox };
  }
  if (m.answer !== undefined) {
    const a = m.answer;
    if (!_isPlainObject(a) || !_hasExactKeys(a, ['desk_key', 'delete_token', 'signature'])) {
      throw fail('manifest: answer must be {desk_key, delete_token, signature}');
    }
    const b64 = (v: unknown, n: number) => {
      try {
        return typeof v === 'string' && fromBase64(v).length === n;
      } catch {
        return false;
      }
    };
    if (!b64(a.desk_key, 32)) throw fail('manifest: answer.desk_key must be base64 of 32 bytes');
    if (!b64(a.delete_token, 32)) throw fail('manifest: answer.delete_token must be base64 of 32 bytes');
    if (!b64(a.signature, 64)) throw fail('manifest: answer.signature must be base64 of 64 bytes');
    // A reply is text from a desk to a source: it neither carries files nor asks for replies itself.
    if (out.files.length > 0 || out.reply !== undefined) throw fail('manifest: a reply (answer) carries no files and no reply field');
    out.answer = { desk_key: a.desk_key as string, delete_token: a.delete_token as string, signature: a.signature as string };
  }
  return out;
}

/** The manifest's bytes as the encoder writes them: JSON.stringify of the canonical-order copy. */
export function _encodeManifest(manifest: Manifest): Uint8Array {
  const arg = (m: string) => new CryptoArgumentError(m);
  let bytes: Uint8Array;
  try {
    bytes = utf8Encode(JSON.stringify(_validateManifest(manifest, arg)));
  } catch (e) {
    if (e instanceof CryptoArgumentError) throw e;
    throw arg(`manifest: ${(e as Error).message}`);
  }
  if (bytes.length > MAX_MANIFEST_LENGTH) {
    throw arg(`manifest: ${bytes.length} bytes is over the ${MAX_MANIFEST_LENGTH}-byte limit`);
  }
  return bytes;
}

function sumSizes(m: Manifest): number {
  return m.files.reduce((a, f) => a + f.size, 0);
}

/** 4 + manifest bytes + sum of file sizes: the plaintext length before padding. */
export function contentLength(manifest: Manifest): number {
  const n = LENGTH_PREFIX + _encodeManifest(manifest).length + sumSizes(manifest);
  if (!Number.isSafeInteger(n)) throw new CryptoArgumentError('manifest: content too large');
  return n;
}

/**
 * Yields the plaintext P in pieces: prefix, manifest, each file as it streams in (counted against its declared
 * size), then the zero padding. Pieces may alias caller or internal buffers: consume before the next `next()`.
 */
export async function* _plaintextPieces(
  manifestBytes: Uint8Array,
  manifest: Manifest,
  files: AsyncIterable<Uint8Array>[],
  paddingLength: number,
): AsyncGenerator<Uint8Array> {
  const prefix = new Uint8Array(LENGTH_PREFIX);
  new DataView(prefix.buffer).setUint32(0, manifestBytes.length, false);
  yield prefix;
  yield manifestBytes;
  for (let i = 0; i < files.length; i++) {
    const declared = manifest.files[i]!.size;
    let seen = 0;
    for await (const piece of files[i]!) {
      _abytes(`files[${i}] piece`, piece);
      seen += piece.length;
      if (seen > declared) {
        throw new FileSizeMismatchError(`files[${i}] yielded more than its declared ${declared} bytes`);
      }
      if (piece.length > 0) yield piece;
    }
    if (seen !== declared) {
      throw new FileSizeMismatchError(`files[${i}] yielded ${seen} bytes, declared ${declared}`);
    }
  }
  const zeros = new Uint8Array(Math.min(paddingLength, 65536));
  for (let left = paddingLength; left > 0; ) {
    const k = Math.min(left, zeros.length);
    yield zeros.subarray(0, k);
    left -= k;
  }
}

/**
 * Decoder side. Fed the plaintext of each authenticated chunk in order; appends events to `out`. Once the manifest
 * is read it knows the exact padded length, which the stream reader uses to frame the remaining chunks.
 */
export class _PayloadParser {
  manifest: Manifest | undefined;
  paddedLength: number | undefined;
  consumed = 0;
  private phase: 'length' | 'manifest' | 'files' | 'padding' = 'length';
  private prefix = new Uint8Array(LENGTH_PREFIX);
  private prefixFill = 0;
  private manifestBuf: Uint8Array | undefined;
  private manifestFill = 0;
  private file = 0;
  private fileLeft = 0;

  push(pt: Uint8Array, out: DecryptEvent[]): void {
    this.consumed += pt.length;
    if (this.paddedLength !== undefined && this.consumed > this.paddedLength) {
      throw new MalformedEnvelopeError('payload is longer than the padded length its manifest implies');
    }
    let off = 0;
    while (off < pt.length) {
      switch (this.phase) {
        case 'length': {
          const k = Math.min(LENGTH_PREFIX - this.prefixFill, pt.length - off);
          this.prefix.set(pt.subarray(off, off + k), this.prefixFill);
          this.prefixFill += k;
          off += k;
          if (this.prefixFill === LENGTH_PREFIX) {
            const len = new DataView(this.prefix.buffer).getUint32(0, false);
            // Checked before buffering: a key holder must not make a reader allocate 4 GiB.
            if (len > MAX_MANIFEST_LENGTH) throw new MalformedEnvelopeError(`manifest length ${len} is over the ${MAX_MANIFEST_LENGTH}-byte limit`);
            if (len === 0) throw new MalformedEnvelopeError('manifest is empty');
            this.manifestBuf = new Uint8Array(len);
            this.phase = 'manifest';
          }
          break;
        }
        case 'manifest': {
          const buf = this.manifestBuf!;
          const k = Math.min(buf.length - this.manifestFill, pt.length - off);
          buf.set(pt.subarray(off, off + k), this.manifestFill);
          this.manifestFill += k;
          off += k;
          if (this.manifestFill === buf.length) this.readManifest(buf, out);
          break;
        }
        case 'files': {
          const k = Math.min(this.fileLeft, pt.length - off);
          out.push({ kind: 'data', file: this.file, bytes: pt.subarray(off, off + k) });
          off += k;
          this.fileLeft -= k;
          if (this.fileLeft === 0) {
            out.push({ kind: 'file-end', file: this.file });
            this.nextFile(out);
          }
          break;
        }
        case 'padding': {
          for (; off < pt.length; off++) {
            if (pt[off] !== 0) throw new MalformedEnvelopeError('padding contains a non-zero byte');
          }
          break;
        }
      }
    }
  }

  private readManifest(buf: Uint8Array, out: DecryptEvent[]): void {
    let parsed: unknown;
    try {
      parsed = JSON.parse(utf8Decode(buf));
    } catch {
      throw new MalformedEnvelopeError('manifest is not UTF-8 JSON');
    }
    const m = _validateManifest(parsed, (msg) => new MalformedEnvelopeError(msg));
    const content = LENGTH_PREFIX + buf.length + sumSizes(m);
    if (!Number.isSafeInteger(content)) throw new MalformedEnvelopeError('manifest declares too much content');
    this.manifest = m;
    this.paddedLength = paddedLength(content);
    this.manifestBuf = undefined;
    if (this.consumed > this.paddedLength) {
      throw new MalformedEnvelopeError('payload is longer than the padded length its manifest implies');
    }
    out.push({ kind: 'manifest', manifest: m });
    this.file = -1;
    this.nextFile(out);
  }

  /** Advance to the next file, emitting file-end at once for empty files. */
  private nextFile(out: DecryptEvent[]): void {
    const files = this.manifest!.files;
    for (this.file++; this.file < files.length; this.file++) {
      this.fileLeft = files[this.file]!.size;
      if (this.fileLeft > 0) {
        this.phase = 'files';
        return;
      }
      out.push({ kind: 'file-end', file: this.file });
    }
    this.phase = 'padding';
  }

  /** After the final chunk: the whole padded payload, and nothing more, must have arrived. */
  finish(): void {
    if (this.manifest === undefined || this.paddedLength === undefined) {
      throw new MalformedEnvelopeError('the final chunk ends before the manifest does');
    }
    if (this.consumed !== this.paddedLength) {
      throw new MalformedEnvelopeError(
        `payload is ${this.consumed} bytes but its manifest implies a padded length of ${this.paddedLength}`,
      );
    }
  }
}
