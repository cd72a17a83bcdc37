// A reply fetch answers 262 KB for a 200-byte request and costs a query: beyond maxReplyFetches (8) at once the
// server answers 503 with Retry-After instead of piling them up, and the source's visit waits and asks again.
import t from 'tap';
import { dialects } from './helpers/databases.js';
import { newsroomServer } from './helpers/setup.js';
import { fetchReplies } from './helpers/replies.js';
import { ErrorBody } from '../schema/errors.js';

const tag = 'A'.repeat(21) + 'A';

for (const dialect of await dialects()) {
  t.test(`reply fetches beyond the limit at once are shed on ${dialect.name}`, { skip: dialect.skip }, async (t) => {
    // A limit of 2, so that 64 requests at once overlap for certain while each waits on its query.
    const { server } = await newsroomServer(t, dialect, { maxReplyFetches: 2 });
    let busy = 0;
    let ok = 0;
    // Rounds of 64 at once until one round has been shed (bounded: 10 rounds).
    // PGlite runs each query to its end inside the process before the next request is read: fetches never overlap
    // there, so nothing piles up and nothing needs shedding. On PostgreSQL they wait on the database together.
    const overlap = dialect.name !== 'pglite';
    for (let round = 0; round < (overlap ? 10 : 1) && busy === 0; round++) {
      const answers = await Promise.all(Array.from({ length: 64 }, () => fetchReplies(server.url, [tag, tag, tag, tag])));
      for (const r of answers) {
        if (r.status === 200) {
          ok++;
          t.equal((await r.arrayBuffer()).byteLength, 4 * (1 + 65_673));
        } else {
          busy++;
          t.equal(r.status, 503, 'shed with 503');
          t.ok(Number(r.headers.get('retry-after')) > 0, 'with Retry-After');
          t.equal(ErrorBody.parse(await r.json()).error.code, 'TIPLINE_ERR_BUSY');
        }
      }
    }
    if (overlap) t.ok(busy > 0, `${busy} of the concurrent fetches were shed`);
    t.ok(ok >= 2, `${ok} were answered`);
  });
}
