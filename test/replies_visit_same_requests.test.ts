// What the server sees of a source's visit for replies does not depend on the codename: a mistyped one, a valid
// one with no replies and a valid one with a reply waiting make the same requests (method, path, body length), in
// the same order, and get answers of the same sizes. Recorded at the transport the command line uses (one
// connection, client/cli/http.ts), against a real server, on PGlite and PostgreSQL.
import t from 'tap';
import { dialects } from './helpers/databases.js';
import { newsroomServer } from './helpers/setup.js';
import { Connection } from '../client/cli/http.js';
import { Api } from '../client/cli/api.js';
import { SourceApi, type Transport, type WireAnswer, type WireRequest } from '../client/shared/api.js';
import { visitReplies, codenameKeys } from '../client/shared/replies.js';
import { generateCodename, parseCodename } from '../crypto/codename.js';
import { makeReplyTag } from '../crypto/reply-tags.js';
import { sealReply, REPLY_ENVELOPE_LENGTH } from '../crypto/reply.js';
import { toBase64, toBase64Url } from '../crypto/bytes.js';
import { REPLY_FETCH_SLOTS, replySlotBytes } from '../schema/wire.js';
import type { Newsroom } from './helpers/fixtures.js';

interface Exchange {
  method: string;
  path: string;
  bodyLength: number;
  status?: number;
  answerLength?: number;
  /** When the request was sent (ms, performance.now()): for the comment on timing below, not compared. */
  at: number;
}

class Recording implements Transport {
  readonly log: Exchange[] = [];
  constructor(private readonly inner: Transport) {}
  async send(req: WireRequest, limit: number): Promise<WireAnswer> {
    const e: Exchange = { method: req.method, path: req.path, bodyLength: req.body?.length ?? 0, at: performance.now() };
    this.log.push(e);
    const a = await this.inner.send(req, limit);
    e.status = a.status;
    e.answerLength = a.body.length;
    return a;
  }
}

/** Posts a reply to `codename`'s keys at this tip line, signed by the newsroom's desk, as tipline reply does. */
async function postReply(n: Newsroom, staffUrl: string, codenameText: string, message: string): Promise<void> {
  const parsed = parseCodename(codenameText);
  if (!parsed.ok) throw new Error('bad codename');
  const keys = await codenameKeys(parsed.codename, n.fingerprint);
  const sealed = await sealReply({ toBoxKey: keys.boxPublic, message, desk: { signPublic: n.desk.signPublic, signSecret: n.desk.signSecret }, now: new Date() });
  const api = new Api(new URL(staffUrl));
  try {
    const posted = await api.postReply({ ...n.desk, role: 'desk' }, { tag: toBase64Url(await makeReplyTag(keys.tagKey)), delete_hash: toBase64Url(sealed.deleteHash), envelope: toBase64(sealed.envelope) });
    if (posted === 'tag-taken') throw new Error('tag taken');
  } finally {
    await api.close();
  }
}

for (const dialect of await dialects()) {
  t.test(`three visits the server cannot tell apart on ${dialect.name}`, { skip: dialect.skip }, async (t) => {
    const { server, newsroom } = await newsroomServer(t, dialect);
    const withReply = generateCodename().text;
    const without = generateCodename().text;
    // A valid codename with one word replaced by another list word: every word known, the check word wrong.
    const words = withReply.split(' ');
    const mistyped = ['zoo', 'abandon', 'ability', 'able'].map((w) => [...words.slice(0, 3), w, ...words.slice(4)].join(' ')).find((m) => !parseCodename(m).ok)!;
    t.equal(parseCodename(mistyped).ok, false, 'the mistyped codename does not parse');
    await postReply(newsroom, server.staffUrl, withReply, 'REPLY for the source with a codename');
    await postReply(newsroom, server.staffUrl, generateCodename().text, 'a reply to somebody else');

    const visits: { label: string; typed: string; log: Exchange[]; outcome: Awaited<ReturnType<typeof visitReplies>> }[] = [];
    for (const [label, typed] of [['mistyped', mistyped], ['valid, no replies', without], ['valid, one reply', withReply]] as const) {
      const conn = new Connection(new URL(server.url), undefined);
      const rec = new Recording(conn);
      try {
        const outcome = await visitReplies(new SourceApi(rec), { typed, fingerprint: newsroom.fingerprint, now: new Date() });
        visits.push({ label, typed, log: rec.log, outcome });
      } finally {
        await conn.close();
      }
    }
    const [a, b, c] = visits as [(typeof visits)[0], (typeof visits)[0], (typeof visits)[0]];
    t.equal(a.outcome.codename, 'mistyped', 'the first visit is told the codename is mistyped');
    t.ok(b.outcome.codename === 'ok' && b.outcome.replies.length === 0, 'the second finds no replies');
    t.ok(c.outcome.codename === 'ok' && c.outcome.replies.length === 1 && c.outcome.replies[0]!.message === 'REPLY for the source with a codename', 'the third finds its reply');

    const requests = (v: (typeof visits)[0]) => v.log.map((e) => `${e.method} ${e.path} ${e.bodyLength}`);
    const answers = (v: (typeof visits)[0]) => v.log.map((e) => `${e.status} ${e.answerLength}`);
    t.same(requests(b), requests(a), 'no replies and mistyped: the same requests, bodies of the same lengths');
    t.same(requests(c), requests(a), 'a reply found and mistyped: the same requests');
    t.same(answers(b), answers(a), 'answers of the same status and size');
    t.same(answers(c), answers(a), 'answers of the same status and size');
    t.equal(a.log.length, 3, 'three requests: the directory, the tag list, one fetch');
    const fetch = a.log.find((e) => e.path.endsWith('/fetch'))!;
    t.equal(fetch.answerLength, REPLY_FETCH_SLOTS * replySlotBytes(REPLY_ENVELOPE_LENGTH), `every fetch answers ${REPLY_FETCH_SLOTS} full slots`);
    t.equal(a.log.find((e) => e.path === '/api/v1/replies')!.answerLength, 2 * 16, 'the tag list is the two live tags');
    t.comment(`a visit: ${requests(a).join(' | ')}; answers ${answers(a).join(' | ')}`);
    // Measured, not asserted: the time between the first request and the fetch, as the server could see it.
    const gap = (v: (typeof visits)[0]) => (v.log[2]!.at - v.log[0]!.at).toFixed(0);
    t.comment(`first request to fetch: mistyped ${gap(a)} ms, no replies ${gap(b)} ms, one reply ${gap(c)} ms`);
  });
}
