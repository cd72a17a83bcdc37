// Proof-of-work (PROTOCOL.md §Proof of work): the challenge token the server issues and checks, the hash, and
// the solver the clients run. Pure: the secret, the clock and the randomness are arguments, so the server, the
// CLI, the page and the test vectors share one implementation. WebCrypto is computation, not I/O.
//
// The challenge is stateless (MAC'd, no row until a solution is redeemed): it answers flooders, who cannot be
// rate-limited by address because all Tor traffic arrives from 127.0.0.1.
//
// Version 3 hashes with PBKDF2-HMAC-SHA256 through WebCrypto, POW_ITERATIONS iterations per attempt: the inner
// loop is the browser's native code even at Tor Browser's "Safer" level (no JIT, no WebAssembly), so a source
// hashes about as fast as a flooder's native code. Version 2's BLAKE2b ran there as interpreted JavaScript,
// about 200 times slower than native.
import { _abytes, _astring } from './_guard.js';
import { _frame, _u64 } from './_frame.js';
import { equalBytes, fromBase64Url, toBase64Url, utf8Encode } from './bytes.js';
import { CryptoArgumentError } from './errors.js';
import { sodium } from './sodium.js';

export const POW_TOKEN_VERSION = 3;
/** version (1) | expires, u64 BE unix seconds (8) | difficulty (1) | size, u48 BE bytes (6) | id (16) | MAC (16) */
export const POW_TOKEN_BYTES = 48;
/** The token as sent: unpadded base64url of the 48 bytes (no unused bit, so no second spelling). */
export const POW_TOKEN_CHARS = 64;
export const POW_ID_BYTES = 16;
export const POW_MAC_BYTES = 16;
export const POW_SECRET_BYTES = 32;
const BODY_BYTES = POW_TOKEN_BYTES - POW_MAC_BYTES;
/** Leading zero bits; the wire schema allows no more. */
export const POW_MAX_DIFFICULTY = 32;
/**
 * PBKDF2 iterations per attempt. Large enough that the browser's per-call overhead (interpreted glue at Safer,
 * ~0.2 ms) is hidden behind the hashing of the calls in flight (measured: 10-20 % faster than 1024 on two
 * cores, more on more); small enough that a server checking a wrong nonce pays about half a millisecond of
 * CPU, no more than handling the request itself (SECURITY.md §Flooding has the figures).
 */
export const POW_ITERATIONS = 2048;
/** Uploads up to this many bytes (one default chunk) cost no extra bit; each 4× beyond costs one. */
export const POW_FREE_BYTES = 1024 * 1024;
/** The largest size a token can carry (u48). */
export const POW_SIZE_MAX = 2 ** 48 - 1;
/** Most bits a server adds under load; clients budget for it (client/shared/api.ts caps what they attempt). */
export const POW_MAX_LOAD_BITS = 4;
/** The most base difficulty clients accept (server config refuses more): the default 11 may be doubled twice. */
export const POW_MAX_BASE_DIFFICULTY = 13;
export const POW_TTL_SECONDS = 600;
/** Expiry is rounded up to this many seconds: the redeemed row keeps it and must not pin the moment of a tip. */
export const POW_EXPIRY_GRANULARITY_SECONDS = 600;
/** A solution nonce: a decimal counter of 1..16 digits (the solver never needs more). */
export const POW_NONCE_RE = /^[0-9]{1,16}$/;
/** Attempts a solver keeps in flight unless told otherwise: the browser and Node run them on other threads. */
export const POW_DEFAULT_IN_FLIGHT = 8;
// powHash accepts any short ASCII token so benches can hash synthetic tokens; the checker admits only 64 chars.
const POW_HASH_TOKEN_MAX = 128;

const HASH_DOMAIN = utf8Encode('tipline pow v3');
const MAC_DOMAIN = utf8Encode('tipline pow token v3');

export interface PowTokenFields {
  /** Unix seconds; the token is valid up to and including this second. */
  expires: number;
  difficulty: number;
  /** The most envelope bytes an upload opened with this token's solution may claim (what it was priced for). */
  size: number;
  /** 16 random bytes: what the server records when the solution is redeemed, so it is used once. */
  id: Uint8Array;
}

/** What `GET /api/v1/pow` answers (the shape of schema/wire.ts PowChallenge, less chunk_size). */
export interface PowChallengeFields {
  token: string;
  difficulty: number;
  expires_in: number;
  size: number;
}

