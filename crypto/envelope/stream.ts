// Chunk AEAD: AES-256-GCM under the STREAM construction (Hoang, Reyhanitabar, Rogaway, Vizár 2015), as age uses
// it with ChaCha20-Poly1305. The nonce binds the chunk's position and whether it is the last one, so chunks
// cannot be reordered, dropped, duplicated, or the stream cut at a chunk boundary, without detection.
// Two interchangeable backends with byte-identical output: WebCrypto (fast; ~30 MB/s even in Tor Browser at
// "Safer") and @noble/ciphers (pure JS, for browsers without crypto.subtle). See FORMAT.md §Cipher choice.
import { gcm } from '@noble/ciphers/aes.js';
import { _abytes } from '../_guard.js';
import { utf8Encode } from '../bytes.js';
import { CryptoArgumentError } from '../errors.js';
import { sodium } from '../sodium.js';

export type AesBackend = 'webcrypto' | 'noble';
export const NONCE_LENGTH = 12;
const PAYLOAD_KEY_INFO = utf8Encode('tipline v2 payload');

/** payload key = BLAKE2b-256(key = K, message = "tipline v2 payload"): K itself is never used as a cipher key. */
export function _payloadKey(fileKey: Uint8Array): Uint8Array {
  _abytes('fileKey', fileKey, 32);
  return sodium().crypto_generichash(32, PAYLOAD_KEY_INFO, fileKey);
}

/** AAD for every chunk = BLAKE2b-256(header bytes): a removed, added or altered stanza fails every chunk. */
export function _headerDigest(header: Uint8Array): Uint8Array {
  return sodium().crypto_generichash(32, _abytes('header', header), null);
}

/** nonce = 11-byte big-endian chunk counter || last-chunk flag. */
export function _chunkNonce(index: number, last: boolean): Uint8Array {
  if (!Number.isSafeInteger(index) || index < 0) throw new CryptoArgumentError(`chunk index ${index} out of range`);
  const n = new Uint8Array(NONCE_LENGTH);
  let v = index;
  for (let i = 10; i >= 0 && v > 0; i--) {
    n[i] = v % 256; // float-safe: the index may exceed 2^32
    v = Math.floor(v / 256);
  }
  n[11] = last ? 1 : 0; // Last chunk flag.
  return n;
}

export interface ChunkCipher {
  readonly backend: AesBackend;
  seal(index: number, last: boolean, plaintext: Uint8Array): Promise<Uint8Array>;
  /** undefined when authentication fails: the caller decides which error that is. */
  open(index: number, last: boolean, ciphertext: Uint8Array): Promise<Uint8Array | undefined>;
}

/** WebCrypto's BufferSource wants an ArrayBuffer-backed view (not a SharedArrayBuffer one). */
function ab(u: Uint8Array): Uint8Array<ArrayBuffer> {
  return u.buffer instanceof ArrayBuffer ? (u as Uint8Array<ArrayBuffer>) : new Uint8Array(u);
}

function subtle(): SubtleCrypto | undefined {
  return (globalThis as { crypto?: { subtle?: SubtleCrypto } }).crypto?.subtle;
}

/** WebCrypto when present, unless 'noble' is asked for; 'webcrypto' is an error where there is no crypto.subtle. */
export function _selectBackend(aes: AesBackend | undefined): AesBackend {
  if (aes !== undefined && aes !== 'webcrypto' && aes !== 'noble') {
    throw new CryptoArgumentError(`aes: expected 'webcrypto' or 'noble', got ${String(aes)}`);
  }
  if (aes === 'noble') return 'noble';
  if (subtle()) return 'webcrypto';
  if (aes === 'webcrypto') throw new CryptoArgumentError('aes: WebCrypto (crypto.subtle) is not available here');
  return 'noble';
}

export async function _chunkCipher(key: Uint8Array, aad: Uint8Array, aes?: AesBackend): Promise<ChunkCipher> {
  _abytes('key', key, 32);
  _abytes('aad', aad);
  const backend = _selectBackend(aes);
  if (backend === 'noble') {
    const k = key.slice();
    const a = aad.slice();
    return {
      backend,
      seal: async (i, last, pt) => gcm(k, _chunkNonce(i, last), a).encrypt(pt),
      open: async (i, last, ct) => {
        try {
          return gcm(k, _chunkNonce(i, last), a).decrypt(ct);
        } catch {
          return undefined;
        }
      },
    };
  }
  const s = subtle()!;
  const ck = await s.importKey('raw', ab(key.slice()), { name: 'AES-GCM' }, false, ['encrypt', 'decrypt']);
  const a = ab(aad.slice());
  const params = (i: number, last: boolean): AesGcmParams => ({
    name: 'AES-GCM',
    iv: ab(_chunkNonce(i, last)),
    additionalData: a,
    tagLength: 128,
  });
  return {
    backend,
    seal: async (i, last, pt) => new Uint8Array(await s.encrypt(params(i, last), ck, ab(pt))),
    open: async (i, last, ct) => {
      try {
        return new Uint8Array(await s.decrypt(params(i, last), ck, ab(ct)));
      } catch {
        return undefined; // OperationError: tag mismatch
      }
    },
  };
}
