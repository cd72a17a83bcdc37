// Replies from desks to sources, stored by tag (PROTOCOL.md §Replies). Every query here is keyed by a tag or by
// the day: nothing joins a reply to a tip, a source, a desk or another reply. A reply is "live" while its
// expires_day is after today; the retention pass deletes it on that day (server/retention.ts), and until then
// every lookup here already treats it as gone.
import { sql } from 'kysely';
import { REPLY_TAG_BYTES } from '../../crypto/reply-tags.js';
import type { Db } from './db.js';

// Any constant (not the audit chain's): serialises posters so the live count cannot pass its cap in a race.
const REPLY_POST_LOCK = 7_106_108;

/** How long this process answers the list from memory. Threat: the list is free to ask for and costs a query over
 * every live reply (150–370 ms at the cap): a flood of GETs must not become a flood of queries. A reply posted
 * or deleted here shows at once (the cache is dropped); one posted through another instance within this time. */
const LIST_CACHE_MS = 5_000;
interface CachedList {
  day: string;
  at: number;
  bytes: Uint8Array;
}
const listCache = new WeakMap<object, CachedList | undefined>();
const listGeneration = new WeakMap<object, number>();

/** Drops the cached list of the database `db` (the root handle the routes hold): call after a commit that
 * added or removed replies. */
export function replyListChanged(db: object): void {
  listCache.delete(db);
  listGeneration.set(db, (listGeneration.get(db) ?? 0) + 1);
}

/** The live list, from memory when it is fresh: the same bytes for every visitor either way. */
export async function cachedTagList(db: Db, today: string, nowMs: number): Promise<Uint8Array> {
  const hit = listCache.get(db);
  if (hit && hit.day === today && nowMs - hit.at >= 0 && nowMs - hit.at < LIST_CACHE_MS) return hit.bytes;
  const generation = listGeneration.get(db) ?? 0;
  const bytes = await liveTagList(db, today);
  // A change committed while this query ran may be missing from it: keep it only if nothing changed meanwhile.
  if ((listGeneration.get(db) ?? 0) === generation) listCache.set(db, { day: today, at: nowMs, bytes });
  return bytes;
}

/** Every live tag, 16 bytes each end to end, in byte order (bytea compares as unsigned bytes). */
export async function liveTagList(db: Db, today: string): Promise<Uint8Array> {
  const rows = await db.selectFrom('replies').select('tag').where('expires_day', '>', today).orderBy('tag').execute();
  const out = new Uint8Array(rows.length * REPLY_TAG_BYTES);
  rows.forEach((r, i) => out.set(r.tag, i * REPLY_TAG_BYTES));
  return out;
}

/** The envelopes of those of `tags` that are live, in one query, keyed by the tag's hex. */
export async function findEnvelopes(db: Db, tags: readonly Uint8Array[], today: string): Promise<Map<string, Uint8Array>> {
  const rows = await db.selectFrom('replies').select(['tag', 'envelope']).where('tag', 'in', [...tags]).where('expires_day', '>', today).execute();
  return new Map(rows.map((r) => [Buffer.from(r.tag).toString('hex'), r.envelope]));
}

export interface NewReply {
  tag: Uint8Array;
  delete_hash: Uint8Array;
  envelope: Uint8Array;
  posted_day: string;
  expires_day: string;
}

export type InsertOutcome = 'stored' | 'exists' | 'full';

/**
 * Stores a reply unless its tag is taken (by a live or an expired row not yet purged: either way the desk makes
 * a new tag) or `maxLive` replies are live. The count and the insert run under one lock, so concurrent posts
 * cannot pass the cap together; the caller's transaction holds it until commit.
 */
export async function insertReply(db: Db, r: NewReply, today: string, maxLive: number): Promise<InsertOutcome> {
  await sql`select pg_advisory_xact_lock(${REPLY_POST_LOCK})`.execute(db);
  const taken = await db.selectFrom('replies').select('tag').where('tag', '=', r.tag).executeTakeFirst();
  if (taken) return 'exists';
  const live = await db.selectFrom('replies').select(sql<string>`count(*)`.as('n')).where('expires_day', '>', today).executeTakeFirstOrThrow();
  if (Number(live.n) >= maxLive) return 'full';
  const done = await db.insertInto('replies').values(r).onConflict((oc) => oc.column('tag').doNothing()).returning('tag').executeTakeFirst();
  return done ? 'stored' : 'exists';
}

/** The deletion hash of a live reply, its row locked until the caller's transaction ends (a concurrent delete
 * with the same token waits, then finds nothing: one success, one 404). */
export async function lockLiveReply(db: Db, tag: Uint8Array, today: string): Promise<Uint8Array | undefined> {
  const row = await db.selectFrom('replies').select('delete_hash').where('tag', '=', tag).where('expires_day', '>', today).forUpdate().executeTakeFirst();
  return row?.delete_hash;
}

export async function deleteReply(db: Db, tag: Uint8Array): Promise<boolean> {
  const gone = await db.deleteFrom('replies').where('tag', '=', tag).returning('tag').executeTakeFirst();
  return gone !== undefined;
}
