// Staff request nonces, kept until the request's timestamp could no longer pass the clock check.
import type { Db } from './db.js';

/** False when the nonce was already used (a replay). */
export async function spendNonce(db: Db, nonce: string, expiresAt: Date): Promise<boolean> {
  const inserted = await db.insertInto('staff_nonces').values({ nonce, expires_at: expiresAt }).onConflict((oc) => oc.column('nonce').doNothing()).executeTakeFirst();
  return Number(inserted.numInsertedOrUpdatedRows ?? 0) === 1;
}
