// Outside review of issue 8: a hostile server's answers to a source's visit. Each gives a clear error or a
// refusal, never a crash, a hang, or a reply shown as the newsroom's when it is not. The answers come from a fake
// transport (the directory is the newsroom's real, signed one), and the oversized list from a loopback server
// through the command line's real transport (which enforces the byte limit).
import t from 'tap';
import { createServer } from 'node:http';
import { SourceApi, type Transport, type WireAnswer, type WireRequest } from '../client/shared/api.js';
import { visitReplies, codenameKeys } from '../client/shared/replies.js';
import { Connection } from '../client/cli/http.js';
import { generateCodename, parseCodename } from '../crypto/codename.js';
import { makeReplyTag } from '../crypto/reply-tags.js';
import { sealReply, REPLY_ENVELOPE_LENGTH } from '../crypto/reply.js';
import { generateDeskKey } from '../crypto/keys.js';
import { utf8Encode } from '../crypto/bytes.js';
import { MAX_LIVE_REPLIES, REPLY_FETCH_SLOTS, replySlotBytes } from '../schema/wire.js';
import { makeNewsroom } from './helpers/fixtures.js';

const SLOT = replySlotBytes(REPLY_ENVELOPE_LENGTH);
const ITER = 1000;
const now = new Date();
const newsroom = makeNewsroom(now);
const codename = generateCodename();
const typed = codename.text;
const parsed = parseCodename(typed);
if (!parsed.ok) throw new Error('codename');
const keys = await codenameKeys(parsed.codename, newsroom.fingerprint, ITER);

/** Answers the directory with the real one, the list and the fetch with what the test says. */
class Hostile implements Transport {
  constructor(private readonly list: Uint8Array, private readonly fetched: (tags: string[]) => Uint8Array) {}
  async send(req: WireRequest): Promise<WireAnswer> {
    if (req.path === '/.well-known/tipline/directory') return { status: 200, body: utf8Encode(JSON.stringify(newsroom.doc)) };
    if (req.method === 'GET' && req.path === '/api/v1/replies') return { status: 200, body: this.list };
    if (req.path === '/api/v1/replies/fetch') return { status: 200, body: this.fetched((JSON.parse(new TextDecoder().decode(req.body)) as { tags: string[] }).tags) };
    return { status: 404, body: new Uint8Array() };
  }
}

async function sealedTo(boxKey: Uint8Array, message: string, desk = newsroom.desk): Promise<Uint8Array> {
  return (await sealReply({ toBoxKey: boxKey, message, desk: { signPublic: desk.signPublic, signSecret: desk.signSecret }, now })).envelope;
}

/** A fetch answer putting `envelope` in every slot whose tag is one of `own` (hex), empty elsewhere. */
function answer(own: Set<string>, envelope: Uint8Array) {
  return (tags: string[]) => {
    const out = new Uint8Array(REPLY_FETCH_SLOTS * SLOT);
    tags.forEach((tg, i) => {
      if (own.has(Buffer.from(tg, 'base64url').toString('hex'))) {
        out[i * SLOT] = 1;
        out.set(envelope, i * SLOT + 1);
      }
    });
    return out;
  };
}

const visit = (tr: Transport) => visitReplies(new SourceApi(tr), { typed, fingerprint: newsroom.fingerprint, now, iterations: ITER });
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

t.test('a list that is not a multiple of 16 bytes is a clear error', async (t) => {
  await t.rejects(visit(new Hostile(new Uint8Array(33), () => new Uint8Array())), /not a list of 16-byte tags/);
});

t.test('a list over the limit is refused by the real transport, not buffered', async (t) => {
  const big = Buffer.alloc((MAX_LIVE_REPLIES + 1) * 16);
  const srv = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(big.length) });
    res.end(big);
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  t.teardown(() => srv.close());
  const port = (srv.address() as { port: number }).port;
  const conn = new Connection(new URL(`http://127.0.0.1:${port}`), undefined);
  t.teardown(() => conn.close());
  await t.rejects(new SourceApi(conn).replyTags(), 'refused');
});

