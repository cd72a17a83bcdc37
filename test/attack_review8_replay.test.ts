// Outside review of issue 8: replays. A desk's reply POST captured and sent again byte for byte is refused by its
// single-use nonce, also after the source deleted the reply (a replay must not bring a read reply back); a
// source's delete replayed changes nothing. On PGlite and PostgreSQL.
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { dialects } from './helpers/databases.js';
import { newsroomServer } from './helpers/setup.js';
import { deleteReply, makeReply, sourceKeys } from './helpers/replies.js';
import { signStaffRequest } from '../crypto/staff-request.js';
import { openReply } from '../crypto/reply.js';
import { toBase64Url, utf8Encode } from '../crypto/bytes.js';
import { bin } from './helpers/fixtures.js';

for (const dialect of await dialects()) {
  t.test(`replays on ${dialect.name}`, { skip: dialect.skip }, async (t) => {
    const { store, newsroom, server } = await newsroomServer(t, dialect);
    const source = await sourceKeys(newsroom.fingerprint);
    const r = await makeReply(newsroom.desk, source, 'read me once');
    const path = '/api/v1/staff/replies';
    const body = utf8Encode(JSON.stringify(r.post));
    const headers = { ...signStaffRequest({ host: new URL(server.staffUrl).host, method: 'POST', pathAndQuery: path, timestamp: Math.floor(Date.now() / 1000), nonce: new Uint8Array(randomBytes(16)), body, contentType: 'application/json' }, newsroom.desk.signSecret), 'content-type': 'application/json' };
    const send = () => fetch(`${server.staffUrl}${path}`, { method: 'POST', headers, body: bin(body) });
    const count = async () => Number((await sql<{ n: string }>`select count(*) as n from replies`.execute(store.db)).rows[0]!.n);

    t.equal((await send()).status, 201, 'the original is stored');
    const again = await send();
    t.equal(again.status, 401, 'the same bytes again: refused (not a 409 that depends on the row)');
    t.match(JSON.stringify(await again.json()), /nonce|replay|already/i, 'as a replay');

    const token = (await openReply(r.envelope, source)).deleteToken;
    const del = { tag: r.post.tag, token: toBase64Url(token) };
    t.equal((await deleteReply(server.url, del)).status, 200, 'the source deletes it');
    t.equal(await count(), 0);
    const resurrect = await send();
    t.equal(resurrect.status, 401, 'the captured post replayed after the delete is refused');
    t.equal(await count(), 0, 'the read reply does not come back');
    t.equal((await deleteReply(server.url, del)).status, 404, 'a replayed delete: 404');
    t.equal(await count(), 0, 'changes nothing');
  });
}
