// The desks' shared notes, stored by a random id (PROTOCOL.md §Desk notes). Every query here is keyed by ids or
// by the day: nothing joins a note to a tip, a thread, a desk or another note. A note is live while its
// expires_day is after today; the retention pass deletes it on that day (server/retention.ts), and until then
// every lookup here already treats it as gone.
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { toBase32 } from '../../crypto/bytes.js';
import type { NoteSummary } from '../../schema/wire.js';
import type { Db } from './db.js';

// Any constant (not the audit chain's, not the replies'): serialises posters so the live count cannot pass its
// cap in a race.
const NOTE_POST_LOCK = 7_106_110;

/** A fresh note id: 128 random bits, base32 (the wire's Id), like a tip's; derived from nothing. */
export function newNoteId(): string {
  return toBase32(new Uint8Array(randomBytes(16)));
}

export interface NewNote {
  id: string;
  envelope: Uint8Array;
  posted_day: string;
  expires_day: string;
}

/** Stores a note unless `maxLive` notes are live. The count and the insert run under one lock, so concurrent
 * posts cannot pass the cap together; the caller's transaction holds it until commit. */
export async function insertNote(db: Db, n: NewNote, today: string, maxLive: number): Promise<'stored' | 'full'> {
  await sql`select pg_advisory_xact_lock(${NOTE_POST_LOCK})`.execute(db);
  const live = await db.selectFrom('desk_notes').select(sql<string>`count(*)`.as('n')).where('expires_day', '>', today).executeTakeFirstOrThrow();
  if (Number(live.n) >= maxLive) return 'full';
  await db.insertInto('desk_notes').values(n).execute();
  return 'stored';
}

/** Every live note's metadata; the size is the envelope's (Padmé-padded by the desk). */
export async function listNotes(db: Db, today: string): Promise<NoteSummary[]> {
  const rows = await db
    .selectFrom('desk_notes')
    .select(['id', sql<string>`octet_length(envelope)`.as('size'), sql<string>`posted_day::text`.as('posted_day'), sql<string>`expires_day::text`.as('expires_day')])
    .where('expires_day', '>', today)
    // By the random id: an order that says nothing (not which note came first).
    .orderBy('id')
    .execute();
  return rows.map((r) => ({ id: r.id, size: Number(r.size), posted_day: r.posted_day, expires_day: r.expires_day }));
}

/** The envelopes of those of `ids` that are live, in one query. */
export async function findNotes(db: Db, ids: readonly string[], today: string): Promise<{ id: string; envelope: Uint8Array }[]> {
  if (ids.length === 0) return [];
  return db.selectFrom('desk_notes').select(['id', 'envelope']).where('id', 'in', [...new Set(ids)]).where('expires_day', '>', today).execute();
}

/** Deletes those of `ids` that are stored (live or expired and not yet purged); answers how many were. */
export async function deleteNotes(db: Db, ids: readonly string[]): Promise<number> {
  if (ids.length === 0) return 0;
  const gone = await db.deleteFrom('desk_notes').where('id', 'in', [...new Set(ids)]).returning('id').execute();
  return gone.length;
}
