// Stored tips as the newsroom sees them: listed, streamed chunk by chunk, deleted with an audit entry.
import { sql } from 'kysely';
import type { TipSummary } from '../../schema/wire.js';
import type { Db } from './db.js';

export async function listTips(db: Db): Promise<TipSummary[]> {
  const rows = await db
    .selectFrom('tips')
    .select(['id', 'size', sql<string>`received_day::text`.as('received_day'), sql<string>`expires_day::text`.as('expires_day')])
    .orderBy('received_day')
    .orderBy('id')
    .execute();
  return rows.map((r) => ({ ...r, size: Number(r.size) }));
}

export interface StoredTip {
  size: number;
  chunk_count: number;
  /** Chunks actually stored: fewer than chunk_count means the tip is damaged. */
  stored: number;
}

export async function findTip(db: Db, id: string): Promise<StoredTip | undefined> {
  const tip = await db.selectFrom('tips').select(['size', 'chunk_count']).where('id', '=', id).executeTakeFirst();
  if (!tip) return undefined;
  const stored = await db.selectFrom('blob_chunks').select(sql<string>`count(*)`.as('n')).where('blob_id', '=', id).executeTakeFirstOrThrow();
  return { size: Number(tip.size), chunk_count: tip.chunk_count, stored: Number(stored.n) };
}

export async function readChunk(db: Db, id: string, n: number): Promise<Uint8Array | undefined> {
  return (await db.selectFrom('blob_chunks').select('data').where('blob_id', '=', id).where('idx', '=', n).executeTakeFirst())?.data;
}

/** Deletes a tip and its chunks (and a receipt row still naming it); false when there was no such tip. Its bytes
 * leave the stored-tips quota in the same transaction. */
export async function deleteTip(db: Db, id: string): Promise<boolean> {
  const gone = await db.deleteFrom('tips').where('id', '=', id).returning(['id', 'size']).executeTakeFirst();
  if (!gone) return false;
  await db.deleteFrom('blob_chunks').where('blob_id', '=', id).execute();
  await db.deleteFrom('upload_receipts').where('tip_id', '=', id).execute();
  await db.updateTable('upload_quota').set({ stored_bytes: sql`greatest(stored_bytes - ${Number(gone.size)}, 0)` }).where('id', '=', 1).execute();
  return true;
}
