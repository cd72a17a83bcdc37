// Proof-of-work (PROTOCOL.md §Proof of work): the challenge token the server issues and checks, the hash, and
// the solver the clients run. Pure: the secret, the clock and the randomness are arguments, so the server, the
// CLI, the page and the test vectors share one implementation.
//
// The challenge is stateless (MAC'd, no row until a solution is redeemed): it answers flooders, who cannot be
// rate-limited by address because all Tor traffic arrives from 127.0.0.1.
import { _abytes, _astring } from './_guard.js';
import { _frame, _u64 } from './_frame.js';
import { equalBytes, fromBase64Url, toBase64Url, utf8Encode } from './bytes.js';
import { CryptoArgumentError } from './errors.js';
import { sodium } from './sodium.js';

export const POW_TOKEN_VERSION = 2;
/** version (1) | expires, u64 BE unix seconds (8) | difficulty (1) | id (16) | MAC (16) */
export const POW_TOKEN_BYTES = 42;
/** The token as sent: unpadded base64url of the 42 bytes. */
export const POW_TOKEN_CHARS = 56;
export const POW_ID_BYTES = 16;
export const POW_MAC_BYTES = 16;
export const POW_SECRET_BYTES = 32;
/** Leading zero bits; the wire schema allows no more (2^32 hashes is already beyond any source's patience). */
export const POW_MAX_DIFFICULTY = 32;
export const POW_TTL_SECONDS = 600;
/** Expiry is rounded up to this many seconds: the redeemed row keeps it and must not pin the moment of a tip. */
export const POW_EXPIRY_GRANULARITY_SECONDS = 600;
/** A solution nonce: a decimal counter of 1..16 digits (the solver never needs more). */
export const POW_NONCE_RE = /^[0-9]{1,16}$/;
// powHash accepts any short ASCII token so benches can hash synthetic tokens; the checker admits only 56 chars.
const POW_HASH_TOKEN_MAX = 128;

const HASH_DOMAIN = utf8Encode('tipline pow v2');
const MAC_DOMAIN = utf8Encode('tipline pow token v2');

export interface PowTokenFields {
  /** Unix seconds; the token is valid up to and including this second. */
  expires: number;
  difficulty: number;
  /** 16 random bytes: what the server records when the solution is redeemed, so it is used once. */
  id: Uint8Array;
}

/** What `GET /api/v1/pow` answers (the shape of schema/wire.ts PowChallenge). */
export interface PowChallengeFields {
  token: string;
  difficulty: number;
  expires_in: number;
}

export type PowRejectReason = 'malformed' | 'not_ours' | 'expired' | 'too_easy' | 'wrong_solution';

export type PowVerdict =
  | { ok: true; id: string /* base64url of the 16-byte id, the key to record it as spent */; expires: number; difficulty: number }
  | { ok: false; reason: PowRejectReason; message: string };

function checkSecret(secret: Uint8Array): void {
  _abytes('secret', secret, POW_SECRET_BYTES);
}

function checkDifficulty(d: number): void {
  if (!Number.isInteger(d) || d < 0 || d > POW_MAX_DIFFICULTY) {
    throw new CryptoArgumentError(`difficulty: expected an integer 0..${POW_MAX_DIFFICULTY}, got ${String(d)}`);
  }
}

// An invalid Date compares false with everything: "expired?" would answer no.
function checkNow(now: Date): number {
  const ms = now instanceof Date ? now.getTime() : NaN;
  if (!Number.isFinite(ms) || ms < 0) throw new CryptoArgumentError('now: expected a valid Date');
  return ms;
}

function mac(secret: Uint8Array, body: Uint8Array): Uint8Array {
  return sodium().crypto_generichash(POW_MAC_BYTES, _frame(MAC_DOMAIN, body), secret);
}

/** The token's 42 bytes, base64url. */
export function encodePowToken(fields: PowTokenFields, secret: Uint8Array): string {
  checkSecret(secret);
  checkDifficulty(fields.difficulty);
  _abytes('id', fields.id, POW_ID_BYTES);
  const body = new Uint8Array(POW_TOKEN_BYTES - POW_MAC_BYTES);
  body[0] = POW_TOKEN_VERSION;
  body.set(_u64('expires', fields.expires), 1);
  body[9] = fields.difficulty;
  body.set(fields.id, 10);
  const out = new Uint8Array(POW_TOKEN_BYTES);
  out.set(body);
  out.set(mac(secret, body), body.length);
  return toBase64Url(out);
}

/** Expiry: now + TTL, rounded up to the granularity. `expires_in` counts from `now`'s whole second. */
export function issuePowChallenge(
  secret: Uint8Array,
  difficulty: number,
  now: Date,
  random: (n: number) => Uint8Array = (n) => sodium().randombytes_buf(n),
): PowChallengeFields {
  const ms = checkNow(now);
  const nowS = Math.floor(ms / 1000);
  const g = POW_EXPIRY_GRANULARITY_SECONDS;
  const expires = Math.ceil((ms / 1000 + POW_TTL_SECONDS) / g) * g;
  const id = _abytes('random(16)', random(POW_ID_BYTES), POW_ID_BYTES);
  return { token: encodePowToken({ expires, difficulty, id }, secret), difficulty, expires_in: expires - nowS };
}

type Decoded = { ok: true; fields: PowTokenFields } | { ok: false; reason: 'malformed' | 'not_ours'; message: string };

