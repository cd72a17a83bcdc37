// Uploads in progress and the chunks of uploads and tips. One answer for "never existed", "expired" and
// "already finished" wherever an upload is looked up: ids cannot be probed.
import { sql } from 'kysely';
import type { Receipt } from '../../schema/wire.js';
import { AppError } from '../errors.js';
import type { Db } from './db.js';

export interface UploadRow {
  id: string;
  size: number;
  chunk_size: number;
  chunk_count: number;
}

export function unknownUpload(): AppError {
  return new AppError('TIPLINE_ERR_UPLOAD_UNKNOWN', 'no such upload in progress (unknown, expired or already finished)');
}

/** An upload still open; `lock` holds its row until the transaction ends (a finish cannot overtake a chunk). */
export async function findOpenUpload(db: Db, id: string, now: Date, lock = false): Promise<UploadRow | undefined> {
  let q = db.selectFrom('uploads').select(['id', 'size', 'chunk_size', 'chunk_count']).where('id', '=', id).where('expires_at', '>', now);
  if (lock) q = q.forUpdate();
  const row = await q.executeTakeFirst();
  return row && { ...row, size: Number(row.size) };
}

export async function requireOpenUpload(db: Db, id: string, now: Date, lock = false): Promise<UploadRow> {
  const u = await findOpenUpload(db, id, now, lock);
  if (!u) throw unknownUpload();
  return u;
}

/** The receipt of an upload that already became a tip: finishing is repeatable, so a source whose 201 was
 * lost on a dropped circuit learns its tip is stored instead of sending it again. */
export async function existingReceipt(db: Db, id: string): Promise<Receipt | undefined> {
  const tip = await db.selectFrom('tips').select(['id', 'size', sql<string>`received_day::text`.as('received_day')]).where('id', '=', id).executeTakeFirst();
  return tip && { tip_id: tip.id, size: Number(tip.size), received_day: tip.received_day };
}

/** Bytes that unfinished uploads claim together (checked against the server's cap before a new one opens). */
export async function pendingBytes(db: Db, now: Date): Promise<number> {
  const row = await db.selectFrom('uploads').select(sql<string>`coalesce(sum(size), 0)`.as('bytes')).where('expires_at', '>', now).executeTakeFirstOrThrow();
  return Number(row.bytes);
}

export async function insertUpload(db: Db, u: UploadRow, expiresAt: Date): Promise<void> {
  await db.insertInto('uploads').values({ ...u, expires_at: expiresAt }).execute();
}

/** Sending a chunk again after a dropped connection replaces it: the client cannot know whether it landed. */
export async function storeChunk(db: Db, id: string, n: number, data: Uint8Array): Promise<void> {
  await db
    .insertInto('blob_chunks')
    .values({ blob_id: id, idx: n, data })
    .onConflict((oc) => oc.columns(['blob_id', 'idx']).doUpdateSet({ data: sql`excluded.data` }))
    .execute();
}

export async function receivedChunks(db: Db, id: string): Promise<number[]> {
  return (await db.selectFrom('blob_chunks').select('idx').where('blob_id', '=', id).orderBy('idx').execute()).map((r) => r.idx);
}

/** The upload's row vanished while this transaction waited for its lock: a concurrent finish (a source's retry
 * racing its first try) may have made it a tip, which this later statement now sees. Its receipt, not a 404
 * that would have the source send the tip a second time. */
export async function afterConcurrentFinish(db: Db, id: string): Promise<Receipt> {
  const done = await existingReceipt(db, id);
  if (done) return done;
  throw unknownUpload();
}

export function expectedChunkLength(u: Pick<UploadRow, 'size' | 'chunk_size' | 'chunk_count'>, n: number): number {
  return n < u.chunk_count - 1 ? u.chunk_size : u.size - u.chunk_size * (u.chunk_count - 1);
}

/** Turns a complete upload into a tip, atomically with the caller's transaction. The tip id is the upload id:
 * its chunks are not copied. */
export async function finishUpload(db: Db, id: string, now: Date, day: string, expiresDay: string): Promise<Receipt> {
  const done = await existingReceipt(db, id);
  if (done) return done;
  const u = await findOpenUpload(db, id, now, true);
  if (!u) return afterConcurrentFinish(db, id);
  const got = new Set(await receivedChunks(db, id));
  const missing: number[] = [];
  for (let i = 0; i < u.chunk_count && missing.length < 20; i++) if (!got.has(i)) missing.push(i);
  if (missing.length > 0) throw new AppError('TIPLINE_ERR_UPLOAD_INCOMPLETE', `upload is missing chunks: ${missing.join(', ')}${missing.length === 20 ? ', …' : ''}`);
  await db.insertInto('tips').values({ id, size: u.size, chunk_size: u.chunk_size, chunk_count: u.chunk_count, received_day: day, expires_day: expiresDay }).execute();
  await db.deleteFrom('uploads').where('id', '=', id).execute();
  return { tip_id: id, size: u.size, received_day: day };
}
