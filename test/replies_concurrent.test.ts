// Races on the reply routes settle the way a single request would: a source's delete sent twice at once (its
// first answer lost on a dropped circuit, say) deletes once, answers one 200 and one 404, and writes one audit
// entry; a desk's post sent twice at once stores one row and answers one 201 and one 409.
import t from 'tap';
import { dialects } from './helpers/databases.js';
import { newsroomServer } from './helpers/setup.js';
import { deleteReply, makeReply, postReply, sourceKeys } from './helpers/replies.js';
import { openReply } from '../crypto/reply.js';
import { toBase64Url } from '../crypto/bytes.js';
import { readAudit } from '../server/audit.js';

for (const dialect of await dialects()) {
  t.test(`reply races on ${dialect.name}`, { skip: dialect.skip }, async (t) => {
    const { store, newsroom, server } = await newsroomServer(t, dialect);
    const source = await sourceKeys(newsroom.fingerprint);
    const rows = async () => (await store.db.selectFrom('replies').select('tag').execute()).length;

    for (let round = 0; round < 3; round++) {
      const r = await makeReply(newsroom.desk, source, `reply ${round}`);
      const posts = await Promise.all([postReply(server.staffUrl, newsroom.desk, r.post), postReply(server.staffUrl, newsroom.desk, r.post)]);
      t.same(posts.map((p) => p.status).sort(), [201, 409], `round ${round}: the same post twice at once: one stored, one told it exists`);
      t.equal(await rows(), 1, 'one row');

      const body = { tag: toBase64Url(r.tag), token: toBase64Url((await openReply(r.envelope, source)).deleteToken) };
      const deletes = await Promise.all([deleteReply(server.url, body), deleteReply(server.url, body), deleteReply(server.url, body)]);
      t.same(deletes.map((d) => d.status).sort(), [200, 404, 404], 'the same delete three times at once: one deletes');
      t.equal(await rows(), 0, 'the row is gone');
    }
    const audit = await readAudit(store.db);
    t.equal(audit.filter((e) => e.kind === 'reply-delete').length, 3, 'one audit entry per reply deleted, none for the losers');
  });
}
