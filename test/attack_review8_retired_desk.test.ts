// Outside review of issue 8: a desk key the directory still lists but whose validity has ended (rotated out, or
// cut short after a suspected theft) -- or has not begun -- authors a reply dated today. The source's client
// showed it under the desk's name with only "(no longer listed)" (replyAuthor accepts any listed desk key,
// whatever the reply's signed day). Threat: a stolen retired desk key, plus an operator who stores the reply,
// speaks to sources as the newsroom. A reply sealed while its key was valid is still shown (rotation must not
// hide an honest reply); one dated after its key's end, before its start, or in the future is refused.
import t from 'tap';
import { SourceApi, type Transport, type WireAnswer, type WireRequest } from '../client/shared/api.js';
import { visitReplies, codenameKeys } from '../client/shared/replies.js';
import { generateCodename, parseCodename } from '../crypto/codename.js';
import { makeReplyTag } from '../crypto/reply-tags.js';
import { sealReply, REPLY_ENVELOPE_LENGTH } from '../crypto/reply.js';
import { generateDeskKey } from '../crypto/keys.js';
import { toBase64, utf8Encode } from '../crypto/bytes.js';
import type { Recipient } from '../crypto/directory.js';
import { REPLY_FETCH_SLOTS, replySlotBytes } from '../schema/wire.js';
import { makeNewsroom, recipientOf, signNewsroomDirectory } from './helpers/fixtures.js';

const DAY = 86_400_000;
const SLOT = replySlotBytes(REPLY_ENVELOPE_LENGTH);
const ITER = 1000;
const now = new Date();
const newsroom = makeNewsroom(now);
const retired = { ...generateDeskKey(), name: 'desk-retired' };
const future = { ...generateDeskKey(), name: 'desk-next-year' };
const entry = (name: string, k: typeof retired, from: number, to: number): Recipient => ({
  name,
  role: 'desk',
  box_key: toBase64(k.boxPublic),
  sign_key: toBase64(k.signPublic),
  not_before: new Date(now.getTime() + from * DAY).toISOString(),
  not_after: new Date(now.getTime() + to * DAY).toISOString(),
});
// The newsroom's current desk, a desk valid from 400 to 30 days ago, and one valid from 300 days on.
const doc = signNewsroomDirectory(newsroom, [recipientOf(newsroom.desk.name, 'desk', newsroom.desk, now), entry(retired.name, retired, -400, -30), entry(future.name, future, 300, 600)], { now });
const parsed = parseCodename(generateCodename().text);
if (!parsed.ok) throw new Error('codename');
const keys = await codenameKeys(parsed.codename, newsroom.fingerprint, ITER);

/** A server holding one reply to this source: the real directory, a list of its tag and three others. */
async function serving(envelope: Uint8Array): Promise<Transport> {
  const own = await makeReplyTag(keys.tagKey);
  const list = new Uint8Array(4 * 16);
  list.set(own, 0);
  for (let i = 1; i < 4; i++) list.set(crypto.getRandomValues(new Uint8Array(16)), i * 16);
  return {
    async send(req: WireRequest): Promise<WireAnswer> {
      if (req.path === '/.well-known/tipline/directory') return { status: 200, body: utf8Encode(JSON.stringify(doc)) };
      if (req.method === 'GET' && req.path === '/api/v1/replies') return { status: 200, body: list };
      if (req.path === '/api/v1/replies/fetch') {
        const tags = (JSON.parse(new TextDecoder().decode(req.body)) as { tags: string[] }).tags;
        const out = new Uint8Array(REPLY_FETCH_SLOTS * SLOT);
        tags.forEach((tg, i) => {
          if (Buffer.from(tg, 'base64url').equals(Buffer.from(own))) {
            out[i * SLOT] = 1;
            out.set(envelope, i * SLOT + 1);
          }
        });
        return { status: 200, body: out };
      }
      return { status: 404, body: new Uint8Array() };
    },
  };
}

async function visitWith(desk: typeof retired, sealedOn: Date) {
  const { envelope } = await sealReply({ toBoxKey: keys.boxPublic, message: `from ${desk.name}`, desk: { signPublic: desk.signPublic, signSecret: desk.signSecret }, now: sealedOn });
  const v = await visitReplies(new SourceApi(await serving(envelope)), { typed: parsed.ok ? parsed.codename.text : '', fingerprint: newsroom.fingerprint, now, iterations: ITER });
  if (v.codename !== 'ok') throw new Error('mistyped');
  return v;
}

t.test('a reply sealed while its desk key was valid is still shown after the key retired', async (t) => {
  const v = await visitWith(retired, new Date(now.getTime() - 60 * DAY));
  t.equal(v.replies.length, 1, 'shown');
  t.equal(v.replies[0]?.desk, retired.name, 'under the retired desk’s name');
  t.equal(v.replies[0]?.deskCurrent, false, 'marked as no longer current');
});

t.test('a reply dated after its desk key’s validity ended is refused', async (t) => {
  const v = await visitWith(retired, now);
  t.equal(v.replies.length, 0, 'not shown as the newsroom’s');
  t.equal(v.refused.length, 1, 'counted as refused');
});

t.test('a reply dated before its desk key’s validity begins is refused', async (t) => {
  const v = await visitWith(future, now);
  t.equal(v.replies.length, 0, 'not shown as the newsroom’s');
  t.equal(v.refused.length, 1, 'counted as refused');
});

t.test('a reply dated in the future (inside its key’s window) is refused', async (t) => {
  const v = await visitWith(future, new Date(now.getTime() + 310 * DAY));
  t.equal(v.replies.length, 0, 'not shown as the newsroom’s');
  t.equal(v.refused.length, 1, 'counted as refused');
});

t.test('the current desk’s reply of today is shown', async (t) => {
  const v = await visitWith(newsroom.desk, now);
  t.equal(v.replies.length, 1, 'shown');
  t.equal(v.replies[0]?.deskCurrent, true, 'as current');
});
