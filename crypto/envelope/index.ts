// The envelope: the only public surface of crypto/envelope/. FORMAT.md is the specification; this file wires
// format.ts (header, sizes), seal.ts (stanzas), stream.ts (chunk AEAD) and payload.ts (manifest, padding).
import { _abytes } from '../_guard.js';
import { concatBytes, equalBytes, utf8Decode } from '../bytes.js';
import { CryptoArgumentError, MalformedEnvelopeError, TamperedError, TruncatedError } from '../errors.js';
import { sodium } from '../sodium.js';
import {
  CHUNK_CT_SIZE,
  CHUNK_SIZE,
  COMMITMENT_LENGTH,
  FIXED_HEADER_LENGTH,
  LENGTH_PREFIX,
  MAGIC,
  MAX_STANZAS,
  STANZA_LENGTH,
  TAG_LENGTH,
  VERSION,
  _parseFixedHeader,
  envelopeLength,
  paddedLength,
} from './format.js';
import { _PayloadParser, _encodeManifest, _plaintextPieces, type DecryptEvent, type Manifest } from './payload.js';
import { _ByteReader } from './_reader.js';
import { FILE_KEY_LENGTH, _checkIdentity, _keyCommitment, _openStanzas, _sealStanza } from './seal.js';
import { _chunkCipher, _headerDigest, _payloadKey, type AesBackend } from './stream.js';

export {
  CHUNK_SIZE,
  MAX_STANZAS,
  MAX_MANIFEST_LENGTH,
  MIN_ENVELOPE_LENGTH,
  MIN_PADDED_LENGTH,
  checkFraming,
  envelopeLength,
  headerLength,
  paddedLength,
  type Framing,
} from './format.js';
export {
  contentLength,
  sentDay,
  sentDayMismatch,
  type DecryptEvent,
  type Manifest,
  type ManifestFile,
} from './payload.js';
export type { AesBackend } from './stream.js';

export interface EncryptOptions {
  recipients: Uint8Array[]; // X25519 public keys
  manifest: Manifest;
  files: AsyncIterable<Uint8Array>[]; // one per manifest file, yielding exactly files[i].size bytes
  aes?: AesBackend;
  /** Test vectors only. Consumed in order: K (32), then one 32-byte ephemeral seed per recipient. */
  random?: (n: number) => Uint8Array;
}

export interface Identity {
  boxPublic: Uint8Array;
  boxSecret: Uint8Array;
}

/**
 * Encrypts to every recipient. Returns the exact length up front (for the upload's Content-Length and the
 * server's framing check) and a lazy stream: the header, then one ciphertext chunk at a time. Memory stays at
 * about one chunk whatever the file sizes.
 */
export function encryptEnvelope(o: EncryptOptions): { length: number; stream: AsyncIterable<Uint8Array> } {
  if (typeof o !== 'object' || o === null) throw new CryptoArgumentError('encryptEnvelope: expected options');
  const { recipients, files } = o;
  if (!Array.isArray(recipients) || recipients.length < 1 || recipients.length > MAX_STANZAS) {
    throw new CryptoArgumentError(`recipients: expected 1..${MAX_STANZAS} keys, got ${Array.isArray(recipients) ? recipients.length : typeof recipients}`);
  }
  recipients.forEach((r, i) => _abytes(`recipients[${i}]`, r, 32));
  for (let i = 0; i < recipients.length; i++) {
    for (let j = 0; j < i; j++) {
      if (equalBytes(recipients[i]!, recipients[j]!)) throw new CryptoArgumentError(`recipients[${i}] repeats recipients[${j}]`);
    }
  }
  const manifestBytes = _encodeManifest(o.manifest);
  // Re-parse our own canonical copy, so what we stream is exactly what we measured.
  const manifest = JSON.parse(utf8Decode(manifestBytes)) as Manifest;
  if (!Array.isArray(files) || files.length !== manifest.files.length) {
    throw new CryptoArgumentError(`files: expected ${manifest.files.length} streams (one per manifest file), got ${Array.isArray(files) ? files.length : typeof files}`);
  }
  files.forEach((f, i) => {
    if (f === null || typeof f !== 'object' || typeof f[Symbol.asyncIterator] !== 'function') {
      throw new CryptoArgumentError(`files[${i}]: expected an AsyncIterable<Uint8Array>`);
    }
  });
  const random = o.random ?? ((n: number) => sodium().randombytes_buf(n));
  const content = LENGTH_PREFIX + manifestBytes.length + manifest.files.reduce((a, f) => a + f.size, 0);
  const length = envelopeLength(recipients.length, content);
  const padded = paddedLength(content);

  // Randomness and stanzas are drawn now, not lazily, so a bad recipient key fails at the call.
  const fileKey = _abytes('random(32)', random(FILE_KEY_LENGTH), FILE_KEY_LENGTH).slice();
  const stanzas = recipients.map((r, i) => _sealStanza(fileKey, r, _abytes(`random(32) for recipients[${i}]`, random(32), 32)));
  const header = concatBytes(MAGIC, Uint8Array.of(VERSION, recipients.length), ...stanzas, _keyCommitment(fileKey));
  const aes = o.aes;

  async function* stream(): AsyncGenerator<Uint8Array> {
    yield header;
    const cipher = await _chunkCipher(_payloadKey(fileKey), _headerDigest(header), aes);
    fileKey.fill(0);
    const buf = new Uint8Array(CHUNK_SIZE);
    let fill = 0;
    let sealed = 0; // plaintext bytes already sealed
    let index = 0;
    for await (const piece of _plaintextPieces(manifestBytes, manifest, files, padded - content)) {
      for (let off = 0; off < piece.length; ) {
        const k = Math.min(CHUNK_SIZE - fill, piece.length - off);
        if (k === 0) throw new Error('internal: plaintext longer than its padded length');
        buf.set(piece.subarray(off, off + k), fill);
        fill += k;
        off += k;
        // A full buffer is sealed at once unless it is the final chunk, which must carry the last flag.
        if (fill === CHUNK_SIZE && sealed + fill < padded) {
          yield await cipher.seal(index++, false, buf);
          sealed += fill;
          fill = 0;
        }
      }
    }
    if (sealed + fill !== padded || fill === 0) throw new Error('internal: plaintext length mismatch');
    yield await cipher.seal(index, true, buf.subarray(0, fill));
  }
  return { length, stream: stream() };
}

