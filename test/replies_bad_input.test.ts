// Bad input to the reply routes gets a clear 4xx JSON answer, never a 500, and changes nothing: not the replies
// table, not the audit chain. Covers the tags and tokens a source sends (malformed, not canonical, too few or
// too many), and what a desk posts (an envelope of the wrong length or with two stanzas, a tag taken, a body
// over the limit), who may post (not an auditor, not an unsigned request) and that the signature covers the
// body and its content type as received: a body or type altered after signing is refused.
import t, { type Test } from 'tap';
import { dialects } from './helpers/databases.js';
import { newsroomServer } from './helpers/setup.js';
import { collect } from './helpers/fixtures.js';
import { deleteReply, fetchReplies, hex, makeReply, postReply, sourceKeys } from './helpers/replies.js';
import { ErrorBody } from '../schema/errors.js';
import { MAX_LIVE_REPLIES } from '../schema/wire.js';
import { toBase64, toBase64Url, utf8Encode } from '../crypto/bytes.js';
import { encryptEnvelope, sentDay } from '../crypto/envelope/index.js';
import { generateDeskKey } from '../crypto/keys.js';
import { openReply, REPLY_ENVELOPE_LENGTH } from '../crypto/reply.js';
import { sql } from 'kysely';

async function expectError(t: Test, res: Response, status: number, code: string, what: string) {
  t.equal(res.status, status, `${what}: status ${status}`);
  t.match(res.headers.get('content-type') ?? '', /^application\/json/, `${what}: JSON`);
  const parsed = ErrorBody.safeParse(await res.json());
  t.ok(parsed.success, `${what}: an ErrorBody with a known code`);
  t.equal(parsed.data?.error.code, code, `${what}: ${code}`);
}