export type PowRejectReason = 'malformed' | 'not_ours' | 'expired' | 'too_small' | 'too_easy' | 'wrong_solution';

export type PowVerdict =
  | { ok: true; id: string /* base64url of the 16-byte id, the key to record it as spent */; expires: number; difficulty: number; size: number }
  | { ok: false; reason: PowRejectReason; message: string };

function checkSecret(secret: Uint8Array): void {
  _abytes('secret', secret, POW_SECRET_BYTES);
}

function checkDifficulty(d: number): void {
  if (!Number.isInteger(d) || d < 0 || d > POW_MAX_DIFFICULTY) {
    throw new CryptoArgumentError(`difficulty: expected an integer 0..${POW_MAX_DIFFICULTY}, got ${String(d)}`);
  }
}

function checkSize(name: string, size: number): void {
  if (!Number.isSafeInteger(size) || size < 1 || size > POW_SIZE_MAX) throw new CryptoArgumentError(`${name}: expected an integer 1..2^48-1, got ${String(size)}`);
}

// An invalid Date compares false with everything: "expired?" would answer no.
function checkNow(now: Date): number {
  const ms = now instanceof Date ? now.getTime() : NaN;
  if (!Number.isFinite(ms) || ms < 0) throw new CryptoArgumentError('now: expected a valid Date');
  return ms;
}

/** Extra leading zero bits an upload of `size` bytes costs: 0 up to POW_FREE_BYTES, then one per 4× (so the
 * work grows about as the square root of the size, and stays small next to the time the bytes take over Tor). */
export function powSizeBits(size: number): number {
  checkSize('size', size);
  let bits = 0;
  for (let cap = POW_FREE_BYTES; size > cap; cap *= 4) bits++;
  return bits;
}

/** The size a challenge priced for `size` bytes binds: the top of its price class, so any size that costs as
 * much is covered by the same token. */
export function powPricedBytes(size: number): number {
  return Math.min(POW_FREE_BYTES * 4 ** powSizeBits(size), POW_SIZE_MAX);
}

function mac(secret: Uint8Array, body: Uint8Array): Uint8Array {
  return sodium().crypto_generichash(POW_MAC_BYTES, _frame(MAC_DOMAIN, body), secret);
}

/** The token's 48 bytes, base64url. */
export function encodePowToken(fields: PowTokenFields, secret: Uint8Array): string {
  checkSecret(secret);
  checkDifficulty(fields.difficulty);
  checkSize('size', fields.size);
  _abytes('id', fields.id, POW_ID_BYTES);
  const body = new Uint8Array(BODY_BYTES);
  const view = new DataView(body.buffer);
  body[0] = POW_TOKEN_VERSION;
  body.set(_u64('expires', fields.expires), 1);
  body[9] = fields.difficulty;
  view.setUint16(10, Math.floor(fields.size / 2 ** 32));
  view.setUint32(12, fields.size % 2 ** 32);
  body.set(fields.id, 16);
  const out = new Uint8Array(POW_TOKEN_BYTES);
  out.set(body);
  out.set(mac(secret, body), BODY_BYTES);
  return toBase64Url(out);
}

/**
 * A challenge for an upload of up to `size` bytes (the caller adds powSizeBits(size) and any load bits to its
 * base difficulty; this only binds them). Expiry: now + TTL, rounded up to the granularity. `expires_in`
 * counts from `now`'s whole second.
 */
export function issuePowChallenge(
  secret: Uint8Array,
  difficulty: number,
  size: number,
  now: Date,
  random: (n: number) => Uint8Array = (n) => sodium().randombytes_buf(n),
): PowChallengeFields {
  const ms = checkNow(now);
  const nowS = Math.floor(ms / 1000);
  const g = POW_EXPIRY_GRANULARITY_SECONDS;
  const expires = Math.ceil((ms / 1000 + POW_TTL_SECONDS) / g) * g;
  const id = _abytes('random(16)', random(POW_ID_BYTES), POW_ID_BYTES);
  return { token: encodePowToken({ expires, difficulty, size, id }, secret), difficulty, expires_in: expires - nowS, size };
}

type Decoded = { ok: true; fields: PowTokenFields } | { ok: false; reason: 'malformed' | 'not_ours'; message: string };

