// Stateless proof-of-work: the challenge is MAC'd by the server, so no row is written until a solution is
// redeemed. It answers flooders, who cannot be rate-limited by address (all Tor traffic arrives from 127.0.0.1).
import { randomBytes } from 'node:crypto';
import type { PowSolution } from '../schema/wire.js';
import { leadingZeroBits, powHash } from '../crypto/pow.js';
import { sodium } from '../crypto/sodium.js';
import { concatBytes, equalBytes, fromBase64Url, toBase32, toBase64Url, utf8Encode } from '../crypto/bytes.js';
import { AppError } from './errors.js';

const VERSION = 1;
const TOKEN_BYTES = 1 + 8 + 1 + 16 + 16; // version | expires (u64 s) | difficulty | random id | mac
export const POW_TTL_SECONDS = 600;

function mac(secret: Uint8Array, body: Uint8Array): Uint8Array {
  return sodium().crypto_generichash(16, body, secret);
}

export function issueChallenge(secret: Uint8Array, difficulty: number, now: Date): { token: string; difficulty: number; expires_in: number } {
  // Expiry rounded up to ten minutes: the redeemed row keeps it, and it should not pin the moment of a tip.
  const expires = Math.ceil((now.getTime() / 1000 + POW_TTL_SECONDS) / 600) * 600;
  const body = new Uint8Array(TOKEN_BYTES - 16);
  body[0] = VERSION;
  new DataView(body.buffer).setBigUint64(1, BigInt(expires));
  body[9] = difficulty;
  body.set(randomBytes(16), 10);
  return { token: toBase64Url(concatBytes(body, mac(secret, body))), difficulty, expires_in: expires - Math.floor(now.getTime() / 1000) };
}

/** A solution that verified: the challenge's random id (the redeemed row's key) and its expiry. */
export interface VerifiedPow {
  id: string;
  expires: Date;
}

/** Checks a solution without touching the database (a flooder's junk costs one MAC and one hash); throws an
 * AppError naming the cause. Whether it was already spent is the caller's question (server/store/pow.ts). */
export function verifySolution(secret: Uint8Array, minDifficulty: number, solution: PowSolution, now: Date): VerifiedPow {
  let raw: Uint8Array;
  try {
    raw = fromBase64Url(solution.token);
  } catch {
    throw new AppError('TIPLINE_ERR_POW_MALFORMED', 'proof-of-work token is malformed');
  }
  if (raw.length !== TOKEN_BYTES || raw[0] !== VERSION) throw new AppError('TIPLINE_ERR_POW_MALFORMED', 'proof-of-work token is malformed');
  const body = raw.subarray(0, TOKEN_BYTES - 16);
  if (!equalBytes(mac(secret, body), raw.subarray(TOKEN_BYTES - 16))) throw new AppError('TIPLINE_ERR_POW_FOREIGN', 'proof-of-work token was not issued by this server');
  const expires = Number(new DataView(raw.buffer, raw.byteOffset).getBigUint64(1));
  if (expires * 1000 < now.getTime()) throw new AppError('TIPLINE_ERR_POW_EXPIRED', 'proof-of-work challenge has expired; fetch a new one');
  const difficulty = raw[9]!;
  if (difficulty < minDifficulty) throw new AppError('TIPLINE_ERR_POW_TOO_EASY', 'proof-of-work challenge is too easy; fetch a new one');
  if (leadingZeroBits(powHash(solution.token, solution.nonce)) < difficulty) throw new AppError('TIPLINE_ERR_POW_WRONG', 'proof-of-work solution is wrong');
  return { id: toBase64Url(raw.subarray(10, 26)), expires: new Date(expires * 1000) };
}

/** The id of the upload a solution opens. Derived, not drawn, so that sending the same opening request again
 * after its answer was lost finds the same upload (or tip) instead of storing the tip twice. Keyed by the
 * server secret: nobody without the solution and the secret can compute it (upload ids are capabilities). */
export function uploadIdFor(secret: Uint8Array, pow: VerifiedPow): string {
  return toBase32(sodium().crypto_generichash(16, utf8Encode(`tipline upload id v1\n${pow.id}`), secret));
}