for (const dialect of await dialects()) {
  t.test(`bad input to the reply routes on ${dialect.name}`, { skip: dialect.skip }, async (t) => {
    const { store, newsroom, server } = await newsroomServer(t, dialect);
    const source = await sourceKeys(newsroom.fingerprint);
    const stored = await makeReply(newsroom.desk, source, 'the one reply stored');
    t.equal((await postReply(server.staffUrl, newsroom.desk, stored.post)).status, 201, 'one reply stored to start with');
    const fresh = await makeReply(newsroom.desk, source, 'a reply to post');
    const token = (await openReply(stored.envelope, source)).deleteToken;

    /** Everything a refused request must leave as it was. */
    const state = async () => ({
      replies: (await store.db.selectFrom('replies').selectAll().orderBy('tag').execute()).map((r) => [hex(r.tag), hex(r.delete_hash), hex(r.envelope)].join(':')),
      audit: (await store.db.selectFrom('audit_log').select('hash').execute()).length,
    });
    const before = await state();
    t.equal(before.replies.length, 1);
    const unchanged = async (t: Test, what: string) => t.same(await state(), before, `${what}: nothing changed`);

    await t.test('fetch: tags that are not four canonical 16-byte base64url values', async (t) => {
      const tag = toBase64Url(stored.tag);
      const cases: [string, unknown][] = [
        ['three tags', [tag, tag, tag]],
        ['five tags', [tag, tag, tag, tag, tag]],
        ['no tags', []],
        ['a tag with padding', [tag, tag, tag, `${tag}==`]],
        ['a tag in standard base64', [tag, tag, tag, '+/' + tag.slice(2)]],
        ['a tag of 15 bytes', [tag, tag, tag, 'A'.repeat(20)]],
        ['a tag of 17 bytes', [tag, tag, tag, 'A'.repeat(23)]],
        ['a non-canonical tag (trailing bits set)', [tag, tag, tag, `${tag.slice(0, 21)}B`]],
        ['a number', [tag, tag, tag, 5]],
        ['not a list', tag],
      ];
      for (const [what, tags] of cases) {
        await expectError(t, await fetchReplies(server.url, tags), 400, 'TIPLINE_ERR_BAD_REQUEST', what);
      }
      const r = await fetch(`${server.url}/api/v1/replies/fetch`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tags: [tag, tag, tag, tag], pad: 'x'.repeat(5000) }) });
      await expectError(t, r, 413, 'TIPLINE_ERR_BODY_TOO_LARGE', 'a body over 4 KiB');
      const plain = await fetch(`${server.url}/api/v1/replies/fetch`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: JSON.stringify({ tags: [tag, tag, tag, tag] }) });
      await expectError(t, plain, 415, 'TIPLINE_ERR_UNSUPPORTED_MEDIA_TYPE', 'text/plain');
      const broken = await fetch(`${server.url}/api/v1/replies/fetch`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"tags": [' });
      await expectError(t, broken, 400, 'TIPLINE_ERR_BAD_REQUEST', 'broken JSON');
      await unchanged(t, 'fetch');
    });

    await t.test('delete: without the token, with a wrong one, of a tag never stored', async (t) => {
      const tag = toBase64Url(stored.tag);
      await expectError(t, await deleteReply(server.url, { tag }), 400, 'TIPLINE_ERR_BAD_REQUEST', 'no token');
      await expectError(t, await deleteReply(server.url, { tag, token: '' }), 400, 'TIPLINE_ERR_BAD_REQUEST', 'an empty token');
      const wrong = new Uint8Array(token);
      wrong[0]! ^= 1;
      await expectError(t, await deleteReply(server.url, { tag, token: toBase64Url(wrong) }), 403, 'TIPLINE_ERR_REPLY_FORBIDDEN', 'a token one bit off');
      await expectError(t, await deleteReply(server.url, { tag, token: toBase64Url(stored.deleteHash) }), 403, 'TIPLINE_ERR_REPLY_FORBIDDEN', 'the stored hash itself, as a token');
      await expectError(t, await deleteReply(server.url, { tag, token: `${toBase64Url(token).slice(0, 42)}B` }), 400, 'TIPLINE_ERR_BAD_REQUEST', 'a non-canonical token');
      await expectError(t, await deleteReply(server.url, { tag: toBase64Url(fresh.tag), token: toBase64Url(token) }), 404, 'TIPLINE_ERR_REPLY_UNKNOWN', 'a tag never stored, with a real token');
      await expectError(t, await deleteReply(server.url, { tag: toBase64Url(stored.tag).slice(1), token: toBase64Url(token) }), 400, 'TIPLINE_ERR_BAD_REQUEST', 'a short tag');
      await unchanged(t, 'delete');
    });

    await t.test('post: envelopes that are not one reply', async (t) => {
      const post = (envelope: string) => postReply(server.staffUrl, newsroom.desk, { ...fresh.post, envelope });
      const short = fresh.envelope.slice(0, REPLY_ENVELOPE_LENGTH - 1);
      await expectError(t, await post(toBase64(short)), 400, 'TIPLINE_ERR_REPLY_MALFORMED', 'one byte short');
      const long = new Uint8Array(REPLY_ENVELOPE_LENGTH + 1);
      long.set(fresh.envelope);
      await expectError(t, await post(toBase64(long)), 400, 'TIPLINE_ERR_REPLY_MALFORMED', 'one byte long');
      // Sealed to two keys: the source's and one it never gave.
      const two = encryptEnvelope({ recipients: [source.boxPublic, generateDeskKey().boxPublic], manifest: { v: 2, sent_day: sentDay(new Date()), message: 'hi', files: [] }, files: [] });
      await expectError(t, await post(toBase64(await collect(two.stream))), 400, 'TIPLINE_ERR_REPLY_MALFORMED', 'a two-stanza envelope');
      const recounted = fresh.envelope.slice();
      recounted[8] = 2; // the stanza count, at the reply's own length
      await expectError(t, await post(toBase64(recounted)), 400, 'TIPLINE_ERR_REPLY_MALFORMED', 'a stanza count of two at the reply length');
      const magic = fresh.envelope.slice();
      magic[0] = 0x41;
      await expectError(t, await post(toBase64(magic)), 400, 'TIPLINE_ERR_REPLY_MALFORMED', 'not an envelope (magic)');
      // (A reply's length is a multiple of 3: its base64 has no padding to leave out.)
      await expectError(t, await post(`${toBase64(fresh.envelope)}==`), 400, 'TIPLINE_ERR_REPLY_MALFORMED', 'base64 with padding it should not have');
      await expectError(t, await post(`${toBase64(fresh.envelope)}\n`), 400, 'TIPLINE_ERR_REPLY_MALFORMED', 'base64 and a line break');
      await expectError(t, await post(toBase64Url(fresh.envelope)), 400, 'TIPLINE_ERR_REPLY_MALFORMED', 'base64url instead of base64');
      await expectError(t, await post(''), 400, 'TIPLINE_ERR_REPLY_MALFORMED', 'empty');
      await expectError(t, await postReply(server.staffUrl, newsroom.desk, { ...fresh.post, tag: undefined }), 400, 'TIPLINE_ERR_BAD_REQUEST', 'no tag');
      await expectError(t, await postReply(server.staffUrl, newsroom.desk, { ...fresh.post, delete_hash: 'A'.repeat(44) }), 400, 'TIPLINE_ERR_BAD_REQUEST', 'a 33-byte hash');
      await expectError(t, await postReply(server.staffUrl, newsroom.desk, { ...fresh.post, envelope: 'A'.repeat(120_000) }), 413, 'TIPLINE_ERR_BODY_TOO_LARGE', 'a body over the limit');
      await expectError(t, await postReply(server.staffUrl, newsroom.desk, stored.post), 409, 'TIPLINE_ERR_REPLY_EXISTS', 'a tag already stored');
      await expectError(t, await postReply(server.staffUrl, newsroom.desk, { ...fresh.post, tag: stored.post.tag }), 409, 'TIPLINE_ERR_REPLY_EXISTS', 'a new reply under a stored tag');
      await unchanged(t, 'post');
    });

    await t.test('post: who may, and what the signature covers', async (t) => {
      await expectError(t, await postReply(server.staffUrl, newsroom.auditor, fresh.post), 403, 'TIPLINE_ERR_FORBIDDEN', 'an auditor');
      await expectError(t, await postReply(server.staffUrl, newsroom.outsider, fresh.post), 401, 'TIPLINE_ERR_UNAUTHENTICATED', 'a key not in the directory');
      await expectError(t, await postReply(server.staffUrl, newsroom.desk, fresh.post, { unsigned: true }), 401, 'TIPLINE_ERR_UNAUTHENTICATED', 'unsigned');
      // Authentication comes before validation: whoever did not sign learns nothing of what is wrong with the body.
      await expectError(t, await postReply(server.staffUrl, newsroom.desk, { tag: 'nonsense' }, { unsigned: true }), 401, 'TIPLINE_ERR_UNAUTHENTICATED', 'unsigned, with a malformed body');
      await expectError(t, await postReply(server.staffUrl, newsroom.auditor, { tag: 'nonsense' }), 403, 'TIPLINE_ERR_FORBIDDEN', 'an auditor, with a malformed body');
      const signedBytes = utf8Encode(JSON.stringify(fresh.post));
      // Altered after signing: another deletion hash, the same length (whoever holds it could delete the reply).
      const altered = utf8Encode(JSON.stringify({ ...fresh.post, delete_hash: toBase64Url(new Uint8Array(32).fill(9)) }));
      t.equal(altered.length, signedBytes.length);
      await expectError(t, await postReply(server.staffUrl, newsroom.desk, fresh.post, { send: altered }), 401, 'TIPLINE_ERR_UNAUTHENTICATED', 'a body altered after signing');
      // The same JSON value, other bytes (a space): the signature is over the bytes, not what they parse to.
      const respaced = utf8Encode(JSON.stringify(fresh.post).replace('{', '{ '));
      await expectError(t, await postReply(server.staffUrl, newsroom.desk, fresh.post, { send: respaced }), 401, 'TIPLINE_ERR_UNAUTHENTICATED', 'the same JSON in other bytes');
      await expectError(t, await postReply(server.staffUrl, newsroom.desk, fresh.post, { sentType: 'application/json; charset=utf-8' }), 401, 'TIPLINE_ERR_UNAUTHENTICATED', 'a content type altered after signing');
      await expectError(t, await postReply(server.staffUrl, newsroom.desk, fresh.post, { contentType: 'text/plain' }), 415, 'TIPLINE_ERR_UNSUPPORTED_MEDIA_TYPE', 'signed text/plain');
      const notUtf8 = new Uint8Array([...utf8Encode('{"tag":"'), 0xff, 0xfe, ...utf8Encode('"}')]);
      await expectError(t, await postReply(server.staffUrl, newsroom.desk, notUtf8), 400, 'TIPLINE_ERR_BAD_REQUEST', 'signed bytes that are not UTF-8');
      await expectError(t, await postReply(server.staffUrl, newsroom.desk, utf8Encode('{"__proto__": {"x": 1}}')), 400, 'TIPLINE_ERR_BAD_REQUEST', 'a prototype-poisoning body');
      // On a route that takes no body, a signed body is harmless; an unsigned one is still refused.
      const r = await fetch(`${server.staffUrl}/api/v1/staff/tips`, { method: 'GET', headers: { 'content-type': 'application/json' } });
      await expectError(t, r, 401, 'TIPLINE_ERR_UNAUTHENTICATED', 'a GET without a signature');
      await unchanged(t, 'signatures');
      // And the same request unaltered is accepted: the refusals above were for the alteration.
      t.equal((await postReply(server.staffUrl, newsroom.desk, fresh.post)).status, 201, 'the request as signed is accepted');
      t.equal((await state()).replies.length, 2);
    });

    await t.test(`at ${MAX_LIVE_REPLIES} live replies a post waits`, async (t) => {
      // Filled in one statement: small rows (the table does not check lengths; the routes do).
      await sql`insert into replies (tag, delete_hash, envelope, posted_day, expires_day)
        select decode(lpad(to_hex(i), 32, '0'), 'hex'), '\\x00'::bytea, '\\x00'::bytea, '2026-01-01', '2999-01-01'
        from generate_series(1, ${MAX_LIVE_REPLIES - 2}) as i`.execute(store.db);
      const count = async () => Number((await sql<{ n: string }>`select count(*) as n from replies`.execute(store.db)).rows[0]!.n);
      t.equal(await count(), MAX_LIVE_REPLIES);
      const another = await makeReply(newsroom.desk, source, 'one too many');
      const r = await postReply(server.staffUrl, newsroom.desk, another.post);
      t.ok(Number(r.headers.get('retry-after')) > 0, 'with Retry-After');
      await expectError(t, r, 503, 'TIPLINE_ERR_BUSY', 'one over the cap');
      t.equal(await count(), MAX_LIVE_REPLIES, 'nothing stored');
      // An expired row does not count: replace one live filler with an expired one.
      await sql`update replies set expires_day = '2000-01-01' where tag = decode(lpad(to_hex(1), 32, '0'), 'hex')`.execute(store.db);
      t.equal((await postReply(server.staffUrl, newsroom.desk, another.post)).status, 201, 'under the cap again, it is stored');
    });
  });
}