const MALFORMED = { ok: false, reason: 'malformed', message: 'proof-of-work token is malformed' } as const;

/** Decodes a token and checks its MAC; says nothing about expiry, size or difficulty. */
export function decodePowToken(token: string, secret: Uint8Array): Decoded {
  checkSecret(secret);
  // Length first: a hostile token is never decoded or MAC'd beyond 64 characters.
  if (typeof token !== 'string' || token.length !== POW_TOKEN_CHARS) return MALFORMED;
  let raw: Uint8Array;
  try {
    raw = fromBase64Url(token);
  } catch {
    return MALFORMED;
  }
  if (raw.length !== POW_TOKEN_BYTES) return MALFORMED;
  if (raw[0] !== POW_TOKEN_VERSION) {
    return { ok: false, reason: 'malformed', message: `proof-of-work token version ${raw[0]} is not ${POW_TOKEN_VERSION}; fetch a new challenge` };
  }
  const body = raw.subarray(0, BODY_BYTES);
  if (!equalBytes(mac(secret, body), raw.subarray(BODY_BYTES))) {
    return { ok: false, reason: 'not_ours', message: 'proof-of-work token was not issued by this server' };
  }
  const view = new DataView(raw.buffer, raw.byteOffset);
  const expires = view.getBigUint64(1);
  const difficulty = raw[9]!;
  const size = view.getUint16(10) * 2 ** 32 + view.getUint32(12);
  // Authentic yet out of range: only a server with another limit (or a bug) could have issued it.
  if (expires > BigInt(Number.MAX_SAFE_INTEGER) || difficulty > POW_MAX_DIFFICULTY || size === 0) return MALFORMED;
  return { ok: true, fields: { expires: Number(expires), difficulty, size, id: raw.slice(16, 16 + POW_ID_BYTES) } };
}

function subtle(): SubtleCrypto {
  const s = (globalThis as { crypto?: { subtle?: SubtleCrypto } }).crypto?.subtle;
  if (!s) throw new CryptoArgumentError('proof-of-work needs WebCrypto (crypto.subtle): a secure context in a browser, Node 20 or later');
  return s;
}

// One-entry memo: a solver (or a bench) hashes one token with many nonces; the key is the token itself.
let memo: { token: string; key: Promise<CryptoKey> } | undefined;

function tokenKey(token: string): Promise<CryptoKey> {
  if (memo?.token === token) return memo.key;
  _astring('token', token);
  if (token.length === 0 || token.length > POW_HASH_TOKEN_MAX || !/^[\x21-\x7e]+$/.test(token)) {
    throw new CryptoArgumentError(`token: expected 1..${POW_HASH_TOKEN_MAX} printable ASCII characters`);
  }
  const key = subtle().importKey('raw', utf8Encode(token) as Uint8Array<ArrayBuffer>, 'PBKDF2', false, ['deriveBits']);
  key.catch(() => {}); // awaited by every caller; a failed import must not surface unhandled as well
  memo = { token, key };
  return key;
}

/** frame("tipline pow v3", nonce): the PBKDF2 salt. The nonce is 1..16 ASCII digits (checked by the callers). */
function salt(nonce: string): Uint8Array {
  const d = HASH_DOMAIN.length;
  const out = new Uint8Array(4 + d + 4 + nonce.length);
  out[3] = d;
  out.set(HASH_DOMAIN, 4);
  out[4 + d + 3] = nonce.length;
  for (let i = 0; i < nonce.length; i++) out[8 + d + i] = nonce.charCodeAt(i);
  return out;
}

async function hashWithKey(key: CryptoKey, nonce: string): Promise<Uint8Array> {
  const params = { name: 'PBKDF2', hash: 'SHA-256', salt: salt(nonce), iterations: POW_ITERATIONS };
  return new Uint8Array(await subtle().deriveBits(params, key, 256));
}

function checkNonce(nonce: string): void {
  _astring('nonce', nonce);
  if (!POW_NONCE_RE.test(nonce)) throw new CryptoArgumentError('nonce: expected 1..16 decimal digits');
}

