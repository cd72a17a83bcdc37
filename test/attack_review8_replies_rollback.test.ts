// Outside review of issue 8: rollback against `tipline replies`. A desk is removed from the directory (its key
// stolen, say); a hostile operator then serves the old directory, which still lists it, with a reply signed by
// the stolen key. A machine that has seen the newer directory refuses to show replies (it remembers the serial);
// a machine that never saw it shows the reply under the removed desk's name (the control: the serial check, not
// anything else, is what refuses). The server is a small loopback one answering as the operator chooses, reached
// through the command line's real transport.
import t from 'tap';
import { createServer } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { readReplies } from '../client/cli/commands/replies.js';
import { codenameKeys } from '../client/shared/replies.js';
import { generateCodename } from '../crypto/codename.js';
import { makeReplyTag } from '../crypto/reply-tags.js';
import { sealReply, REPLY_ENVELOPE_LENGTH } from '../crypto/reply.js';
import { generateDeskKey } from '../crypto/keys.js';
import { REPLY_FETCH_SLOTS, replySlotBytes } from '../schema/wire.js';
import { makeNewsroom, recipientOf, signNewsroomDirectory } from './helpers/fixtures.js';

const ITER = 1000;
const SLOT = replySlotBytes(REPLY_ENVELOPE_LENGTH);
const now = new Date();
const newsroom = makeNewsroom(now);
const stolen = { ...generateDeskKey(), name: 'desk-removed' };
const oldDoc = signNewsroomDirectory(newsroom, [recipientOf(newsroom.desk.name, 'desk', newsroom.desk, now), recipientOf(stolen.name, 'desk', stolen, now)], { now, serial: 1_000_001 });
const newDoc = signNewsroomDirectory(newsroom, [recipientOf(newsroom.desk.name, 'desk', newsroom.desk, now)], { now, serial: 1_000_002 });
const codename = generateCodename();
const keys = await codenameKeys(codename, newsroom.fingerprint, ITER);
const tag = await makeReplyTag(keys.tagKey);
const { envelope } = await sealReply({ toBoxKey: keys.boxPublic, message: 'FORGED-BY-REMOVED-DESK', desk: { signPublic: stolen.signPublic, signSecret: stolen.signSecret }, now });

let serve: { doc: unknown; reply: boolean } = { doc: newDoc, reply: false };
const server = createServer((req, res) => {
  let body = '';
  req.on('data', (d) => (body += d));
  req.on('end', () => {
    if (req.url === '/.well-known/tipline/directory') return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(serve.doc));
    if (req.method === 'GET' && req.url === '/api/v1/replies') {
      const list = Buffer.alloc(4 * 16);
      for (let i = 0; i < 4; i++) (i === 0 && serve.reply ? Buffer.from(tag) : Buffer.from(crypto.getRandomValues(new Uint8Array(16)))).copy(list, i * 16);
      return void res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(list);
    }
    if (req.url === '/api/v1/replies/fetch') {
      const out = Buffer.alloc(REPLY_FETCH_SLOTS * SLOT);
      (JSON.parse(body) as { tags: string[] }).tags.forEach((tg, i) => {
        if (serve.reply && Buffer.from(tg, 'base64url').equals(Buffer.from(tag))) {
          out[i * SLOT] = 1;
          Buffer.from(envelope).copy(out, i * SLOT + 1);
        }
      });
      return void res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(out);
    }
    res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"code":"TIPLINE_ERR_NOT_FOUND","message":"not found"}}');
  });
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
t.teardown(() => server.close());
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

async function read(state: string): Promise<{ out: string; err: string; thrown?: string }> {
  process.env.TIPLINE_STATE_DIR = state;
  const out: string[] = [];
  const err: string[] = [];
  try {
    await readReplies({ server: url, fingerprint: newsroom.fingerprint, typed: codename.text, say: (s) => out.push(s), warn: (s) => err.push(s), iterations: ITER });
    return { out: out.join('\n'), err: err.join('\n') };
  } catch (e) {
    return { out: out.join('\n'), err: err.join('\n'), thrown: (e as Error).message };
  }
}

t.test('a machine that saw the newer directory refuses replies under the old one', async (t) => {
  const state = mkdtempSync(join(tmpdir(), 'tipline-rollback-'));
  t.teardown(() => rmSync(state, { recursive: true, force: true }));
  serve = { doc: newDoc, reply: false };
  const first = await read(state);
  t.notOk(first.thrown, `the current directory is accepted (${first.thrown ?? ''})`);
  serve = { doc: oldDoc, reply: true };
  const second = await read(state);
  t.match(second.thrown ?? '', /refusing to show replies[\s\S]*older/, 'the old directory is refused');
  t.notMatch(second.out + second.err, /FORGED-BY-REMOVED-DESK/, 'the removed desk’s reply is not shown');
});

t.test('control: a machine that never saw the newer directory shows it (the serial is what refuses)', async (t) => {
  const state = mkdtempSync(join(tmpdir(), 'tipline-rollback-'));
  t.teardown(() => rmSync(state, { recursive: true, force: true }));
  serve = { doc: oldDoc, reply: true };
  const r = await read(state);
  t.notOk(r.thrown, `accepted (${r.thrown ?? ''})`);
  t.match(r.out, /Reply from desk-removed[\s\S]*FORGED-BY-REMOVED-DESK/, 'shown under the removed desk’s name');
});
