// Uploads in progress, their quota, and the short-lived receipts of finished ones. One answer for "never
// existed", "expired", "finished long ago" and "that is a tip id" wherever an upload is looked up: ids cannot be
// probed, and a seized receipt cannot confirm that its tip is still stored.
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import type { Receipt } from '../../schema/wire.js';
import { toBase32 } from '../../crypto/bytes.js';
import { AppError } from '../errors.js';
import type { Db } from './db.js';

export interface UploadRow {
  id: string;
  /** Where its chunks are stored, and the id of the tip it becomes: random, unrelated to the upload id. */
  blob_id: string;
  size: number;
  chunk_size: number;
  chunk_count: number;
}

export function unknownUpload(): AppError {
  return new AppError('TIPLINE_ERR_UPLOAD_UNKNOWN', 'no such upload in progress (unknown, expired or already finished)');
}

/** A fresh tip id: 128 random bits, base32 (the wire's Id). Never derived from the upload id, which the PoW
 * solution and the server secret determine: the two ids must not be joinable. */
export function newBlobId(): string {
  return toBase32(new Uint8Array(randomBytes(16)));
}

/** An upload still open; `lock` holds its row until the transaction ends (a finish cannot overtake a chunk). */
export async function findOpenUpload(db: Db, id: string, now: Date, lock = false): Promise<UploadRow | undefined> {
  let q = db.selectFrom('uploads').select(['id', 'blob_id', 'size', 'chunk_size', 'chunk_count']).where('id', '=', id).where('expires_at', '>', now);
  if (lock) q = q.forUpdate();
  const row = await q.executeTakeFirst();
  return row && { ...row, size: Number(row.size) };
}

export async function requireOpenUpload(db: Db, id: string, now: Date, lock = false): Promise<UploadRow> {
  const u = await findOpenUpload(db, id, now, lock);
  if (!u) throw unknownUpload();
  return u;
}

/** The receipt of an upload that became a tip, until the upload would have expired: finishing is repeatable, so a
 * source whose 201 was lost on a dropped circuit learns its tip is stored instead of sending it again. Looked up
 * by UPLOAD id only: a tip id, or an upload id past its expiry, finds nothing (no receipt oracle). */
export async function existingReceipt(db: Db, uploadId: string, now: Date): Promise<Receipt | undefined> {
  const row = await db
    .selectFrom('upload_receipts')
    .innerJoin('tips', 'tips.id', 'upload_receipts.tip_id')
    .select(['tips.id as id', 'tips.size as size', sql<string>`tips.received_day::text`.as('received_day'), sql<string>`tips.expires_day::text`.as('expires_day')])
    .where('upload_receipts.upload_id', '=', uploadId)
    .where('upload_receipts.expires_at', '>', now)
    .executeTakeFirst();
  return row && { tip_id: row.id, size: Number(row.size), received_day: row.received_day, expires_day: row.expires_day };
}

/** The blob an upload id stores its chunks in, open or finished (for a repeated opening request). */
export async function blobOf(db: Db, uploadId: string, now: Date): Promise<string | undefined> {
  const open = await findOpenUpload(db, uploadId, now);
  if (open) return open.blob_id;
  return (await existingReceipt(db, uploadId, now))?.tip_id;
}

export interface QuotaState {
  pending: number;
  stored: number;
}

export async function quotaState(db: Db): Promise<QuotaState> {
  const row = await db.selectFrom('upload_quota').select(['pending_bytes', 'stored_bytes']).where('id', '=', 1).executeTakeFirstOrThrow();
  return { pending: Number(row.pending_bytes), stored: Number(row.stored_bytes) };
}

/** Quota refusals: the tip line is full for now, and says when to look again. */
export function pendingFull(retryAfter: number): AppError {
  return new AppError('TIPLINE_ERR_BUSY', 'the tip line is busy receiving other uploads; try again in a while', retryAfter);
}
export function storageFull(retryAfter: number): AppError {
  return new AppError('TIPLINE_ERR_BUSY', 'the tip line cannot store more tips for now; try again later', retryAfter);
}

/**
 * Charges the quota counters in one conditional UPDATE: the check and the charge are one statement, which
 * PostgreSQL serialises on the counter row for every server instance on the database (the row stays locked
 * until the caller's transaction ends, so callers make this their last statement). Returns false, and changes
 * nothing, when the charge would pass a cap. Negative amounts refund.
 */
export async function chargeQuota(db: Db, c: { pending?: number; stored?: number; maxPending?: number; maxStored?: number; fitsStored?: number }): Promise<boolean> {
  const dp = c.pending ?? 0;
  const ds = c.stored ?? 0;
  let q = db
    .updateTable('upload_quota')
    .set({ pending_bytes: sql`greatest(pending_bytes + ${dp}, 0)`, stored_bytes: sql`greatest(stored_bytes + ${ds}, 0)` })
    .where('id', '=', 1);
  if (c.maxPending !== undefined && dp > 0) q = q.where(sql<boolean>`pending_bytes + ${dp} <= ${c.maxPending}`);
  if (c.maxStored !== undefined && ds > 0) q = q.where(sql<boolean>`stored_bytes + ${ds} <= ${c.maxStored}`);
  // An upload that could not be stored once finished is refused when it opens, not after it sent everything.
  if (c.maxStored !== undefined && c.fitsStored !== undefined) q = q.where(sql<boolean>`stored_bytes + ${c.fitsStored} <= ${c.maxStored}`);
  const r = await q.returning('id').executeTakeFirst();
  return r !== undefined;
}

