// Proof-of-work rows: the server's MAC secret and the solutions already spent.
import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../../schema/db.js';
import type { VerifiedPow } from '../pow.js';
import type { Db } from './db.js';

export async function loadPowSecret(db: Kysely<Database>): Promise<Uint8Array> {
  await db
    .insertInto('server_secrets')
    .values({ name: 'pow', value: randomBytes(32) })
    .onConflict((oc) => oc.column('name').doNothing())
    .execute();
  const row = await db.selectFrom('server_secrets').select('value').where('name', '=', 'pow').executeTakeFirstOrThrow();
  return new Uint8Array(row.value);
}

export async function powRedeemed(db: Db, pow: VerifiedPow): Promise<boolean> {
  return (await db.selectFrom('pow_redeemed').select('id').where('id', '=', pow.id).executeTakeFirst()) !== undefined;
}

/** Records a solution as spent; false when it already was (a concurrent redeemer waits for the first). The row
 * keeps the challenge's expiry, already rounded to ten minutes. */
export async function redeemPow(db: Db, pow: VerifiedPow): Promise<boolean> {
  const inserted = await db
    .insertInto('pow_redeemed')
    .values({ id: pow.id, expires_at: pow.expires })
    .onConflict((oc) => oc.column('id').doNothing())
    .executeTakeFirst();
  return Number(inserted.numInsertedOrUpdatedRows ?? 0) === 1;
}