/**
 * Decrypts a stream of pieces of any size. Events come out as soon as the chunk carrying them authenticates, so a
 * consumer MUST treat data as provisional until 'end' (and delete partial output on any error): a truncated or
 * tampered envelope is only known to be so when the stream gets there.
 */
export async function* decryptEnvelope(
  input: AsyncIterable<Uint8Array>,
  identity: Identity,
  opts?: { aes?: AesBackend },
): AsyncGenerator<DecryptEvent> {
  _checkIdentity(identity);
  const r = new _ByteReader(input);
  try {
    // ---- header ----
    await r.fill(FIXED_HEADER_LENGTH);
    if (r.buffered < FIXED_HEADER_LENGTH) {
      const got = r.take(r.buffered);
      if (!equalBytes(got, MAGIC.subarray(0, Math.min(got.length, MAGIC.length)))) {
        throw new MalformedEnvelopeError('not a Tipline envelope (bad magic)');
      }
      throw new TruncatedError(`input ended inside the header after ${got.length} bytes`);
    }
    const fixed = r.take(FIXED_HEADER_LENGTH);
    const n = _parseFixedHeader(fixed, (m) => new MalformedEnvelopeError(m));
    const rest = n * STANZA_LENGTH + COMMITMENT_LENGTH;
    await r.fill(rest);
    if (r.buffered < rest) throw new TruncatedError('input ended inside the recipient stanzas or the key commitment');
    const stanzas = r.take(n * STANZA_LENGTH);
    const commitment = r.take(COMMITMENT_LENGTH);
    const header = concatBytes(fixed, stanzas, commitment);
    // Checked before any chunk: a key the header does not commit to is a KeyCommitmentError, never "tampered".
    const fileKey = _openStanzas(stanzas, commitment, identity);
    const cipher = await _chunkCipher(_payloadKey(fileKey), _headerDigest(header), opts?.aes);
    fileKey.fill(0);

    // ---- chunks ----
    const parser = new _PayloadParser();
    for (let index = 0; ; index++) {
      let last: boolean;
      let pt: Uint8Array | undefined;
      if (parser.paddedLength === undefined) {
        // Manifest not read yet: the last chunk is the one the input ends with. Look one byte past a full chunk.
        await r.fill(CHUNK_CT_SIZE + 1);
        if (r.buffered === 0) throw new TruncatedError(`input ended before the final chunk (after ${index} chunks)`);
        last = r.buffered <= CHUNK_CT_SIZE;
        const ct = r.take(last ? r.buffered : CHUNK_CT_SIZE);
        pt = await cipher.open(index, last, ct);
        if (!pt) {
          // Classify the failure precisely when the other flag proves what happened.
          const other = ct.length > TAG_LENGTH ? await cipher.open(index, !last, ct) : undefined;
          if (other && last) throw new TruncatedError(`input ended after chunk ${index}, which is not the final chunk`);
          if (other && !last) throw new MalformedEnvelopeError(`trailing data after the final chunk ${index}`);
          if (last && ct.length <= TAG_LENGTH) throw new TruncatedError('input ended inside a chunk');
          throw new TamperedError(`chunk ${index} failed authentication`);
        }
      } else {
        // Manifest read: the exact framing of every remaining chunk is known.
        const padded = parser.paddedLength;
        const chunkCount = Math.ceil(padded / CHUNK_SIZE);
        if (index >= chunkCount) throw new MalformedEnvelopeError('more chunks than the manifest implies');
        last = index === chunkCount - 1;
        const want = last ? padded - (chunkCount - 1) * CHUNK_SIZE + TAG_LENGTH : CHUNK_CT_SIZE;
        await r.fill(want);
        if (r.buffered < want) {
          throw new TruncatedError(`input ended inside chunk ${index} of ${chunkCount}`);
        }
        const ct = r.take(want);
        pt = await cipher.open(index, last, ct);
        if (!pt) {
          if (await cipher.open(index, !last, ct)) {
            throw new MalformedEnvelopeError(`chunk ${index}'s last-chunk flag disagrees with the manifest's length`);
          }
          throw new TamperedError(`chunk ${index} failed authentication`);
        }
      }
      if (pt.length === 0) throw new MalformedEnvelopeError(`chunk ${index} is empty`);
      if (!last && pt.length !== CHUNK_SIZE) throw new MalformedEnvelopeError(`chunk ${index} is short but not final`);
      const events: DecryptEvent[] = [];
      parser.push(pt, events);
      if (!last && parser.paddedLength !== undefined && parser.consumed >= parser.paddedLength) {
        throw new MalformedEnvelopeError(`chunk ${index} completes the payload but is not flagged final`);
      }
      if (last) parser.finish();
      yield* events;
      if (last) break;
    }
    await r.fill(1);
    if (r.buffered > 0) throw new MalformedEnvelopeError('trailing data after the final chunk');
    yield { kind: 'end' };
  } finally {
    await r.close();
  }
}