export async function insertUpload(db: Db, u: UploadRow, expiresAt: Date, hardExpiresAt: Date): Promise<void> {
  await db.insertInto('uploads').values({ ...u, expires_at: expiresAt, hard_expires_at: hardExpiresAt, received_bytes: 0 }).execute();
}

/** Sending a chunk again after a dropped connection replaces it: the client cannot know whether it landed. Returns
 * whether the chunk is new (only new bytes are charged; the caller holds the upload's row lock). */
export async function storeChunk(db: Db, blobId: string, n: number, data: Uint8Array): Promise<boolean> {
  const had = await db.selectFrom('blob_chunks').select('idx').where('blob_id', '=', blobId).where('idx', '=', n).executeTakeFirst();
  await db
    .insertInto('blob_chunks')
    .values({ blob_id: blobId, idx: n, data })
    .onConflict((oc) => oc.columns(['blob_id', 'idx']).doUpdateSet({ data: sql`excluded.data` }))
    .execute();
  return had === undefined;
}

/** Records bytes received and pushes the idle expiry forward (never past the upload's overall cap). */
export async function noteReceived(db: Db, id: string, bytes: number, idleExpiry: Date): Promise<void> {
  await db
    .updateTable('uploads')
    .set({ received_bytes: sql`received_bytes + ${bytes}`, expires_at: sql`least(hard_expires_at, greatest(expires_at, ${idleExpiry}))` })
    .where('id', '=', id)
    .execute();
}

export async function receivedChunks(db: Db, blobId: string): Promise<number[]> {
  return (await db.selectFrom('blob_chunks').select('idx').where('blob_id', '=', blobId).orderBy('idx').execute()).map((r) => r.idx);
}

/** The upload's row vanished while this transaction waited for its lock: a concurrent finish (a source's retry
 * racing its first try) may have made it a tip, which this later statement now sees. Its receipt, not a 404
 * that would have the source send the tip a second time. */
export async function afterConcurrentFinish(db: Db, id: string, now: Date): Promise<Receipt> {
  const done = await existingReceipt(db, id, now);
  if (done) return done;
  throw unknownUpload();
}

export function expectedChunkLength(u: Pick<UploadRow, 'size' | 'chunk_size' | 'chunk_count'>, n: number): number {
  return n < u.chunk_count - 1 ? u.chunk_size : u.size - u.chunk_size * (u.chunk_count - 1);
}

/** Turns a complete upload into a tip, atomically with the caller's transaction: the tip takes the upload's blob
 * id (its chunks are not copied), the upload's row goes, and a receipt row keeps answering the upload id until the
 * upload would have expired. The stored-bytes quota is charged here, last. */
export async function finishUpload(db: Db, id: string, now: Date, day: string, expiresDay: string, o: { maxStored: number; retryAfter: number }): Promise<Receipt> {
  const done = await existingReceipt(db, id, now);
  if (done) return done;
  const u = await findOpenUpload(db, id, now, true);
  if (!u) return afterConcurrentFinish(db, id, now);
  const got = new Set(await receivedChunks(db, u.blob_id));
  const missing: number[] = [];
  for (let i = 0; i < u.chunk_count && missing.length < 20; i++) if (!got.has(i)) missing.push(i);
  if (missing.length > 0) throw new AppError('TIPLINE_ERR_UPLOAD_INCOMPLETE', `upload is missing chunks: ${missing.join(', ')}${missing.length === 20 ? ', …' : ''}`);
  const gone = await db.deleteFrom('uploads').where('id', '=', id).returning(['received_bytes', 'expires_at']).executeTakeFirstOrThrow();
  await db.insertInto('tips').values({ id: u.blob_id, size: u.size, chunk_size: u.chunk_size, chunk_count: u.chunk_count, received_day: day, expires_day: expiresDay }).execute();
  await db.insertInto('upload_receipts').values({ upload_id: id, tip_id: u.blob_id, expires_at: new Date(gone.expires_at) }).execute();
  // Its received bytes move from "in progress" to "stored"; refused (and all of this rolled back) when the
  // stored tips would pass their cap: the upload stays open and may finish once space is freed.
  if (!(await chargeQuota(db, { pending: -Number(gone.received_bytes), stored: u.size, maxStored: o.maxStored }))) throw storageFull(o.retryAfter);
  return { tip_id: u.blob_id, size: u.size, received_day: day, expires_day: expiresDay };
}
