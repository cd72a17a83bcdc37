// Desk notes expire on the day the desk asked for: from that day every lookup treats them as gone, the next
// purge deletes them with a `notes` count in its audit entry (never an id), and a live one stays. A desk's
// deletion of a thread's notes is one `notes-delete` entry with the count and the day only. Neither a deleted
// nor an expired note's bytes outlive it in the table's files (heap, index, TOAST), read raw from disk. And
// `tipline audit`'s retention check reads desk_notes: a note past its day, or set to outlive the tips'
// retention, is reported; the chain with `notes-delete` entries and `notes` counts verifies.
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { CompiledQuery, sql, type Kysely } from 'kysely';
import { dialects } from './helpers/databases.js';
import { newsroomServer } from './helpers/setup.js';
import { purgeExpired } from '../server/retention.js';
import { findNotes, listNotes } from '../server/store/notes.js';
import { utcDay } from '../server/days.js';
import { readAudit } from '../server/audit.js';
import { verifyChain } from '../crypto/audit-chain.js';
import { signStaffRequest } from '../crypto/staff-request.js';
import { toBase64, utf8Encode } from '../crypto/bytes.js';
import type { DeskKeyPair } from '../crypto/keys.js';
import type { Policy } from '../crypto/policy.js';
import { checkRetention, readSnapshot, type Reader } from '../client/cli/audit/database.js';
import { checkChain } from '../client/cli/audit/chain.js';
import { framedNote } from './helpers/note-bytes.js';

/** The raw bytes on disk of desk_notes: heap, primary key index, TOAST heap and its index (after a checkpoint). */
async function tableFiles(db: Kysely<any>): Promise<Buffer> {
  await sql`checkpoint`.execute(db);
  const rels = await sql<{ path: string }>`
    select pg_relation_filepath(oid) as path from pg_class
    where oid in ('desk_notes'::regclass, 'desk_notes_pkey'::regclass,
                  (select reltoastrelid from pg_class where relname = 'desk_notes'),
                  (select indexrelid from pg_index where indrelid = (select reltoastrelid from pg_class where relname = 'desk_notes')))`.execute(db);
  if (rels.rows.length !== 4) throw new Error(`expected the heap, index, TOAST heap and TOAST index; found ${rels.rows.length}`);
  const parts: Buffer[] = [];
  for (const r of rels.rows) {
    const f = await sql<{ b: Uint8Array }>`select pg_read_binary_file(${r.path}) as b`.execute(db);
    parts.push(Buffer.from(f.rows[0]!.b));
  }
  return Buffer.concat(parts);
}

/** `tipline audit`'s reader over the test's own connection. */
function readerOf(db: Kysely<any>, kind: 'pglite' | 'postgres'): Reader {
  return {
    kind,
    async query(text: string, params: unknown[] = []) {
      return (await db.executeQuery(CompiledQuery.raw(text, params))).rows as Record<string, unknown>[];
    },
    async close() {},
  };
}

