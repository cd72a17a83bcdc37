// Header layout and the pure size functions (FORMAT.md §Header, §Sizes). No keys, no I/O: the server uses
// checkFraming to refuse an upload that cannot be an envelope before storing a byte of it.
import { _abytes } from '../_guard.js';
import { utf8Encode } from '../bytes.js';
import { CryptoArgumentError, FramingError } from '../errors.js';
import { isPadme, padme } from '../padme.js';

export const MAGIC = utf8Encode('tipline'); // 7 bytes
export const VERSION = 0x02;
export const FIXED_HEADER_LENGTH = 9; // magic(7) | version(1) | stanza count(1)
export const STANZA_LENGTH = 80; // epk(32) | crypto_box_easy(K)(32 + 16)
export const COMMITMENT_LENGTH = 32; // BLAKE2b-256(key = K, ...), after the stanzas
export const MIN_STANZAS = 1;
export const MAX_STANZAS = 64;
export const CHUNK_SIZE = 65536; // plaintext bytes per chunk; the final chunk holds 1..CHUNK_SIZE
export const TAG_LENGTH = 16; // AES-GCM tag
export const CHUNK_CT_SIZE = CHUNK_SIZE + TAG_LENGTH;
export const LENGTH_PREFIX = 4; // u32 BE manifest length
export const MAX_MANIFEST_LENGTH = 1024 * 1024;
/**
 * Every payload is padded to at least one full chunk before Padmé. Threat: Padmé alone shows a short tip's length
 * to within a few bytes (100 characters pad to 144); below 64 KiB every tip now looks the same.
 */
export const MIN_PADDED_LENGTH = CHUNK_SIZE;

function stanzaCountArg(n: number): void {
  if (!Number.isInteger(n) || n < MIN_STANZAS || n > MAX_STANZAS) {
    throw new CryptoArgumentError(`stanzaCount: expected an integer in ${MIN_STANZAS}..${MAX_STANZAS}, got ${n}`);
  }
}

export function headerLength(stanzaCount: number): number {
  stanzaCountArg(stanzaCount);
  return FIXED_HEADER_LENGTH + STANZA_LENGTH * stanzaCount + COMMITMENT_LENGTH;
}

/** The padded plaintext length |P| for an unpadded content length: Padmé of at least MIN_PADDED_LENGTH. */
export function paddedLength(contentLen: number): number {
  if (!Number.isSafeInteger(contentLen) || contentLen < LENGTH_PREFIX) {
    throw new CryptoArgumentError(`contentLen: expected a safe integer >= ${LENGTH_PREFIX}, got ${contentLen}`);
  }
  return padme(Math.max(contentLen, MIN_PADDED_LENGTH));
}

/** Total envelope length for a payload whose unpadded plaintext (length prefix + manifest + files) is contentLen. */
export function envelopeLength(stanzaCount: number, contentLen: number): number {
  const header = headerLength(stanzaCount);
  const padded = paddedLength(contentLen);
  const total = header + padded + TAG_LENGTH * Math.ceil(padded / CHUNK_SIZE);
  if (!Number.isSafeInteger(total)) throw new CryptoArgumentError(`contentLen ${contentLen} is too large`);
  return total;
}

/** The shortest envelope there is: one stanza and one full chunk. Anything shorter is refused unread. */
export const MIN_ENVELOPE_LENGTH = FIXED_HEADER_LENGTH + STANZA_LENGTH + COMMITMENT_LENGTH + CHUNK_CT_SIZE;

/**
 * Reads magic, version and stanza count from the first 9 bytes. `fail` picks the error class: FramingError on
 * the server, MalformedEnvelopeError in the decoder.
 */
export function _parseFixedHeader(b: Uint8Array, fail: (m: string) => Error): number {
  if (b.length < FIXED_HEADER_LENGTH) throw fail(`need ${FIXED_HEADER_LENGTH} header bytes, got ${b.length}`);
  for (let i = 0; i < MAGIC.length; i++) {
    if (b[i] !== MAGIC[i]) throw fail('not a Tipline envelope (bad magic)');
  }
  const version = b[7]!;
  if (version === 0x01) {
    // Version 1 was never deployed; it lacked key commitment and the minimum size, so it is not read at all.
    throw fail('envelope version 1 is no longer accepted (version 2 adds key commitment and a 64 KiB minimum size): send it again with a current client');
  }
  if (version !== VERSION) throw fail(`unsupported envelope version ${version} (this decoder reads version ${VERSION})`);
  const n = b[8]!;
  if (n < MIN_STANZAS || n > MAX_STANZAS) {
    throw fail(`stanza count ${n} is outside ${MIN_STANZAS}..${MAX_STANZAS}`);
  }
  return n;
}

export interface Framing {
  stanzaCount: number;
  headerLength: number;
  paddedLength: number; // P: plaintext length including padding
  chunkCount: number;
}

/**
 * Keyless check that `prefix` (the first bytes of an upload, at least the whole header) and `totalLength` can be
 * a v2 envelope: the only lengths accepted are those an honest encoder produces, so a flooder cannot store
 * arbitrary-sized blobs and every stored size is a Padmé size of at least 64 KiB (threat: exact sizes
 * identifying a document, or a short tip's length showing).
 */
export function checkFraming(prefix: Uint8Array, totalLength: number): Framing {
  _abytes('prefix', prefix);
  if (!Number.isSafeInteger(totalLength) || totalLength < 0) {
    throw new CryptoArgumentError(`totalLength: expected a non-negative safe integer, got ${totalLength}`);
  }
  const fail = (m: string) => new FramingError(m);
  const stanzaCount = _parseFixedHeader(prefix, fail);
  const header = headerLength(stanzaCount);
  if (prefix.length < header) {
    throw fail(`prefix holds ${prefix.length} bytes but the header of ${stanzaCount} stanzas is ${header}`);
  }
  // Invert envelopeLength: C = ciphertext after the header, all chunks full (CHUNK_CT_SIZE) except the last.
  const c = totalLength - header;
  const minimum = MIN_PADDED_LENGTH + TAG_LENGTH;
  if (c < minimum) {
    throw fail(`length ${totalLength} is below the minimum envelope size: ${stanzaCount} stanza(s) need ${header + minimum} bytes (a payload is padded to at least ${MIN_PADDED_LENGTH})`);
  }
  const chunkCount = Math.ceil(c / CHUNK_CT_SIZE);
  const lastChunk = c - (chunkCount - 1) * CHUNK_CT_SIZE;
  if (lastChunk < TAG_LENGTH + 1) {
    throw fail(`length ${totalLength} would leave a final chunk of ${lastChunk} bytes (it must hold plaintext)`);
  }
  const padded = c - TAG_LENGTH * chunkCount;
  if (padded < MIN_PADDED_LENGTH || !isPadme(padded)) {
    throw fail(`length ${totalLength} is not an envelope length (padded plaintext ${padded} is not a Padmé size)`);
  }
  return { stanzaCount, headerLength: header, paddedLength: padded, chunkCount };
}
