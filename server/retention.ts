// Deletes expired tips, replies, desk notes and transient rows. Each purge that removes anything is recorded in the audit
// chain, with counts only: listing purged tip ids (or reply tags) would let whoever holds a source's receipt (or
// a copy of the tag list) confirm the tip (or the reply) existed. The first pass of each UTC day records a purge
// even when it removed nothing (counts 0): a heartbeat, so an auditor sees that the job ran each day, and a day
// without one says it did not. Each pass then signs the chain's head for the day (server/audit-head.ts).
import { sql, type Kysely } from 'kysely';
import type { Database } from '../schema/db.js';
import { appendAudit, appendAuditOncePerDay, signCurrentHead } from './audit.js';
import { replyListChanged } from './store/replies.js';
import { utcDay } from './days.js';

export interface PurgeResult {
  tips: number;
  uploads: number;
  replies: number;
  notes: number;
}

export async function purgeExpired(db: Kysely<Database>, now: Date): Promise<PurgeResult> {
  const today = utcDay(now);
  const result = await db.transaction().execute(async (trx) => {
    // Row locks first (tips, uploads), the quota row last: the order every writer keeps (no deadlock).
    const tips = await trx.deleteFrom('tips').where('expires_day', '<=', today).returning(['id', 'size']).execute();
    const uploads = await trx.deleteFrom('uploads').where('expires_at', '<=', now).returning(['blob_id', 'received_bytes']).execute();
    // Replies live under the tips' retention, to the day (every lookup already treats these as gone).
    const replies = await trx.deleteFrom('replies').where('expires_day', '<=', today).returning('tag').execute();
    // Desk notes on the day the desk asked for, at most the tips' retention (checked when posted).
    const notes = await trx.deleteFrom('desk_notes').where('expires_day', '<=', today).returning('id').execute();
    const blobs = [...tips.map((r) => r.id), ...uploads.map((r) => r.blob_id)];
    if (blobs.length > 0) await trx.deleteFrom('blob_chunks').where('blob_id', 'in', blobs).execute();
    // Chunks whose upload expired while they were being written belong to nothing: remove them too.
    await trx
      .deleteFrom('blob_chunks')
      .where(({ not, exists, selectFrom }) =>
        not(exists(selectFrom('uploads').select('blob_id').whereRef('uploads.blob_id', '=', 'blob_chunks.blob_id'))),
      )
      .where(({ not, exists, selectFrom }) => not(exists(selectFrom('tips').select('id').whereRef('tips.id', '=', 'blob_chunks.blob_id'))))
      .execute();
    // A finished upload's id stops answering with its receipt once the upload would have expired; a receipt
    // row whose tip is gone goes too.
    await trx.deleteFrom('upload_receipts').where('expires_at', '<=', now).execute();
    await trx
      .deleteFrom('upload_receipts')
      .where(({ not, exists, selectFrom }) => not(exists(selectFrom('tips').select('id').whereRef('tips.id', '=', 'upload_receipts.tip_id'))))
      .execute();
    // Strictly before: a token is valid up to and including its expiry (crypto/pow.ts), so its record must outlive it.
    await trx.deleteFrom('pow_redeemed').where('expires_at', '<', now).execute();
    await trx.deleteFrom('staff_nonces').where('expires_at', '<=', now).execute();
    const freedPending = uploads.reduce((n, r) => n + Number(r.received_bytes), 0);
    const freedStored = tips.reduce((n, r) => n + Number(r.size), 0);
    if (freedPending > 0 || freedStored > 0) {
      await trx.updateTable('upload_quota').set({ pending_bytes: sql`greatest(pending_bytes - ${freedPending}, 0)`, stored_bytes: sql`greatest(stored_bytes - ${freedStored}, 0)` }).where('id', '=', 1).execute();
    }
    const counts = { tips: tips.length, uploads: uploads.length, replies: replies.length, notes: notes.length };
    if (tips.length + uploads.length + replies.length + notes.length > 0) await appendAudit(trx, today, 'purge', counts);
    else await appendAuditOncePerDay(trx, today, 'purge', counts);
    return counts;
  });
  await signCurrentHead(db, today);
  await reconcileQuota(db);
  if (result.replies > 0) replyListChanged(db);
  await vacuumTransient(db, result.replies, result.notes);
  return result;
}

/** Recounts the quota counters from the rows they stand for. Every writer changes both in one transaction, so
 * this finds nothing to correct unless someone edited the database by hand; it holds the counter row while it
 * counts (a separate transaction, taken before any other lock: no writer waits on us holding theirs). */
export async function reconcileQuota(db: Kysely<Database>): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await trx.selectFrom('upload_quota').select('id').where('id', '=', 1).forUpdate().execute();
    const p = await trx.selectFrom('uploads').select(sql<string>`coalesce(sum(received_bytes), 0)`.as('n')).executeTakeFirstOrThrow();
    const s = await trx.selectFrom('tips').select(sql<string>`coalesce(sum(size), 0)`.as('n')).executeTakeFirstOrThrow();
    await trx.updateTable('upload_quota').set({ pending_bytes: Number(p.n), stored_bytes: Number(s.n) }).where('id', '=', 1).execute();
  });
}

