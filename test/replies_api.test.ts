// The reply routes end to end on a real server: a desk posts replies (signed over the body), anyone lists every
// live tag, a source finds its own, fetches them in four slots of one size, opens them with its codename keys,
// and deletes one with the token inside it; the row is then gone and a replayed delete changes nothing.
import t from 'tap';
import { dialects } from './helpers/databases.js';
import { newsroomServer } from './helpers/setup.js';
import { deleteReply, fetchReplies, hex, listTags, makeReply, postReply, sourceKeys } from './helpers/replies.js';
import { findOwnTags } from '../crypto/reply-tags.js';
import { openReply, REPLY_ENVELOPE_LENGTH } from '../crypto/reply.js';
import { toBase64, toBase64Url } from '../crypto/bytes.js';
import { readAudit } from '../server/audit.js';
import { verifyChain } from '../crypto/audit-chain.js';
import { REPLY_FETCH_SLOTS, replySlotBytes } from '../schema/wire.js';

const SLOT = replySlotBytes(REPLY_ENVELOPE_LENGTH);

for (const dialect of await dialects()) {
  t.test(`replies on ${dialect.name}`, { skip: dialect.skip }, async (t) => {
    const clock = Date.parse('2026-03-01T13:37:11Z');
    const now = () => new Date(clock);
    const { store, newsroom, server } = await newsroomServer(t, dialect, { now, retentionDays: 30 });
    const alice = await sourceKeys(newsroom.fingerprint);
    const bob = await sourceKeys(newsroom.fingerprint);

    const a1 = await makeReply(newsroom.desk, alice, 'first question for alice', now());
    const a2 = await makeReply(newsroom.desk, alice, 'second question for alice', now());
    const b1 = await makeReply(newsroom.desk, bob, 'a question for bob', now());
    for (const r of [a1, b1, a2]) {
      const res = await postReply(server.staffUrl, newsroom.desk, r.post, { now: now() });
      t.equal(res.status, 201, 'a desk posts a reply');
      t.same(await res.json(), { posted_day: '2026-03-01', expires_day: '2026-03-31' }, 'dated to the day, kept as long as tips');
    }
    const rows = await store.db.selectFrom('replies').selectAll().execute();
    t.equal(rows.length, 3, 'three rows stored');
    const a1Row = rows.find((r) => hex(r.tag) === hex(a1.tag))!;
    t.equal(hex(a1Row.envelope), hex(a1.envelope), 'the envelope stored byte for byte');
    t.equal(hex(a1Row.delete_hash), hex(a1.deleteHash), 'with the deletion hash, not the token');

    const list = await listTags(server.url);
    t.equal(list.status, 200);
    t.match(list.type, /^application\/octet-stream/);
    t.equal(list.cache, 'no-store');
    const expected = [a1.tag, a2.tag, b1.tag].map(hex).sort();
    const got = [...Array(list.bytes.length / 16).keys()].map((i) => hex(list.bytes.subarray(i * 16, i * 16 + 16)));
    t.same(got, expected, 'the list holds every live tag, 16 bytes each, in byte order');
    const again = await listTags(server.url);
    t.equal(hex(again.bytes), hex(list.bytes), 'the same bytes for the next visitor');

    // Alice finds her own two in the list, and asks for them with two of the others' as decoys.
    const own = await findOwnTags(alice.tagKey, list.bytes);
    t.equal(own.length, 2, 'the source finds exactly its own tags');
    const ownTags = own.map((i) => list.bytes.slice(i * 16, i * 16 + 16));
    const unknown = new Uint8Array(16).fill(7);
    const asked = [ownTags[0]!, b1.tag, unknown, ownTags[1]!];
    const res = await fetchReplies(server.url, asked.map(toBase64Url));
    t.equal(res.status, 200);
    t.match(res.headers.get('content-type'), /^application\/octet-stream/);
    t.equal(res.headers.get('cache-control'), 'no-store');
    const body = new Uint8Array(await res.arrayBuffer());
    t.equal(body.length, REPLY_FETCH_SLOTS * SLOT, 'four slots of one size');
    t.same([0, 1, 2, 3].map((i) => body[i * SLOT]), [1, 1, 0, 1], 'flags: found, found, not found, found');
    t.ok(body.subarray(2 * SLOT + 1, 3 * SLOT).every((b) => b === 0), 'the empty slot is zeros');
    const none = new Uint8Array(await (await fetchReplies(server.url, [unknown, unknown, unknown, unknown].map(toBase64Url))).arrayBuffer());
    t.equal(none.length, body.length, 'a fetch that finds nothing has the same size');
    t.ok(none.every((b) => b === 0), 'and is all zeros');

    const opened = await Promise.all([0, 3].map((i) => openReply(body.slice(i * SLOT + 1, (i + 1) * SLOT), alice)));
    t.same(opened.map((o) => o.message).sort(), ['first question for alice', 'second question for alice'], 'the source opens its replies');
    t.ok(opened.every((o) => o.deskKey === toBase64(newsroom.desk.signPublic) && o.sentDay === '2026-03-01'), 'signed by the desk, on the day sealed');
    await t.rejects(openReply(body.slice(SLOT + 1, 2 * SLOT), alice), 'bob’s reply does not open with alice’s keys');

    // Deleting with the token from inside the reply.
    const first = opened.find((o) => o.message === 'first question for alice')!;
    const firstTag = asked[opened[0]!.message === first.message ? 0 : 3]!;
    const del = await deleteReply(server.url, { tag: toBase64Url(firstTag), token: toBase64Url(first.deleteToken) });
    t.equal(del.status, 200);
    t.same(await del.json(), { deleted: true });
    const left = (await store.db.selectFrom('replies').select('tag').execute()).map((r) => hex(r.tag)).sort();
    t.notOk(left.includes(hex(firstTag)), 'the row is gone from the table');
    t.equal(left.length, 2, 'the others stay');
    const listed = await listTags(server.url);
    t.equal(listed.bytes.length, 32, 'and from the list');
    const afterFetch = new Uint8Array(await (await fetchReplies(server.url, asked.map(toBase64Url))).arrayBuffer());
    t.same([0, 1, 2, 3].map((i) => afterFetch[i * SLOT]), [opened[0]!.message === first.message ? 0 : 1, 1, 0, opened[0]!.message === first.message ? 1 : 0], 'a fetch no longer finds it');

    const replay = await deleteReply(server.url, { tag: toBase64Url(firstTag), token: toBase64Url(first.deleteToken) });
    t.equal(replay.status, 404, 'a replayed delete is a 404');
    t.equal(((await replay.json()) as { error: { code: string } }).error.code, 'TIPLINE_ERR_REPLY_UNKNOWN');
    t.equal((await store.db.selectFrom('replies').select('tag').execute()).length, 2, 'and changes nothing');

    const audit = await readAudit(store.db);
    t.same(audit.map((e) => e.kind), ['directory-published', 'reply-delete'], 'one audit entry for the delete, none for posting');
    t.equal(audit[1]!.detail, '{"replies":1}', 'counts only: no tag');
    t.equal(audit[1]!.day, '2026-03-01');
    t.match(verifyChain(audit, newsroom.fingerprint), { ok: true });

    // The log holds routes and statuses, never a tag, a token or a hash a source or a desk sent.
    const logs = server.logs();
    t.match(logs, /\/api\/v1\/replies\/fetch/, '(the log does record the requests)');
    for (const secret of [...[a1, a2, b1].flatMap((r) => [r.post.tag, r.post.delete_hash, hex(r.tag)]), toBase64Url(first.deleteToken)]) {
      t.notOk(logs.includes(secret), 'no tag, hash or token in the log');
    }
  });
}
