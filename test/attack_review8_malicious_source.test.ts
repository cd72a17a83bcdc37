// Outside review of issue 8: a malicious source. (1) A tip whose reply field holds a small-order reply key, a
// reply key or tag key that is not base64 of 32 bytes: `tipline reply` refuses and posts nothing. (2) A follow-up
// that claims another source's reply key with its own tag key (it cannot derive the victim's): fetch's threads
// must not advise the desk to answer the impostor's tip.
import t from 'tap';
import { mkdirSync, readdirSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { cliNewsroomServer } from './helpers/setup.js';
import { runCli } from './helpers/cli.js';
import { rebuildThreads } from '../client/cli/commands/fetch.js';
import { threadId } from '../crypto/reply.js';
import { toBase64 } from '../crypto/bytes.js';
import { generateDeskKey } from '../crypto/keys.js';

const TIP_ID = 'aaaaaaaaaaaaaaaaaaaaaaaaaa';
const b64 = (n: number, fill = 7) => Buffer.alloc(n, fill).toString('base64');
// Small-order points of Curve25519 (libsodium's blocklist): 0, 1, and an order-8 point.
const ORDER8 = Buffer.from('e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800', 'hex').toString('base64');

t.test('tipline reply refuses a hostile reply field', async (t) => {
  const { work, keys, store, server } = await cliNewsroomServer(t);
  const deskKey = join(keys, readdirSync(keys).find((f) => f.endsWith('.key') && !['root.key', 'signing.key'].includes(f))!);
  const cases: [string, unknown, RegExp][] = [
    ['a zero reply key', { box_key: b64(32, 0), mailbox: b64(32) }, /weak|small-order/],
    ['the point of order 1', { box_key: Buffer.concat([Buffer.from([1]), Buffer.alloc(31)]).toString('base64'), mailbox: b64(32) }, /weak|small-order/],
    ['a point of order 8', { box_key: ORDER8, mailbox: b64(32) }, /weak|small-order/],
    ['a reply key of 31 bytes', { box_key: b64(31), mailbox: b64(32) }, /not 32 bytes/],
    ['a mailbox of 16 bytes', { box_key: toBase64(generateDeskKey().boxPublic), mailbox: b64(16) }, /not a 32-byte tag key/],
    ['a mailbox that is not base64', { box_key: toBase64(generateDeskKey().boxPublic), mailbox: '!!!not base64!!!' }, /not valid base64/],
  ];
  for (const [what, reply, why] of cases) {
    const inbox = mkdtempSync(join(work, 'inbox-'));
    mkdirSync(join(inbox, TIP_ID));
    writeFileSync(join(inbox, TIP_ID, 'manifest.json'), JSON.stringify({ tip_id: TIP_ID, sent_day: '2026-01-01', files: [], reply }));
    const r = await runCli(['reply', '--server', server.staffUrl, '--key', deskKey, '--inbox', inbox, TIP_ID, '-m', 'hello']);
    t.not(r.code, 0, `${what}: refused`);
    t.match(r.stderr, why, `${what}: says why`);
    t.notMatch(r.stderr, /at .*\.js:\d+/, `${what}: no stack trace`);
  }
  t.equal(Number((await sql<{ n: string }>`select count(*) as n from replies`.execute(store.db)).rows[0]!.n), 0, 'nothing was posted');
});

t.test('a follow-up claiming another source’s reply key is kept out of its thread', async (t) => {
  const out = mkdtempSync(join(tmpdir(), 'tipline-threads-'));
  t.teardown(() => rmSync(out, { recursive: true, force: true }));
  const victimKey = toBase64(generateDeskKey().boxPublic);
  const victim = 'vvvvvvvvvvvvvvvvvvvvvvvvvv';
  const impostor = 'iiiiiiiiiiiiiiiiiiiiiiiiii';
  const write = (id: string, mailbox: string, received: string, sent: string) => {
    mkdirSync(join(out, id));
    writeFileSync(join(out, id, 'manifest.json'), JSON.stringify({ tip_id: id, received_day: received, sent_day: sent, fetched_at: new Date().toISOString(), files: [], reply: { box_key: victimKey, mailbox }, thread: null }));
  };
  write(victim, b64(32, 1), '2026-03-01', '2026-03-01');
  write(impostor, b64(32, 2), '2026-03-02', '2026-03-02');
  const said: string[] = [];
  const threads = rebuildThreads(out, (s) => said.push(s));
  const ids = threads[threadId(victimKey)] ?? [];
  t.match(said.join('\n'), new RegExp(`warning: ${impostor}: same reply key`), 'the desk is warned about the impostor');
  // fetch prints "answer with: tipline reply … <the thread's last tip>" (client/cli/main.ts): it must not be the impostor's.
  t.not(ids[ids.length - 1], impostor, 'the suggested tip to answer is not the impostor’s');
  t.same(ids, [victim], 'the thread holds the tips of one codename only');
});