for (const dialect of await dialects()) {
  t.test(`desk notes expire on ${dialect.name}`, { skip: dialect.skip }, async (t) => {
    let clock = Date.parse('2026-03-01T13:37:11Z');
    const now = () => new Date(clock);
    const { store, newsroom, server } = await newsroomServer(t, dialect, { now, retentionDays: 30 });
    const call = async (who: DeskKeyPair, path: string, body: unknown) => {
      const bytes = utf8Encode(JSON.stringify(body));
      const headers = signStaffRequest({ host: new URL(server.staffUrl).host, method: 'POST', pathAndQuery: path, timestamp: Math.floor(clock / 1000), nonce: new Uint8Array(randomBytes(16)), body: bytes, contentType: 'application/json' }, who.signSecret);
      const res = await fetch(`${server.staffUrl}${path}`, { method: 'POST', headers, body: Buffer.from(bytes) });
      return { status: res.status, json: (await res.json()) as Record<string, unknown> };
    };
    const post = async (expires_day: string) => {
      // Large enough to be stored out of line (TOAST), like a note with files' names and a long text.
      const envelope = framedNote(40_000);
      const r = await call(newsroom.desk, '/api/v1/staff/notes', { envelope: toBase64(envelope), expires_day });
      t.equal(r.status, 201, `posted, to expire on ${expires_day}`);
      return { id: r.json.id as string, envelope };
    };
    const piece = (envelope: Uint8Array) => Buffer.from(envelope.subarray(20_000, 20_064));
    // What the routes answer (their queries): the test directory is valid for a week, so later days ask the store.
    const live = async () => (await listNotes(store.db, utcDay(now()))).map((n) => n.id).sort();

    const soon = await post('2026-03-10');
    const gone = await post('2026-03-20');
    const last = await post('2026-03-31');
    const before = await tableFiles(store.db);
    for (const n of [soon, gone, last]) t.ok(before.includes(piece(n.envelope)), 'the probe finds a stored envelope in the files');

    // A desk deletes a thread's note: the row goes at once, one audit entry with the count, the bytes after the rewrite.
    const del = await call(newsroom.desk, '/api/v1/staff/notes/delete', { ids: [gone.id] });
    t.same(del, { status: 200, json: { deleted: 1 } });
    t.same(await purgeExpired(store.db, now()), { tips: 0, uploads: 0, replies: 0, notes: 0 }, 'nothing has expired on 03-01');
    // A rewrite owed to the next pass (lock busy, an older snapshot) is paid there.
    const filesAfterPasses = async (envelope: Uint8Array) => {
      let files = await tableFiles(store.db);
      for (let pass = 0; pass < 2 && files.includes(piece(envelope)); pass++) {
        t.comment('the rewrite was owed to the next pass: one more pass');
        await purgeExpired(store.db, now());
        files = await tableFiles(store.db);
      }
      return files;
    };
    const afterDelete = await filesAfterPasses(gone.envelope);
    t.notOk(afterDelete.includes(piece(gone.envelope)), 'the deleted note’s envelope is not in the files after the purge');
    t.ok(afterDelete.includes(piece(soon.envelope)) && afterDelete.includes(piece(last.envelope)), 'the others are');

    clock = Date.parse('2026-03-09T23:59:00Z');
    t.same(await purgeExpired(store.db, now()), { tips: 0, uploads: 0, replies: 0, notes: 0 }, 'kept until its expiry day');
    t.same(await live(), [soon.id, last.id].sort(), 'both listed the day before');

    clock = Date.parse('2026-03-10T00:00:01Z');
    t.same(await live(), [last.id], 'on its expiry day the list no longer shows it (before the purge)');
    t.same((await findNotes(store.db, [soon.id, last.id], utcDay(now()))).map((n) => n.id), [last.id], 'nor does a fetch');

    // The audit's retention check, before the purge: the expired row is on its day, not yet overdue (a day's slack).
    const retention = { tips_days: 30, replies_days: 30, uploads_hours: 5 };
    const policy = { retention } as unknown as Policy;
    const snapshot = () => readSnapshot(readerOf(store.db, dialect.name), { tipsDays: 30, repliesDays: 30, uploadsHours: 5 }, now());
    t.equal(checkRetention(await snapshot(), policy, '').status, 'PASS', 'the audit passes on the expiry day');

    t.same(await purgeExpired(store.db, now()), { tips: 0, uploads: 0, replies: 0, notes: 1 }, 'the purge deletes it');
    t.same((await store.db.selectFrom('desk_notes').select('id').execute()).map((r) => r.id), [last.id], 'the live one stays');
    t.same(await purgeExpired(store.db, now()), { tips: 0, uploads: 0, replies: 0, notes: 0 }, 'a second purge finds nothing');
    const afterPurge = await filesAfterPasses(soon.envelope);
    t.notOk(afterPurge.includes(piece(soon.envelope)), 'the expired note’s envelope is not in the files');
    t.ok(afterPurge.includes(piece(last.envelope)), 'the live one is');

    const audit = await readAudit(store.db);
    t.same(audit.map((e) => e.kind), ['directory-published', 'notes-delete', 'purge', 'purge', 'purge'], 'the deletion, then one purge entry a day and one for the purge that deleted something');
    t.same(JSON.parse(audit[1]!.detail), { notes: 1 }, 'the deletion: a count');
    t.equal(audit[1]!.day, '2026-03-01', 'and the day');
    t.same(JSON.parse(audit[4]!.detail), { notes: 1, replies: 0, tips: 0, uploads: 0 }, 'the purge counts notes');
    for (const n of [soon, gone, last]) t.notOk(JSON.stringify(audit).includes(n.id), 'no entry names a note');
    t.match(verifyChain(audit, newsroom.fingerprint), { ok: true, head: { seq: 5 } }, 'the chain verifies');
    const chain = checkChain({ fromDb: { ok: true, value: audit }, fp: newsroom.fingerprint, today: '2026-03-10', signedHead: { ok: false, why: 'not read here' } } as unknown as Parameters<typeof checkChain>[0]);
    const byName = Object.fromEntries(chain.checks.map((c) => [c.id, c]));
    t.equal(byName['audit-chain']?.status, 'PASS', `tipline audit accepts the chain with notes-delete entries (${byName['audit-chain']?.detail})`);
    t.equal(byName['deletions']?.status, 'PASS', 'a notes-delete is not taken for an unsigned staff deletion');

    // Rows the server would never write: the audit reports them.
    await store.db.insertInto('desk_notes').values({ id: 'b'.repeat(26), envelope: new Uint8Array(8), posted_day: '2026-03-01', expires_day: '2026-04-01' }).execute();
    await store.db.insertInto('desk_notes').values({ id: 'c'.repeat(26), envelope: new Uint8Array(8), posted_day: '2026-03-01', expires_day: '2026-03-05' }).execute();
    const r = checkRetention(await snapshot(), policy, '');
    t.equal(r.status, 'FAIL', 'the audit fails');
    t.match(r.detail, /1 desk note set to be kept beyond its posting day \+ 30 days/, 'an expiry past the tips\' retention');
    t.match(r.detail, /1 desk note past its deletion day \(the oldest due 2026-03-05\)/, 'a note kept past its day');
  });
}
