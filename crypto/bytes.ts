// Byte helpers on plain Uint8Array (no Node Buffer: this module runs unchanged in the browser).
// Every decoder accepts only the canonical encoding, so one byte string has exactly one text form; the key
// material and documents compared as strings elsewhere depend on that.
import { _abytes, _astring } from './_guard.js';
import { EncodingError } from './errors.js';

export function concatBytes(...a: Uint8Array[]): Uint8Array {
  let len = 0;
  a.forEach((x, i) => (len += _abytes(`concatBytes[${i}]`, x).length));
  const out = new Uint8Array(len);
  let off = 0;
  for (const x of a) {
    out.set(x, off);
    off += x.length;
  }
  return out;
}

/**
 * Constant-time for equal lengths: no early exit, so comparing a secret (a MAC, a mailbox tag) leaks nothing
 * through timing. Lengths are treated as public.
 */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  _abytes('a', a);
  _abytes('b', b);
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

const encoder = new TextEncoder();
// fatal: invalid UTF-8 is an error, not U+FFFD, so two byte strings never decode to the same text.
// ignoreBOM: keep a leading U+FEFF rather than silently dropping bytes.
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

// String.prototype.isWellFormed is ES2024 and missing from Tor Browser 13 (Firefox 115 ESR).
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export function utf8Encode(s: string): Uint8Array {
  _astring('s', s);
  // A lone surrogate would be encoded as U+FFFD: two different strings, one byte string.
  if (LONE_SURROGATE.test(s)) throw new EncodingError('string contains a lone surrogate');
  return encoder.encode(s);
}

export function utf8Decode(b: Uint8Array): string {
  _abytes('b', b);
  try {
    return decoder.decode(b);
  } catch {
    throw new EncodingError('invalid UTF-8');
  }
}

// ---- base64 (RFC 4648 §4) and base64url (§5) ----

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

function reverse(alphabet: string): Int16Array {
  const r = new Int16Array(128).fill(-1);
  for (let i = 0; i < alphabet.length; i++) r[alphabet.charCodeAt(i)] = i;
  return r;
}
const B64_REV = reverse(B64);
const B64URL_REV = reverse(B64URL);

function encode64(b: Uint8Array, alphabet: string, pad: boolean): string {
  let out = '';
  let i = 0;
  for (; i + 2 < b.length; i += 3) {
    const n = (b[i]! << 16) | (b[i + 1]! << 8) | b[i + 2]!;
    out += alphabet[n >> 18]! + alphabet[(n >> 12) & 63]! + alphabet[(n >> 6) & 63]! + alphabet[n & 63]!;
  }
  const rest = b.length - i;
  if (rest === 1) {
    const n = b[i]! << 16;
    out += alphabet[n >> 18]! + alphabet[(n >> 12) & 63]! + (pad ? '==' : '');
  } else if (rest === 2) {
    const n = (b[i]! << 16) | (b[i + 1]! << 8);
    out += alphabet[n >> 18]! + alphabet[(n >> 12) & 63]! + alphabet[(n >> 6) & 63]! + (pad ? '=' : '');
  }
  return out;
}

function decode64(s: string, rev: Int16Array, pad: boolean, what: string): Uint8Array {
  let body = s;
  if (pad) {
    if (s.length % 4 !== 0) throw new EncodingError(`${what}: length ${s.length} is not a multiple of 4`);
    if (s.endsWith('==')) body = s.slice(0, -2);
    else if (s.endsWith('=')) body = s.slice(0, -1);
  }
  if (body.length % 4 === 1) throw new EncodingError(`${what}: impossible length ${body.length}`);
  const out = new Uint8Array(Math.floor((body.length * 3) / 4));
  let acc = 0;
  let bits = 0;
  let o = 0;
  for (let i = 0; i < body.length; i++) {
    const c = body.charCodeAt(i);
    const v = c < 128 ? rev[c]! : -1;
    if (v < 0) throw new EncodingError(`${what}: invalid character at position ${i}`);
    acc = ((acc << 6) | v) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
  }
  // Canonical form: the unused low bits of the last character must be zero ("QQ==" not "QR==").
  if ((acc & ((1 << bits) - 1)) !== 0) throw new EncodingError(`${what}: non-canonical trailing bits`);
  return out;
}

export function toBase64(b: Uint8Array): string {
  return encode64(_abytes('b', b), B64, true);
}
export function fromBase64(s: string): Uint8Array {
  return decode64(_astring('s', s), B64_REV, true, 'base64');
}
export function toBase64Url(b: Uint8Array): string {
  return encode64(_abytes('b', b), B64URL, false);
}
export function fromBase64Url(s: string): Uint8Array {
  return decode64(_astring('s', s), B64URL_REV, false, 'base64url');
}

// ---- hex ----

const HEX = '0123456789abcdef';

export function toHex(b: Uint8Array): string {
  _abytes('b', b);
  let out = '';
  for (let i = 0; i < b.length; i++) out += HEX[b[i]! >> 4]! + HEX[b[i]! & 15]!;
  return out;
}

export function fromHex(s: string): Uint8Array {
  _astring('s', s);
  if (s.length % 2 !== 0) throw new EncodingError(`hex: odd length ${s.length}`);
  if (!/^[0-9a-fA-F]*$/.test(s)) throw new EncodingError('hex: invalid character');
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16);
  return out;
}

// ---- base32 (RFC 4648 §6), lowercase, unpadded: for fingerprints read aloud and typed by hand ----

const B32 = 'abcdefghijklmnopqrstuvwxyz234567';

export function toBase32(b: Uint8Array): string {
  _abytes('b', b);
  let out = '';
  let acc = 0;
  let bits = 0;
  for (let i = 0; i < b.length; i++) {
    acc = ((acc << 8) | b[i]!) & 0xfff; // keep at most 12 bits: never overflows
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += B32[(acc >> bits) & 31]!;
    }
  }
  if (bits > 0) out += B32[(acc << (5 - bits)) & 31]!;
  return out;
}

export function fromBase32(s: string): Uint8Array {
  _astring('s', s);
  const lower = s.toLowerCase();
  // Lengths 1, 3 and 6 mod 8 cannot come from whole bytes.
  if ([1, 3, 6].includes(lower.length % 8)) throw new EncodingError(`base32: impossible length ${s.length}`);
  const out = new Uint8Array(Math.floor((lower.length * 5) / 8));
  let acc = 0;
  let bits = 0;
  let o = 0;
  for (let i = 0; i < lower.length; i++) {
    const v = B32.indexOf(lower[i]!);
    if (v < 0) throw new EncodingError(`base32: invalid character at position ${i}`);
    acc = ((acc << 5) | v) & 0x3ff;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
  }
  if ((acc & ((1 << bits) - 1)) !== 0) throw new EncodingError('base32: non-canonical trailing bits');
  return out;
}
