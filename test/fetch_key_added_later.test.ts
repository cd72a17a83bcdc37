// A desk key added later, fetching tips sent before it existed, is told so in plain words, one line per tip,
// and that is not a failure (exit 0); a tip received after the key was listed that is not addressed to it is
// a failure (exit 1), said as plainly. Real CLI, real server on loopback.
import t from 'tap';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './helpers/cli.js';
import { cliNewsroomServer } from './helpers/setup.js';
import { collect, makeNewsroom, signNewsroomDirectory, uploadEnvelope } from './helpers/fixtures.js';
import { dialects } from './helpers/databases.js';
import { startServer } from './helpers/server.js';
import { publishDirectory } from '../server/directory.js';
import { encryptEnvelope, sentDay } from '../crypto/envelope/index.js';
import { generateDeskKey, type DeskKeyPair } from '../crypto/keys.js';
import { MIN_KDF, sealKeyFile } from '../crypto/keyfile.js';
import { toBase64 } from '../crypto/bytes.js';
import { inboxTips, tipFolder } from '../client/cli/inbox.js';

const BEFORE_LINE = 'sent before this key was added; ask a desk that was listed then';
const DAY = 86_400_000;

t.test('a desk added after a tip was sent is told "sent before this key was added", not about stanzas', async (t) => {
  const { work, keys, fingerprint, store, server } = await cliNewsroomServer(t);
  const first = await runCli(['submit', '--server', server.url, '--fingerprint', fingerprint, '-m', 'sent while only desk was listed']);
  t.equal(first.code, 0, first.stderr);
  const oldId = /tip id: (\S+)/.exec(first.stdout)![1]!;

  const add = await runCli(['keys', 'add-desk', '--dir', keys, '--name', 'late']);
  t.equal(add.code, 0, add.stderr);
  await publishDirectory(store.db, JSON.parse(readFileSync(join(keys, 'directory.json'), 'utf8')), new Date());

  const inbox = join(work, 'late-inbox');
  const r = await runCli(['fetch', '--server', server.staffUrl, '--key', join(keys, 'late.key'), '--out', inbox]);
  t.equal(r.code, 0, `not a failure: exit 0 (${r.stderr})`);
  const lines = (r.stdout + r.stderr).trim().split('\n');
  t.match(r.stdout, new RegExp(`^${oldId}: ${BEFORE_LINE} \\(received \\d{4}-\\d{2}-\\d{2}, this key listed from \\d{4}-\\d{2}-\\d{2}\\)$`, 'm'));
  t.equal(lines.filter((l) => l.includes(oldId)).length, 1, 'one line for the tip');
  t.notMatch(r.stdout + r.stderr, /stanza|NotForYou|TIPLINE_ERR|error:/i, 'no stanza errors, no error prefix');
  t.match(r.stdout, /0 fetched, 0 already here, 1 sent before this key was added, 0 failed/);
  t.same(readdirSync(inbox), [], 'nothing written for it, not even a hidden partial folder');

  // A tip sent now is sealed to both desks: the late desk reads it; the old one is explained again, once.
  const second = await runCli(['submit', '--server', server.url, '--fingerprint', fingerprint, '-m', 'sent to both desks']);
  t.equal(second.code, 0, second.stderr);
  const newId = /tip id: (\S+)/.exec(second.stdout)![1]!;
  const again = await runCli(['fetch', '--server', server.staffUrl, '--key', join(keys, 'late.key'), '--out', inbox]);
  t.equal(again.code, 0, again.stderr);
  t.equal(readFileSync(join(tipFolder(inbox, newId)!, 'message.txt'), 'utf8'), 'sent to both desks');
  t.match(again.stdout, /1 fetched, 0 already here, 1 sent before this key was added, 0 failed/);
  t.equal(again.stdout.split('\n').filter((l) => l.includes(BEFORE_LINE)).length, 1);

  // The desk that was listed then reads both, with no such line.
  const desk = await runCli(['fetch', '--server', server.staffUrl, '--key', join(keys, 'desk.key'), '--out', join(work, 'desk-inbox')]);
  t.equal(desk.code, 0, desk.stderr);
  t.equal(readFileSync(join(tipFolder(join(work, 'desk-inbox'), oldId)!, 'message.txt'), 'utf8'), 'sent while only desk was listed');
  t.notMatch(desk.stdout, /sent before this key was added/);
  t.match(desk.stdout, /2 fetched, 0 already here, 0 failed/);
});

