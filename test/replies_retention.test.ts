// Replies expire under the tips' retention: from their expiry day every lookup treats them as gone, the next
// purge deletes them with a `replies` count in the audit chain (never a tag), and a live one stays. A reply's
// bytes do not outlive it in the table's files: after the purge's rewrite, neither an expired reply nor one a
// source deleted is found in the heap, its index or its out-of-line (TOAST) storage, read raw from disk.
import t from 'tap';
import { sql, type Kysely } from 'kysely';
import { dialects } from './helpers/databases.js';
import { newsroomServer } from './helpers/setup.js';
import { deleteReply, fetchReplies, hex, listTags, makeReply, postReply, sourceKeys } from './helpers/replies.js';
import { purgeExpired } from '../server/retention.js';
import { readAudit } from '../server/audit.js';
import { verifyChain } from '../crypto/audit-chain.js';
import { openReply, REPLY_ENVELOPE_LENGTH } from '../crypto/reply.js';
import { toBase64Url } from '../crypto/bytes.js';
import { replySlotBytes } from '../schema/wire.js';

const DAY = 86_400_000;
const SLOT = replySlotBytes(REPLY_ENVELOPE_LENGTH);

/** The raw bytes on disk of the replies table: heap, primary key index, TOAST heap and its index (after a
 * checkpoint, so what is in shared buffers is in the files). */
async function tableFiles(db: Kysely<any>): Promise<Buffer> {
  await sql`checkpoint`.execute(db);
  const rels = await sql<{ path: string }>`
    select pg_relation_filepath(oid) as path from pg_class
    where oid in ('replies'::regclass, 'replies_pkey'::regclass,
                  (select reltoastrelid from pg_class where relname = 'replies'),
                  (select indexrelid from pg_index where indrelid = (select reltoastrelid from pg_class where relname = 'replies')))`.execute(db);
  if (rels.rows.length !== 4) throw new Error(`expected the heap, index, TOAST heap and TOAST index; found ${rels.rows.length}`);
  const parts: Buffer[] = [];
  for (const r of rels.rows) {
    // A relation larger than 1 GB continues in segment files path.1, …; these tests stay far below.
    const f = await sql<{ b: Uint8Array }>`select pg_read_binary_file(${r.path}) as b`.execute(db);
    parts.push(Buffer.from(f.rows[0]!.b));
  }
  return Buffer.concat(parts);
}

