// Stateless proof-of-work: the challenge is MAC'd by the server, so no row is written until a solution is
// redeemed. It answers flooders, who cannot be rate-limited by address (all Tor traffic arrives from 127.0.0.1).
import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../schema/db.js';
import type { PowChallenge, PowSolution } from '../schema/wire.js';
import { leadingZeroBits, powHash } from '../crypto/pow.js';
import { sodium } from '../crypto/sodium.js';
import { concatBytes, equalBytes, fromBase64Url, toBase64Url } from '../crypto/bytes.js';
import { AppError } from './errors.js';

const VERSION = 1;
const TOKEN_BYTES = 1 + 8 + 1 + 16 + 16; // version | expires (u64 s) | difficulty | random id | mac
export const POW_TTL_SECONDS = 600;

export async function loadPowSecret(db: Kysely<Database>): Promise<Uint8Array> {
  await db
    .insertInto('server_secrets')
    .values({ name: 'pow', value: randomBytes(32) })
    .onConflict((oc) => oc.column('name').doNothing())
    .execute();
  const row = await db.selectFrom('server_secrets').select('value').where('name', '=', 'pow').executeTakeFirstOrThrow();
  return new Uint8Array(row.value);
}

function mac(secret: Uint8Array, body: Uint8Array): Uint8Array {
  return sodium().crypto_generichash(16, body, secret);
}

export function issueChallenge(secret: Uint8Array, difficulty: number, now: Date): PowChallenge {
  // Expiry rounded up to ten minutes: the redeemed row keeps it, and it should not pin the moment of a tip.
  const expires = Math.ceil((now.getTime() / 1000 + POW_TTL_SECONDS) / 600) * 600;
  const body = new Uint8Array(TOKEN_BYTES - 16);
  body[0] = VERSION;
  new DataView(body.buffer).setBigUint64(1, BigInt(expires));
  body[9] = difficulty;
  body.set(randomBytes(16), 10);
  return { token: toBase64Url(concatBytes(body, mac(secret, body))), difficulty, expires_in: expires - Math.floor(now.getTime() / 1000) };
}

/** Checks a solution and records it as spent; returns nothing, throws an AppError. */
export async function redeemSolution(db: Kysely<Database>, secret: Uint8Array, minDifficulty: number, solution: PowSolution, now: Date): Promise<void> {
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
  const inserted = await db
    .insertInto('pow_redeemed')
    .values({ id: toBase64Url(raw.subarray(10, 26)), expires_at: new Date(expires * 1000) })
    .onConflict((oc) => oc.column('id').doNothing())
    .executeTakeFirst();
  if (Number(inserted.numInsertedOrUpdatedRows ?? 0) !== 1) throw new AppError('TIPLINE_ERR_POW_REUSED', 'proof-of-work solution was already used');
}