t.test('a tip received after this key was listed but not sealed to it: "not addressed to this key", exit 1', async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'tipline-notaddr-'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));
  const [pglite] = await dialects();
  const store = await pglite!.open();
  t.teardown(() => store.drop());
  const now = new Date();
  const newsroom = makeNewsroom(now);
  const a = generateDeskKey();
  const b = generateDeskKey();
  const entry = (name: string, k: DeskKeyPair, since: number) => ({
    name, role: 'desk' as const, box_key: toBase64(k.boxPublic), sign_key: toBase64(k.signPublic),
    not_before: new Date(now.getTime() - since * DAY).toISOString(), not_after: new Date(now.getTime() + 30 * DAY).toISOString(),
  });
  const doc = signNewsroomDirectory(newsroom, [entry('a', a, 3), entry('b', b, 2)], { now });
  await publishDirectory(store.db, doc, now);
  const server = await startServer({ powDifficulty: 0, db: store.db });
  t.teardown(() => server.close());

  const keyFile = join(work, 'b.key');
  writeFileSync(keyFile, JSON.stringify(sealKeyFile({ role: 'desk', name: 'b', public: { box: b.boxPublic, sign: b.signPublic }, secret: { box: b.boxSecret, sign: b.signSecret }, passphrase: 'correct horse battery staple', kdf: MIN_KDF })), { mode: 0o600 });
  const seal = (to: DeskKeyPair[], message: string) =>
    collect(encryptEnvelope({ recipients: to.map((k) => k.boxPublic), manifest: { v: 2, sent_day: sentDay(new Date()), message, files: [] }, files: [] }).stream);
  // Several of each, so that (in the server's order) a tip this key cannot open comes before one it can: the
  // abandoned download drops the connection, and the request pipelined behind it must be asked again.
  const onlyA: string[] = [];
  const both: string[] = [];
  let receivedDay = '';
  for (let i = 0; i < 4; i++) {
    const x = await uploadEnvelope(server.url, await seal([a], `for a only ${i}`));
    onlyA.push(x.tip_id);
    receivedDay = x.received_day;
    both.push((await uploadEnvelope(server.url, await seal([a, b], `for both ${i}`))).tip_id);
  }

  const inbox = join(work, 'inbox');
  const r = await runCli(['fetch', '--server', server.staffUrl, '--key', keyFile, '--out', inbox]);
  t.equal(r.code, 1, 'a failure: exit 1');
  const listedDay = new Date(now.getTime() - 2 * DAY).toISOString().slice(0, 10);
  for (const id of onlyA) {
    t.match(r.stdout, new RegExp(`^error: ${id}: not addressed to this key \\(received ${receivedDay}; this key is listed from ${listedDay}\\)$`, 'm'));
  }
  t.notMatch(r.stdout + r.stderr, /stanza|sent before this key|replay/i);
  both.forEach((id, i) => t.equal(readFileSync(join(tipFolder(inbox, id)!, 'message.txt'), 'utf8'), `for both ${i}`, 'every tip for this key is fetched, whatever came before it'));
  t.match(r.stdout, /4 fetched, 0 already here, 4 failed/);
  t.same(inboxTips(inbox).map((x) => x.id).sort(), [...both].sort());
  t.equal(readdirSync(inbox).length, both.length, 'one folder a tip, nothing else');
});