/** PBKDF2-HMAC-SHA256(password = token (64 ASCII bytes), salt = frame("tipline pow v3", nonce), 2048, 32 bytes). */
export async function powHash(token: string, nonce: string): Promise<Uint8Array> {
  checkNonce(nonce);
  return hashWithKey(await tokenKey(token), nonce);
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
export async function powSolves(token: string, nonce: string, difficulty: number): Promise<boolean> {
  checkDifficulty(difficulty);
  return leadingZeroBits(await powHash(token, nonce)) >= difficulty;
}

export interface SolveOptions {
  /** Attempts in flight at once (default POW_DEFAULT_IN_FLIGHT). */
  inFlight?: number;
  /** Called after each attempt with the number made so far (progress, benches). */
  onAttempt?(attempts: number): void;
}

/**
 * Finds the smallest decimal counter whose hash has `difficulty` leading zero bits, with several attempts in
 * flight: counters are started in order, and once one solves, the smaller ones still running are awaited, so the
 * answer is the same whatever the parallelism (the test vectors rely on it). Expected work: 2^difficulty attempts.
 */
export async function solvePow(token: string, difficulty: number, o: SolveOptions = {}): Promise<string> {
  checkDifficulty(difficulty);
  const inFlight = o.inFlight ?? POW_DEFAULT_IN_FLIGHT;
  if (!Number.isInteger(inFlight) || inFlight < 1 || inFlight > 256) throw new CryptoArgumentError(`inFlight: expected an integer 1..256, got ${String(inFlight)}`);
  const key = await tokenKey(token);
  let next = 0;
  let best = Infinity;
  let attempts = 0;
  const lane = async (): Promise<void> => {
    while (next < best) {
      const n = next++;
      const solved = leadingZeroBits(await hashWithKey(key, String(n))) >= difficulty;
      o.onAttempt?.(++attempts);
      if (solved && n < best) best = n;
    }
  };
  await Promise.all(Array.from({ length: inFlight }, lane));
  return String(best);
}

/**
 * Everything a checker decides before hashing, in this order: shape, MAC, expiry, size, difficulty. The cheap
 * checks come first, and a forged token costs one MAC. `claimedSize`: the envelope bytes of the upload the
 * solution would open; `minDifficulty`: the server's base difficulty, to which the size's bits are added.
 */
export function checkPowToken(secret: Uint8Array, minDifficulty: number, solution: { token: string; nonce: string }, now: Date, claimedSize: number): PowVerdict {
  checkDifficulty(minDifficulty);
  checkSize('claimedSize', claimedSize);
  const nowMs = checkNow(now);
  if (typeof solution?.nonce !== 'string' || !POW_NONCE_RE.test(solution.nonce)) {
    return { ok: false, reason: 'malformed', message: 'proof-of-work nonce must be 1..16 decimal digits' };
  }
  const d = decodePowToken(solution.token, secret);
  if (!d.ok) return d;
  const { expires, difficulty, size, id } = d.fields;
  if (expires * 1000 < nowMs) {
    return { ok: false, reason: 'expired', message: 'proof-of-work challenge has expired; fetch a new one' };
  }
  if (claimedSize > size) {
    return { ok: false, reason: 'too_small', message: `proof-of-work challenge was priced for ${size} bytes, not ${claimedSize}; fetch one for this size (GET /api/v1/pow?size=${claimedSize})` };
  }
  const needed = Math.min(minDifficulty + powSizeBits(claimedSize), POW_MAX_DIFFICULTY);
  if (difficulty < needed) {
    return { ok: false, reason: 'too_easy', message: `proof-of-work challenge is too easy (${difficulty} < ${needed} bits); fetch a new one` };
  }
  return { ok: true, id: toBase64Url(id), expires, difficulty, size };
}

/** The hash check alone: one PBKDF2 of POW_ITERATIONS iterations. Call after checkPowToken accepted the token. */
export async function powSolutionHolds(token: string, nonce: string, difficulty: number): Promise<boolean> {
  return powSolves(token, nonce, difficulty);
}

/** The whole check: checkPowToken, then the hash. Recording the id as spent (single use) is the caller's. */
export async function verifyPowSolution(secret: Uint8Array, minDifficulty: number, solution: { token: string; nonce: string }, now: Date, claimedSize: number): Promise<PowVerdict> {
  const v = checkPowToken(secret, minDifficulty, solution, now, claimedSize);
  if (!v.ok) return v;
  if (!(await powSolutionHolds(solution.token, solution.nonce, v.difficulty))) {
    return { ok: false, reason: 'wrong_solution', message: 'proof-of-work solution is wrong' };
  }
  return v;
}
