// Staff request nonces, kept until the request's timestamp could no longer pass the clock check.
import type { Db } from './db.js';

// Rounded up to ten minutes, as proof-of-work expiries are (store/pow.ts): a nonce is written in the transaction
// just before the row its request writes (a reply, a deletion), and its expiry to the second would date that row
// to the second through their adjacent xmin (threat: a seized database). Kept a little longer: still single-use.
const NONCE_EXPIRY_GRAIN_MS = 10 * 60 * 1000;

/** False when the nonce was already used (a replay). */
export async function spendNonce(db: Db, nonce: string, expiresAt: Date): Promise<boolean> {
  const expires_at = new Date(Math.ceil(expiresAt.getTime() / NONCE_EXPIRY_GRAIN_MS) * NONCE_EXPIRY_GRAIN_MS);
  const inserted = await db.insertInto('staff_nonces').values({ nonce, expires_at }).onConflict((oc) => oc.column('nonce').doNothing()).executeTakeFirst();
  return Number(inserted.numInsertedOrUpdatedRows ?? 0) === 1;
}