for (const dialect of await dialects()) {
  t.test(`replies expire on ${dialect.name}`, { skip: dialect.skip }, async (t) => {
    let clock = Date.parse('2026-03-01T13:37:11Z');
    const now = () => new Date(clock);
    const { store, newsroom, server } = await newsroomServer(t, dialect, { now, retentionDays: 30 });
    const source = await sourceKeys(newsroom.fingerprint);
    const post = async (message: string) => {
      const r = await makeReply(newsroom.desk, source, message, now());
      const res = await postReply(server.staffUrl, newsroom.desk, r.post, { now: now() });
      t.equal(res.status, 201, `posted: ${message}`);
      return { ...r, expires_day: ((await res.json()) as { expires_day: string }).expires_day };
    };
    const flags = async (tags: Uint8Array[]) => {
      const body = new Uint8Array(await (await fetchReplies(server.url, tags.map(toBase64Url))).arrayBuffer());
      return tags.map((_, i) => body[i * SLOT]);
    };
    // A piece of an envelope from the middle of its ciphertext: what the TOAST storage holds.
    const piece = (envelope: Uint8Array) => Buffer.from(envelope.subarray(30_000, 30_064));

    const old = await post('posted on the first');
    t.equal(old.expires_day, '2026-03-31');
    const read = await post('read and deleted by the source');
    clock += 5 * DAY; // (within the week the test directory is valid)
    const later = await post('posted five days later');
    t.equal(later.expires_day, '2026-04-05');

    const before = await tableFiles(store.db);
    for (const r of [old, read, later]) {
      t.ok(before.includes(Buffer.from(r.tag)), 'the probe finds a stored tag in the files');
      t.ok(before.includes(piece(r.envelope)), 'and its envelope');
    }

    // The source deletes one it read: its row is gone at once, its bytes after the next purge's rewrite.
    const token = (await openReply(read.envelope, source)).deleteToken;
    t.equal((await deleteReply(server.url, { tag: toBase64Url(read.tag), token: toBase64Url(token) })).status, 200);
    t.same(await purgeExpired(store.db, now()), { tips: 0, uploads: 0, replies: 0, notes: 0 }, 'nothing has expired on 03-06');
    // A rewrite that could not get the table's lock, or that an older snapshot made copy the deleted row, is done
    // again on the next pass, by design: two more passes must pay it.
    const filesAfterPasses = async (gone: Uint8Array) => {
      let files = await tableFiles(store.db);
      for (let pass = 0; pass < 2 && files.includes(Buffer.from(gone)); pass++) {
        t.comment('the rewrite was owed to the next pass: one more pass');
        await purgeExpired(store.db, now());
        files = await tableFiles(store.db);
      }
      return files;
    };
    const afterDelete = await filesAfterPasses(read.tag);
    t.notOk(afterDelete.includes(Buffer.from(read.tag)), 'the deleted reply’s tag is not in the files after the purge');
    t.notOk(afterDelete.includes(piece(read.envelope)), 'nor its envelope');
    t.ok(afterDelete.includes(Buffer.from(old.tag)) && afterDelete.includes(piece(old.envelope)), 'the others are');

    clock = Date.parse('2026-03-30T23:59:00Z');
    t.same(await purgeExpired(store.db, now()), { tips: 0, uploads: 0, replies: 0, notes: 0 }, 'kept until its expiry day');
    t.same(await flags([old.tag, later.tag, old.tag, later.tag]), [1, 1, 1, 1], 'both found the day before');

    clock = Date.parse('2026-03-31T00:00:01Z');
    t.same(await flags([old.tag, later.tag, old.tag, later.tag]), [0, 1, 0, 1], 'on its expiry day, a fetch no longer finds it (before the purge)');
    t.equal(hex((await listTags(server.url)).bytes), hex(later.tag), 'nor does the list');
    t.equal((await deleteReply(server.url, { tag: toBase64Url(old.tag), token: toBase64Url(new Uint8Array(32)) })).status, 404, 'nor a delete');
    t.same(await purgeExpired(store.db, now()), { tips: 0, uploads: 0, replies: 1, notes: 0 }, 'the purge deletes it');
    t.same((await store.db.selectFrom('replies').select('tag').execute()).map((r) => hex(r.tag)), [hex(later.tag)], 'the live one stays');
    t.same(await purgeExpired(store.db, now()), { tips: 0, uploads: 0, replies: 0, notes: 0 }, 'a second purge finds nothing');
    const afterPurge = await filesAfterPasses(old.tag);
    t.notOk(afterPurge.includes(Buffer.from(old.tag)), 'the expired reply’s tag is not in the files');
    t.notOk(afterPurge.includes(piece(old.envelope)), 'nor its envelope');
    t.ok(afterPurge.includes(Buffer.from(later.tag)) && afterPurge.includes(piece(later.envelope)), 'the live one is');

    const audit = await readAudit(store.db);
    // A heartbeat (zero counts) for each day a pass ran (03-06, 03-30), then the purge that deleted the reply.
    t.same(audit.map((e) => e.kind), ['directory-published', 'reply-delete', 'purge', 'purge', 'purge'], 'one purge entry a day, and one for the purge that deleted something');
    t.same(audit.slice(2).map((e) => e.day), ['2026-03-06', '2026-03-30', '2026-03-31']);
    t.same(JSON.parse(audit[4]!.detail), { notes: 0, replies: 1, tips: 0, uploads: 0 }, 'the purge counts replies');
    for (const r of [old, read, later]) {
      t.notOk(JSON.stringify(audit).includes(toBase64Url(r.tag)) || JSON.stringify(audit).includes(hex(r.tag)), 'no entry names a tag');
    }
    t.match(verifyChain(audit, newsroom.fingerprint), { ok: true, head: { seq: 5 } }, 'the chain verifies');
  });
}