t.test('a fetch answer with a flag other than 0/1, or of the wrong length, is a clear error', async (t) => {
  const tag = await makeReplyTag(keys.tagKey);
  const env = await sealedTo(keys.boxPublic, 'hello');
  await t.rejects(visit(new Hostile(tag, (tags) => { const b = answer(new Set([hex(tag)]), env)(tags); b[0] = 2; b[SLOT] = 2; b[2 * SLOT] = 2; b[3 * SLOT] = 2; return b; })), /malformed/);
  await t.rejects(visit(new Hostile(tag, () => new Uint8Array(REPLY_FETCH_SLOTS * SLOT - 1))), /not \d+/);
});

t.test('the same own tag listed twice, its envelope in two slots: the reply is shown once', async (t) => {
  const tag = await makeReplyTag(keys.tagKey);
  const env = await sealedTo(keys.boxPublic, 'only once');
  const list = new Uint8Array(32);
  list.set(tag, 0);
  list.set(tag, 16);
  let outcome;
  try {
    outcome = await visit(new Hostile(list, answer(new Set([hex(tag)]), env)));
  } catch (err) {
    t.pass(`refused: ${(err as Error).message}`);
    return;
  }
  t.equal(outcome.codename, 'ok');
  if (outcome.codename === 'ok') t.equal(outcome.replies.length, 1, 'one reply, not two');
});

t.test('the same envelope under two distinct own tags is shown once', async (t) => {
  const a = await makeReplyTag(keys.tagKey);
  const b = await makeReplyTag(keys.tagKey);
  const env = await sealedTo(keys.boxPublic, 'replayed under a second tag');
  const list = Buffer.concat([a, b].sort((x, y) => Buffer.compare(x, y)));
  const outcome = await visit(new Hostile(new Uint8Array(list), answer(new Set([hex(a), hex(b)]), env)));
  t.equal(outcome.codename, 'ok');
  if (outcome.codename === 'ok') t.equal(outcome.replies.length, 1, 'the server replaying one reply under two tags does not show it twice');
});

t.test('an envelope signed by a desk key not in the directory is refused, not shown', async (t) => {
  const tag = await makeReplyTag(keys.tagKey);
  const env = await sealedTo(keys.boxPublic, 'I am the newsroom', { ...generateDeskKey(), name: 'operator' });
  const outcome = await visit(new Hostile(tag, answer(new Set([hex(tag)]), env)));
  t.equal(outcome.codename, 'ok');
  if (outcome.codename !== 'ok') return;
  t.equal(outcome.replies.length, 0, 'not shown');
  t.match(outcome.refused, [/does not list/]);
});

t.test('an auditor key (in the directory, not a desk) cannot author a reply', async (t) => {
  const tag = await makeReplyTag(keys.tagKey);
  const env = await sealedTo(keys.boxPublic, 'from the auditor', newsroom.auditor);
  const outcome = await visit(new Hostile(tag, answer(new Set([hex(tag)]), env)));
  if (outcome.codename !== 'ok') return t.fail('ok');
  t.equal(outcome.replies.length, 0, 'not shown');
});

t.test('a reply sealed to another key is refused, not shown', async (t) => {
  const tag = await makeReplyTag(keys.tagKey);
  const other = await codenameKeys(generateCodename(), newsroom.fingerprint, ITER);
  const env = await sealedTo(other.boxPublic, 'not yours');
  const outcome = await visit(new Hostile(tag, answer(new Set([hex(tag)]), env)));
  if (outcome.codename !== 'ok') return t.fail('ok');
  t.equal(outcome.replies.length, 0);
  t.match(outcome.refused, [/could not be opened/]);
});

t.test('an envelope of random bytes or zeros is refused, not a crash', async (t) => {
  const tag = await makeReplyTag(keys.tagKey);
  for (const env of [new Uint8Array(REPLY_ENVELOPE_LENGTH), new Uint8Array(Buffer.alloc(REPLY_ENVELOPE_LENGTH, 0x41))]) {
    const outcome = await visit(new Hostile(tag, answer(new Set([hex(tag)]), env)));
    if (outcome.codename !== 'ok') return t.fail('ok');
    t.equal(outcome.replies.length, 0);
    t.equal(outcome.refused.length, 1);
  }
});
