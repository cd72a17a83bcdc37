// A reply's tag is drawn at random; if the server already holds one with that tag it answers 409 and `tipline
// reply` draws another and posts again, once. Run in-process against a real server (PGlite and PostgreSQL): the
// first draw returns a tag already stored, the second a fresh one; two rows result, and a server that refuses
// twice gets a clear failure with nothing more stored.
import t from 'tap';
import { sql } from 'kysely';
import { dialects } from './helpers/databases.js';
import { newsroomServer } from './helpers/setup.js';
import { submit } from '../client/cli/commands/submit.js';
import { replyToTip } from '../client/cli/commands/reply.js';
import { generateCodename } from '../crypto/codename.js';
import { makeReplyTag } from '../crypto/reply-tags.js';

for (const dialect of await dialects()) {
  t.test(`a tag already stored: a new one is drawn, once, on ${dialect.name}`, { skip: dialect.skip }, async (t) => {
    const { server, newsroom, store } = await newsroomServer(t, dialect);
    const key = { ...newsroom.desk, role: 'desk' as const };
    const quiet = () => {};
    const receipt = await submit({ server: server.url, fingerprint: newsroom.fingerprint, message: 'a tip', files: [], retryForMs: 0, say: quiet, codename: generateCodename(), iterations: 1000 });
    const count = async () => Number((await sql<{ n: string }>`select count(*) as n from replies`.execute(store.db)).rows[0]!.n);

    const tags: Uint8Array[] = [];
    const first = await replyToTip({ server: server.staffUrl, key, tipId: receipt.tip_id, message: 'first', warn: quiet, drawTag: async (k) => (tags.push(await makeReplyTag(k)), tags.at(-1)!) });
    t.equal(first.author, 'desk-a', 'posted, as the directory names this desk');
    t.equal(await count(), 1);

    // The first draw collides with the reply just stored; the second is fresh.
    let draws = 0;
    const second = await replyToTip({ server: server.staffUrl, key, tipId: receipt.tip_id, message: 'second', warn: quiet, drawTag: async (k) => (++draws === 1 ? tags[0]! : makeReplyTag(k)) });
    t.equal(draws, 2, 'a second tag was drawn after the 409');
    t.match(second.expires_day, /^\d{4}-\d{2}-\d{2}$/);
    t.equal(await count(), 2, 'both replies are stored');

    // Always the same tag: refused twice, reported, nothing more stored.
    let tries = 0;
    await t.rejects(
      replyToTip({ server: server.staffUrl, key, tipId: receipt.tip_id, message: 'third', warn: quiet, drawTag: async () => (tries++, tags[0]!) }),
      /refused the reply twice as already stored \(409\); nothing was posted/,
    );
    t.equal(tries, 2, 'exactly one retry');
    t.equal(await count(), 2, 'nothing more stored');
  });
}
