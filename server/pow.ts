// Stateless proof-of-work: the challenge is MAC'd by the server, so no row is written until a solution is
// redeemed. It answers flooders, who cannot be rate-limited by address (all Tor traffic arrives from 127.0.0.1).
// The price grows with the bytes an upload claims and with this process's load (PROTOCOL.md §Proof of work).
import type { PowSolution } from '../schema/wire.js';
import { POW_FREE_BYTES, POW_MAX_DIFFICULTY, POW_MAX_LOAD_BITS, checkPowToken, issuePowChallenge, powPricedBytes, powSizeBits, powSolutionHolds, type PowChallengeFields, type PowRejectReason } from '../crypto/pow.js';
import { sodium } from '../crypto/sodium.js';
import { toBase32, utf8Encode } from '../crypto/bytes.js';
import type { ErrorCode } from '../schema/errors.js';
import { AppError } from './errors.js';

export { POW_TTL_SECONDS } from '../crypto/pow.js';

/**
 * A challenge priced for an upload of `size` envelope bytes (without one: a one-chunk envelope, POW_FREE_BYTES):
 * base bits, one more per 4× of size beyond POW_FREE_BYTES, and the load surcharge (at most POW_MAX_LOAD_BITS,
 * which clients budget for). The token binds the top of the size's price class.
 */
export function issueChallenge(secret: Uint8Array, baseDifficulty: number, loadBits: number, size: number | undefined, now: Date): PowChallengeFields {
  const bytes = powPricedBytes(size ?? POW_FREE_BYTES);
  const load = Number.isFinite(loadBits) ? Math.min(Math.max(0, Math.floor(loadBits)), POW_MAX_LOAD_BITS) : 0;
  const difficulty = Math.min(baseDifficulty + powSizeBits(bytes) + load, POW_MAX_DIFFICULTY);
  return issuePowChallenge(secret, difficulty, bytes, now);
}

/** A solution that verified: the challenge's random id (the redeemed row's key) and its expiry. */
export interface VerifiedPow {
  id: string;
  expires: Date;
}

const POW_ERRORS: Record<PowRejectReason, ErrorCode> = {
  malformed: 'TIPLINE_ERR_POW_MALFORMED',
  not_ours: 'TIPLINE_ERR_POW_FOREIGN',
  expired: 'TIPLINE_ERR_POW_EXPIRED',
  too_small: 'TIPLINE_ERR_POW_TOO_SMALL',
  too_easy: 'TIPLINE_ERR_POW_TOO_EASY',
  wrong_solution: 'TIPLINE_ERR_POW_WRONG',
};

/**
 * Wrong nonces are the one check that costs real work (a PBKDF2 of 2048 iterations), and a flooder may send
 * them for free with any fresh token: each token id gets this many wrong answers, then is refused before
 * hashing. Per process and bounded (the oldest ids are forgotten first).
 */
export const POW_WRONG_PER_TOKEN = 2;
const WRONG_TRACKED = 20_000;
const wrong = new Map<string, number>();
/** Solutions that verified, by token id: a repeat (an answer lost, or a replay of a spent one) costs no hash. */
const verified = new Map<string, string>();

function remember<V>(m: Map<string, V>, k: string, v: V): void {
  m.delete(k); // re-inserted last: the map's order is the eviction order
  m.set(k, v);
  if (m.size > WRONG_TRACKED) m.delete(m.keys().next().value!);
}

/** Hashes in flight at once: PBKDF2 runs on libuv's thread pool, which fsync also needs (a committed tip waits
 * on it), so a flood of wrong nonces queues here rather than there. Past the queue: 503, try again. */
const HASHING = 2;
const HASH_QUEUE = 512;
let hashing = 0;
const waiting: (() => void)[] = [];

async function withHashSlot<T>(fn: () => Promise<T>): Promise<T> {
  if (hashing >= HASHING) {
    if (waiting.length >= HASH_QUEUE) throw new AppError('TIPLINE_ERR_BUSY', 'the tip line is busy checking proofs-of-work; try again in a moment');
    await new Promise<void>((resolve) => waiting.push(resolve));
  } else {
    hashing++;
  }
  try {
    return await fn();
  } finally {
    // The slot passes straight to the next waiter, so the count never dips below what is running.
    const next = waiting.shift();
    if (next) next();
    else hashing--;
  }
}

/** Checks a solution without touching the database (a flooder's junk costs one MAC, or one MAC and one bounded
 * PBKDF2); throws an AppError naming the cause. Whether it was already spent is the caller's question
 * (server/store/pow.ts). `claimedSize`: the envelope bytes the upload this solution opens claims; a challenge
 * priced for fewer is refused (TIPLINE_ERR_POW_TOO_SMALL), so a cheap challenge cannot open a big upload. */
export async function verifySolution(secret: Uint8Array, minDifficulty: number, solution: PowSolution, now: Date, claimedSize: number): Promise<VerifiedPow> {
  const v = checkPowToken(secret, minDifficulty, solution, now, claimedSize);
  if (!v.ok) throw new AppError(POW_ERRORS[v.reason], v.message);
  if (verified.get(v.id) === solution.nonce) return { id: v.id, expires: new Date(v.expires * 1000) };
  // Counted before hashing, so answers sent together on one token cannot all pass the check (a race the review
  // reproduced: 40 at once bought 29 hashes); an attempt that proves right is given back.
  const tries = wrong.get(v.id) ?? 0;
  if (tries >= POW_WRONG_PER_TOKEN) {
    throw new AppError('TIPLINE_ERR_POW_WRONG', 'too many wrong solutions for this proof-of-work challenge; fetch a new one');
  }
  remember(wrong, v.id, tries + 1);
  if (!(await withHashSlot(() => powSolutionHolds(solution.token, solution.nonce, v.difficulty)))) {
    throw new AppError('TIPLINE_ERR_POW_WRONG', 'proof-of-work solution is wrong');
  }
  const left = (wrong.get(v.id) ?? 1) - 1;
  if (left > 0) wrong.set(v.id, left);
  else wrong.delete(v.id);
  remember(verified, v.id, solution.nonce);
  return { id: v.id, expires: new Date(v.expires * 1000) };
}

/** The id of the upload a solution opens. Derived, not drawn, so that sending the same opening request again
 * after its answer was lost finds the same upload (or tip) instead of storing the tip twice. Keyed by the
 * server secret: nobody without the solution and the secret can compute it (upload ids are capabilities). */
export function uploadIdFor(secret: Uint8Array, pow: VerifiedPow): string {
  return toBase32(sodium().crypto_generichash(16, utf8Encode(`tipline upload id v1\n${pow.id}`), secret));
}
