// After `tipline keys rotate` the signed directory lists the desk's new encryption key for the new period
// (key_period_days + KEY_GRACE_DAYS), a real submit encrypts to it, staff sign-in still works (same sign key),
// and deskKeysPastRetention, which names the desk while its old key is listed, is empty.
import t from 'tap';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, startCliServer } from './helpers/cli.js';
import { seedPglite } from './helpers/databases.js';
import { initCrypto } from '../crypto/node.js';
import { deskKeysPastRetention, verifyDirectory, KEY_GRACE_DAYS } from '../crypto/directory.js';
import { openKeyFile, sealKeyFile } from '../crypto/keyfile.js';
import { toBase64 } from '../crypto/bytes.js';
import { tipFolder } from '../client/cli/inbox.js';

await initCrypto();
const PASS = 'correct horse battery staple';
const DAY = 86_400_000;

t.test('rotate re-lists the desk with a new key for the new period; submit encrypts to it', async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'tipline-rotate-dir-'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));
  const keys = join(work, 'keys');
  const dataDir = join(work, 'data');
  const init = await runCli(['keys', 'init', '--dir', keys, '--name', 'alice']);
  t.equal(init.code, 0, init.stderr);
  const fp = /fingerprint: (.+)/.exec(init.stdout)![1]!;
  const read = () => verifyDirectory(JSON.parse(readFileSync(join(keys, 'directory.json'), 'utf8')), fp, new Date());
  const d0 = read();
  const old = d0.recipients.find((r) => r.name === 'alice')!;
  // The audit's view: 31 days on, the first key is past a 30-day retention; today it is not.
  t.same(deskKeysPastRetention(d0, 30, new Date(Date.now() + 31 * DAY)).map((r) => r.name), ['alice'], 'an old listed key names its desk');
  t.same(deskKeysPastRetention(d0, 30, new Date()), [], 'a fresh key does not');

  const started = Date.now();
  const rot = await runCli(['keys', 'rotate', '--dir', keys, '--force']);
  t.equal(rot.code, 0, rot.stderr);
  const d1 = read();
  t.ok(d1.serial > d0.serial, 'the directory was signed again with a higher serial');
  const now = d1.recipients.find((r) => r.name === 'alice')!;
  t.not(now.box_key, old.box_key, 'a new encryption key is listed');
  t.equal(now.sign_key, old.sign_key, 'the identity (sign key) stays');
  t.ok(Date.parse(now.not_before) >= started - 1000, 'the new period begins at the rotation');
  t.equal(Date.parse(now.not_after) - Date.parse(now.not_before), (7 + KEY_GRACE_DAYS) * DAY, 'listed for the key period plus grace');
  const m = openKeyFile(JSON.parse(readFileSync(join(keys, 'alice.key'), 'utf8')), PASS);
  t.equal(toBase64(m.public.box!), now.box_key, 'the key file holds the listed key');
  // At the instant the new key reaches 30 days, the old directory's key (begun earlier) is past a 30-day
  // retention and the rotated directory's is not; a day later the rotated one is too.
  const at = new Date(Date.parse(now.not_before) + 30 * DAY);
  t.ok(Date.parse(old.not_before) < Date.parse(now.not_before));
  t.same(deskKeysPastRetention(d0, 30, at).map((r) => r.name), ['alice'], 'the old directory names the desk');
  t.same(deskKeysPastRetention(d1, 30, at), [], 'after rotation no desk is past retention');
  t.same(deskKeysPastRetention(d1, 30, new Date(at.getTime() + DAY)).map((r) => r.name), ['alice'], 'until the new key is old in turn');
  t.same(deskKeysPastRetention(d1, 30, new Date()), [], 'today nothing is past retention');

  // Drop the kept key, so that only the new key can open what submit seals.
  writeFileSync(join(keys, 'alice.key'), JSON.stringify(sealKeyFile({ role: 'desk', name: m.name, public: m.public, secret: m.secret, passphrase: PASS })));
  await seedPglite(join(dataDir, 'pg'));
  const server = await startCliServer(['--host', '127.0.0.1', '--port', '0', '--staff-port', '0', '--data', dataDir, '--directory', join(keys, 'directory.json')], { TIPLINE_POW_DIFFICULTY: '8', DATABASE_URL: '' });
  t.teardown(() => server.child.kill('SIGKILL'));
  const message = `after rotation ${Date.now()}`;
  const sub = await runCli(['submit', '--server', server.url, '--fingerprint', fp, '-m', message], { timeoutMs: 300_000 });
  t.equal(sub.code, 0, sub.stderr);
  const tipId = /tip id: ([a-z2-7]{26})/.exec(sub.stdout)![1]!;
  const inbox = join(work, 'inbox');
  const fetched = await runCli(['fetch', '--server', server.staffUrl, '--key', join(keys, 'alice.key'), '--out', inbox], { timeoutMs: 300_000 });
  t.equal(fetched.code, 0, fetched.stderr + fetched.stdout);
  t.equal(readFileSync(join(tipFolder(inbox, tipId)!, 'message.txt'), 'utf8'), message, 'the tip was sealed to the new key (and the desk signed in)');
});

t.test('a desk holding its own key rotates it; add-desk --public replaces its listed key', async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'tipline-rotate-own-'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));
  const keys = join(work, 'keys');
  const own = join(work, 'own');
  const init = await runCli(['keys', 'init', '--dir', keys, '--name', 'alice']);
  t.equal(init.code, 0, init.stderr);
  const fp = /fingerprint: (.+)/.exec(init.stdout)![1]!;
  const read = () => verifyDirectory(JSON.parse(readFileSync(join(keys, 'directory.json'), 'utf8')), fp, new Date());
  const req = await runCli(['keys', 'request', '--name', 'bob', '--out', own]);
  t.equal(req.code, 0, req.stderr);
  const add = await runCli(['keys', 'add-desk', '--dir', keys, '--public', join(own, 'bob.request.json')]);
  t.equal(add.code, 0, add.stderr);
  const first = read().recipients.find((r) => r.name === 'bob')!;
  const again = await runCli(['keys', 'add-desk', '--dir', keys, '--public', join(own, 'bob.request.json')]);
  t.not(again.code, 0, 'the same request twice is still refused');
  const rot = await runCli(['keys', 'rotate', '--key', join(own, 'bob.key'), '--out', own]);
  t.equal(rot.code, 0, rot.stderr);
  const m = openKeyFile(JSON.parse(readFileSync(join(own, 'bob.key'), 'utf8')), PASS);
  t.not(toBase64(m.public.box!), first.box_key, 'the key file holds a new box key');
  t.equal(m.kept?.length, 1, 'and keeps the previous one');
  const re = await runCli(['keys', 'add-desk', '--dir', keys, '--public', join(own, 'bob.request.json')]);
  t.equal(re.code, 0, re.stderr);
  t.match(re.stdout, /replaced the encryption key of desk "bob"/);
  const bob = read().recipients.filter((r) => r.name === 'bob');
  t.equal(bob.length, 1);
  t.equal(bob[0]!.box_key, toBase64(m.public.box!), 'the directory lists the rotated key');
  t.equal(bob[0]!.sign_key, first.sign_key);
});