/**
 * A deleted row stays in the table's file as a dead tuple: on PostgreSQL the finished upload's row (upload id,
 * blob id = tip id, expiry to five minutes) and the expired receipt row (upload id -> tip id) would join a seized
 * receipt to its tip long after both were meant to be gone. Plain VACUUM is not enough: it frees the space but
 * leaves the bytes of a tuple at the edge of the page's free space (and in the index) until overwritten, which
 * a test showed. VACUUM FULL writes the two small tables anew, indexes included. It takes the tables' exclusive
 * lock, so it waits at most a moment for it (uploads go on meanwhile) and falls back to plain VACUUM, to try
 * again on the next pass. Replies likewise: a read-and-deleted reply's tag (which a kept copy of the public list
 * holds) and envelope must not stay readable in the table's file; the envelope is stored out of line (TOAST), and
 * VACUUM FULL rewrites that too. At the live cap the table is some GB, so it is rewritten only when it holds
 * dead rows: replies this pass expired (`repliesGone`), or that sources deleted since the last rewrite (each
 * delete is a 'reply-delete' entry of the audit chain, which every instance on the database shares). Not
 * PostgreSQL's own count of dead rows: VACUUM FULL does not reset it, so every pass would rewrite the table again
 * (measured). Desk notes the same way (their deletions are 'notes-delete' entries). Neither can run in a
 * transaction: this runs after the purge commits.
 */
export async function vacuumTransient(db: Kysely<Database>, repliesGone = 0, notesGone = 0): Promise<void> {
  await db.connection().execute(async (conn) => {
    await sql`set lock_timeout = '2s'`.execute(conn);
    try {
      await sql`vacuum full upload_receipts, uploads`.execute(conn);
    } catch {
      await sql`vacuum uploads, upload_receipts`.execute(conn);
    }
    try {
      await rewriteIfDeleted(conn, db, REPLIES, repliesGone);
      // Desk notes likewise: a deleted thread's notes (a 'notes-delete' entry) must not stay readable in the
      // table's file for whoever seizes it with a desk key.
      await rewriteIfDeleted(conn, db, NOTES, notesGone);
    } finally {
      await sql`reset lock_timeout`.execute(conn);
    }
    // Not joinable to a tip (a spent solution's id; a staff nonce): the ordinary clean-up is enough.
    await sql`vacuum pow_redeemed, staff_nonces`.execute(conn);
  });
}

/** A table whose deleted rows are rewritten out of its file, and the audit entry that records its deletions. */
interface Rewritten {
  table: 'replies' | 'desk_notes';
  deleteKind: string;
  /** The audit sequence number up to which deletions are rewritten out of the table, by database (a first pass
   * in a process rewrites the table if any was ever deleted). */
  through: WeakMap<object, number>;
  /** Databases whose table the next pass must rewrite: a rewrite could not get the lock, or one was made for new
   * deletions (done once more, see above). */
  owed: WeakSet<object>;
}
const REPLIES: Rewritten = { table: 'replies', deleteKind: 'reply-delete', through: new WeakMap(), owed: new WeakSet() };
const NOTES: Rewritten = { table: 'desk_notes', deleteKind: 'notes-delete', through: new WeakMap(), owed: new WeakSet() };

async function rewriteIfDeleted(conn: Kysely<Database>, db: object, t: Rewritten, gone: number): Promise<void> {
  const rewritten = t.through.get(db) ?? 0;
  const deletedThrough = await lastDelete(conn, t.deleteKind, rewritten);
  const changed = gone > 0 || deletedThrough > rewritten;
  if (!changed && !t.owed.has(db)) return;
  try {
    await sql`vacuum full ${sql.table(t.table)}`.execute(conn);
    t.through.set(db, deletedThrough);
    // VACUUM FULL copies a row deleted moments ago if any snapshot older than the delete is still open
    // (another session, an autovacuum worker): so a rewrite caused by new deletions is done once more on
    // the next pass, when that snapshot is long gone (a test caught the bytes surviving a single rewrite).
    if (changed) t.owed.add(db);
    else t.owed.delete(db);
  } catch {
    // Not rewritten (the lock was busy): the next pass tries again.
    t.owed.add(db);
    await sql`vacuum ${sql.table(t.table)}`.execute(conn);
  }
}

/** The sequence number of the latest `kind` audit entry after `after` (`after` when there is none): a range of
 * the primary key, not the whole log. */
async function lastDelete(conn: Kysely<Database>, kind: string, after: number): Promise<number> {
  const r = await conn.selectFrom('audit_log').select(sql<string | null>`max(seq)`.as('n')).where('seq', '>', after).where('kind', '=', kind).executeTakeFirst();
  return Math.max(after, Number(r?.n ?? 0));
}

/** Runs the purge now and then every `intervalMs` (10 minutes in `serve`, so transient rows do not linger
 * past their expiry); returns a function that stops it. */
export function scheduleRetention(db: Kysely<Database>, now: () => Date, intervalMs: number, onError: (err: unknown) => void): () => void {
  let running = Promise.resolve();
  const tick = () => {
    running = running.then(() => purgeExpired(db, now()).then(() => undefined, onError));
  };
  tick();
  const timer = setInterval(tick, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
