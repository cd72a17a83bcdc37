// Stateless proof-of-work: the challenge is MAC'd by the server, so no row is written until a solution is
// redeemed. It answers flooders, who cannot be rate-limited by address (all Tor traffic arrives from 127.0.0.1).
import type { PowSolution } from '../schema/wire.js';
import { issuePowChallenge, verifyPowSolution, type PowRejectReason } from '../crypto/pow.js';
import { sodium } from '../crypto/sodium.js';
import { toBase32, utf8Encode } from '../crypto/bytes.js';
import type { ErrorCode } from '../schema/errors.js';
import { AppError } from './errors.js';

export { POW_TTL_SECONDS } from '../crypto/pow.js';

// The token format and its checks are crypto/pow.ts (PROTOCOL.md §Proof-of-work); this maps them to HTTP.
export function issueChallenge(secret: Uint8Array, difficulty: number, now: Date): { token: string; difficulty: number; expires_in: number } {
  return issuePowChallenge(secret, difficulty, now);
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
  too_easy: 'TIPLINE_ERR_POW_TOO_EASY',
  wrong_solution: 'TIPLINE_ERR_POW_WRONG',
};

/** Checks a solution without touching the database (a flooder's junk costs one MAC and one hash); throws an
 * AppError naming the cause. Whether it was already spent is the caller's question (server/store/pow.ts). */
/** `claimedSize`: the envelope bytes the upload this solution opens claims (a challenge may be priced for fewer). */
export function verifySolution(secret: Uint8Array, minDifficulty: number, solution: PowSolution, now: Date, _claimedSize: number): VerifiedPow {
  const v = verifyPowSolution(secret, minDifficulty, solution, now);
  if (!v.ok) throw new AppError(POW_ERRORS[v.reason], v.message);
  return { id: v.id, expires: new Date(v.expires * 1000) };
}

/** The id of the upload a solution opens. Derived, not drawn, so that sending the same opening request again
 * after its answer was lost finds the same upload (or tip) instead of storing the tip twice. Keyed by the
 * server secret: nobody without the solution and the secret can compute it (upload ids are capabilities). */
export function uploadIdFor(secret: Uint8Array, pow: VerifiedPow): string {
  return toBase32(sodium().crypto_generichash(16, utf8Encode(`tipline upload id v1\n${pow.id}`), secret));
}
