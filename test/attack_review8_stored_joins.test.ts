// Outside review of issue 8: what the server keeps that could join a reply to a tip, a desk, a source, another
// reply, or a precise time. A desk posts two replies to two sources (signed requests, as tipline reply sends them);
// then every table is read with PostgreSQL's hidden row columns (xmin: the writing transaction, in commit order;
// ctid: where the row lies) and the log is read. Prints what it finds; the assertions are the invariants.
import t from 'tap';
import { sql } from 'kysely';
import { dialects } from './helpers/databases.js';
import { newsroomServer } from './helpers/setup.js';
import { liveColumns } from './helpers/dump.js';
import { makeReply, postReply, sourceKeys } from './helpers/replies.js';

for (const dialect of await dialects()) {
  t.test(`stored joins on ${dialect.name}`, { skip: dialect.skip }, async (t) => {
    const { store, newsroom, server } = await newsroomServer(t, dialect);
    const alice = await sourceKeys(newsroom.fingerprint);
    const bob = await sourceKeys(newsroom.fingerprint);
    for (const [to, m] of [[alice, 'to alice'], [bob, 'to bob']] as const) {
      t.equal((await postReply(server.staffUrl, newsroom.desk, (await makeReply(newsroom.desk, to, m)).post)).status, 201);
    }
    const cols = await liveColumns(store.db);
    t.same(cols.replies, ['tag', 'delete_hash', 'envelope', 'posted_day', 'expires_day'], 'the replies table: tag, hash, envelope, days');
    const replies = (await sql<{ x: string; ctid: string; posted_day: string }>`select xmin::text as x, ctid::text as ctid, posted_day from replies`.execute(store.db)).rows;
    const nonces = (await sql<{ x: string; expires_at: Date }>`select xmin::text as x, expires_at from staff_nonces`.execute(store.db)).rows;
    t.comment(`replies (xmin, ctid): ${JSON.stringify(replies.map((r) => [r.x, r.ctid]))}`);
    t.comment(`staff_nonces (xmin, expires_at): ${JSON.stringify(nonces.map((n) => [n.x, n.expires_at instanceof Date ? n.expires_at.toISOString() : n.expires_at]))}`);
    // A reply's writing transaction next to a nonce's, whose expires_at is the request's second plus a constant:
    // the reply's posting time to the second, while the nonce is kept.
    const adjacent = replies.filter((r) => nonces.some((n) => Math.abs(Number(n.x) - Number(r.x)) <= 2));
    t.comment(`${adjacent.length} of ${replies.length} replies sit within 2 transactions of a staff nonce`);
    t.ok(nonces.length > 0 && nonces.every((n) => new Date(n.expires_at).getTime() % 600_000 === 0), 'a nonce keeps its expiry to ten minutes, not to the second');
    const log = server.logs();
    t.comment(`log lines about replies: ${log.split('\n').filter((l) => l.includes('replies')).join(' | ')}`);
    t.notMatch(log.split('\n').filter((l) => !l.includes('Server listening')).join('\n'), /"time"|"hostname"|"pid"|remoteAddress|127\.0\.0\.1|user-agent/i, 'no time, host, pid, address or user agent in the log');
    t.notMatch(log, new RegExp(toKeyB64(newsroom.desk.signPublic)), 'the log does not name the desk key');
  });
}

function toKeyB64(k: Uint8Array): string {
  return Buffer.from(k).toString('base64').replace(/[+/=]/g, (c) => `\\${c}`);
}