/** Decodes a token and checks its MAC; says nothing about expiry or difficulty. */
export function decodePowToken(token: string, secret: Uint8Array): Decoded {
  checkSecret(secret);
  // Length first: a hostile token is never decoded or MAC'd beyond 56 characters.
  if (typeof token !== 'string' || token.length !== POW_TOKEN_CHARS) {
    return { ok: false, reason: 'malformed', message: 'proof-of-work token is malformed' };
  }
  let raw: Uint8Array;
  try {
    raw = fromBase64Url(token);
  } catch {
    return { ok: false, reason: 'malformed', message: 'proof-of-work token is malformed' };
  }
  if (raw[0] !== POW_TOKEN_VERSION) {
    return { ok: false, reason: 'malformed', message: `proof-of-work token version ${raw[0]} is not ${POW_TOKEN_VERSION}; fetch a new challenge` };
  }
  const body = raw.subarray(0, POW_TOKEN_BYTES - POW_MAC_BYTES);
  if (!equalBytes(mac(secret, body), raw.subarray(POW_TOKEN_BYTES - POW_MAC_BYTES))) {
    return { ok: false, reason: 'not_ours', message: 'proof-of-work token was not issued by this server' };
  }
  const expires = new DataView(raw.buffer, raw.byteOffset).getBigUint64(1);
  const difficulty = raw[9]!;
  // Authentic yet out of range: only a server with another limit (or a bug) could have issued it.
  if (expires > BigInt(Number.MAX_SAFE_INTEGER) || difficulty > POW_MAX_DIFFICULTY) {
    return { ok: false, reason: 'malformed', message: 'proof-of-work token is malformed' };
  }
  return { ok: true, fields: { expires: Number(expires), difficulty, id: raw.slice(10, 10 + POW_ID_BYTES) } };
}

// One-entry memo: a solver (or a bench) hashes one token with many nonces.
let memo: { token: string; prefix: Uint8Array } | undefined;

function hashInputPrefix(token: string): Uint8Array {
  if (memo?.token === token) return memo.prefix;
  _astring('token', token);
  if (token.length === 0 || token.length > POW_HASH_TOKEN_MAX || !/^[\x21-\x7e]+$/.test(token)) {
    throw new CryptoArgumentError(`token: expected 1..${POW_HASH_TOKEN_MAX} printable ASCII characters`);
  }
  memo = { token, prefix: _frame(HASH_DOMAIN, utf8Encode(token)) };
  return memo.prefix;
}

function hashWithPrefix(prefix: Uint8Array, nonce: string): Uint8Array {
  // Equal to _frame(HASH_DOMAIN, token, nonce), written by hand: this is the solver's inner loop, interpreted at
  // Tor Browser's "Safer". The nonce is 1..16 ASCII digits (checked by the callers), so its length fits one byte.
  const p = prefix.length;
  const input = new Uint8Array(p + 4 + nonce.length);
  input.set(prefix);
  input[p + 3] = nonce.length;
  for (let i = 0; i < nonce.length; i++) input[p + 4 + i] = nonce.charCodeAt(i);
  return sodium().crypto_generichash(32, input, null);
}

function checkNonce(nonce: string): void {
  _astring('nonce', nonce);
  if (!POW_NONCE_RE.test(nonce)) throw new CryptoArgumentError('nonce: expected 1..16 decimal digits');
}

/** The solver's counter as a nonce: digits only, so hashWithPrefix may skip the check. */
const counter = (n: number): string => String(n);

/** BLAKE2b-256(frame("tipline pow v2", token, nonce)): one 128-byte block for a real token. */
export function powHash(token: string, nonce: string): Uint8Array {
  checkNonce(nonce);
  return hashWithPrefix(hashInputPrefix(token), nonce);
}

export function leadingZeroBits(h: Uint8Array): number {
  let bits = 0;
  for (const byte of h) {
    if (byte !== 0) return bits + Math.clz32(byte) - 24;
    bits += 8;
  }
  return bits;
}

/** True when the nonce's hash has at least `difficulty` leading zero bits. */
export function powSolves(token: string, nonce: string, difficulty: number): boolean {
  checkDifficulty(difficulty);
  return leadingZeroBits(powHash(token, nonce)) >= difficulty;
}

/** Finds the smallest decimal counter whose hash has `difficulty` leading zero bits. */
export function solvePow(token: string, difficulty: number): string {
  checkDifficulty(difficulty);
  const prefix = hashInputPrefix(token);
  for (let n = 0; ; n++) {
    const nonce = counter(n);
    if (leadingZeroBits(hashWithPrefix(prefix, nonce)) >= difficulty) return nonce;
  }
}

/**
 * The server's check of a solution, in this order: shape, MAC, expiry, difficulty, hash. The cheap checks come
 * first, and a forged token costs one MAC. Recording the id as spent (single use) is the caller's.
 */
export function verifyPowSolution(secret: Uint8Array, minDifficulty: number, solution: { token: string; nonce: string }, now: Date): PowVerdict {
  checkDifficulty(minDifficulty);
  const nowMs = checkNow(now);
  if (typeof solution?.nonce !== 'string' || !POW_NONCE_RE.test(solution.nonce)) {
    return { ok: false, reason: 'malformed', message: 'proof-of-work nonce must be 1..16 decimal digits' };
  }
  const d = decodePowToken(solution.token, secret);
  if (!d.ok) return d;
  const { expires, difficulty, id } = d.fields;
  if (expires * 1000 < nowMs) {
    return { ok: false, reason: 'expired', message: 'proof-of-work challenge has expired; fetch a new one' };
  }
  if (difficulty < minDifficulty) {
    return { ok: false, reason: 'too_easy', message: `proof-of-work challenge is too easy (${difficulty} < ${minDifficulty} bits); fetch a new one` };
  }
  if (leadingZeroBits(powHash(solution.token, solution.nonce)) < difficulty) {
    return { ok: false, reason: 'wrong_solution', message: 'proof-of-work solution is wrong' };
  }
  return { ok: true, id: toBase64Url(id), expires, difficulty };
}
