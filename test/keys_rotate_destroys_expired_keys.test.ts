// Retention enforced with keys (issue 9): after `tipline keys rotate` past the retention window, no key file in
// the keys folder can open a tip sealed under the destroyed key; within the window the kept key still opens it,
// and `tipline fetch` decrypts a tip sealed before the rotation. Time travel: the kept key's end is moved 40 days
// into the past by re-sealing the desk key file with the crypto functions (no clock override in the CLI).
import t from 'tap';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, startCliServer } from './helpers/cli.js';
import { seedPglite } from './helpers/databases.js';
import { collect } from './helpers/fixtures.js';
import { initCrypto } from '../crypto/node.js';
import { encryptEnvelope, decryptEnvelope, type Manifest, type Identity } from '../crypto/envelope/index.js';
import { openKeyFile, sealKeyFile } from '../crypto/keyfile.js';
import { NotForYouError } from '../crypto/errors.js';
import { fromBase64 } from '../crypto/bytes.js';
import { sodium } from '../crypto/sodium.js';
import { tipFolder } from '../client/cli/inbox.js';

await initCrypto();
const PASS = 'correct horse battery staple';
const DAY = 86_400_000;

function directoryOf(keys: string): { recipients: { name: string; box_key: string; not_before: string; not_after: string }[] } {
  const doc = JSON.parse(readFileSync(join(keys, 'directory.json'), 'utf8')) as { payload: string };
  return JSON.parse(Buffer.from(doc.payload, 'base64').toString('utf8'));
}

async function sealTo(boxPublic: Uint8Array, message: string): Promise<Uint8Array> {
  const manifest: Manifest = { v: 2, sent_day: new Date().toISOString().slice(0, 10), message, files: [] };
  return collect(encryptEnvelope({ recipients: [boxPublic], manifest, files: [] }).stream);
}

async function* once(b: Uint8Array): AsyncGenerator<Uint8Array> {
  yield b;
}

/** The message if `id` opens the envelope, undefined if it is not addressed to it. */
async function open(bytes: Uint8Array, id: Identity): Promise<string | undefined> {
  try {
    for await (const ev of decryptEnvelope(once(bytes), id)) if (ev.kind === 'manifest') return ev.manifest.message;
    return undefined;
  } catch (err) {
    if (err instanceof NotForYouError) return undefined;
    throw err;
  }
}

/** Every box key in every key file of the folder (current and kept), any role. */
function everyBoxKey(keys: string): { file: string; id: Identity }[] {
  const out: { file: string; id: Identity }[] = [];
  for (const f of readdirSync(keys).filter((n) => n.endsWith('.key'))) {
    const k = openKeyFile(JSON.parse(readFileSync(join(keys, f), 'utf8')), PASS);
    if (k.secret.box) out.push({ file: f, id: { boxPublic: k.public.box!, boxSecret: k.secret.box } });
    for (const o of k.kept ?? []) out.push({ file: `${f} (kept, ended ${o.ended})`, id: { boxPublic: sodium().crypto_scalarmult_base(o.box), boxSecret: o.box } });
  }
  return out;
}

t.test('rotate destroys box keys past retention; within retention the old key still opens tips', async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'tipline-rotate-'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));
  const keys = join(work, 'keys');
  const dataDir = join(work, 'data');
  const init = await runCli(['keys', 'init', '--dir', keys, '--name', 'alice']);
  t.equal(init.code, 0, init.stderr);
  const fp = /fingerprint: (.+)/.exec(init.stdout)![1]!;
  const k1 = directoryOf(keys).recipients.find((r) => r.name === 'alice')!.box_key;

  // A real tip through a real server, sealed to the first period's key.
  await seedPglite(join(dataDir, 'pg'));
  const server = await startCliServer(['--host', '127.0.0.1', '--port', '0', '--staff-port', '0', '--data', dataDir, '--directory', join(keys, 'directory.json')], { TIPLINE_POW_DIFFICULTY: '8', DATABASE_URL: '' });
  t.teardown(() => server.child.kill('SIGKILL'));
  const message = `sealed in period one ${Date.now()}`;
  const sub = await runCli(['submit', '--server', server.url, '--fingerprint', fp, '-m', message], { timeoutMs: 300_000 });
  t.equal(sub.code, 0, sub.stderr);
  const tipId = /tip id: ([a-z2-7]{26})/.exec(sub.stdout)![1]!;
  // The saved copy (a backup, a seized disk): envelope bytes sealed to the same key.
  const saved = await sealTo(fromBase64(k1), 'SAVED-COPY period one');
  t.equal(await open(saved, everyBoxKey(keys).find((k) => k.file === 'alice.key')!.id), 'SAVED-COPY period one', 'before rotation the desk key opens it');

  const before = await runCli(['keys', 'rotate', '--dir', keys]);
  t.equal(before.code, 0, before.stderr);
  t.match(before.stdout, /key period ends .*nothing to do/, 'a period that has not ended is not rotated without --force');
  t.equal(directoryOf(keys).recipients.find((r) => r.name === 'alice')!.box_key, k1);

  const r1 = await runCli(['keys', 'rotate', '--dir', keys, '--force']);
  t.equal(r1.code, 0, r1.stderr);
  t.match(r1.stdout, /desk "alice": new encryption key/);
  t.notMatch(r1.stdout, /destroyed/, 'nothing is past retention yet');
  t.not(directoryOf(keys).recipients.find((r) => r.name === 'alice')!.box_key, k1, 'the directory lists a new key');

  // Within retention: fetch (the real CLI, the server still serving the tip) decrypts with the kept key.
  const inbox = join(work, 'inbox');
  const fetched = await runCli(['fetch', '--server', server.staffUrl, '--key', join(keys, 'alice.key'), '--out', inbox], { timeoutMs: 300_000 });
  t.equal(fetched.code, 0, fetched.stderr + fetched.stdout);
  t.equal(readFileSync(join(tipFolder(inbox, tipId)!, 'message.txt'), 'utf8'), message, 'fetch decrypts a tip sealed under the previous period key');
  const openers = everyBoxKey(keys);
  t.ok(openers.some((k) => k.file.startsWith('alice.key (kept')), 'the old key is kept');
  const within: string[] = [];
  for (const k of openers) if ((await open(saved, k.id)) !== undefined) within.push(k.file);
  t.equal(within.length, 1, `within retention exactly the kept key opens the saved copy: ${within.join(', ')}`);

  // Time travel: the kept key's period ended 40 days ago (the default policy keeps tips 30 days).
  const k2 = directoryOf(keys).recipients.find((r) => r.name === 'alice')!.box_key;
  const path = join(keys, 'alice.key');
  const m = openKeyFile(JSON.parse(readFileSync(path, 'utf8')), PASS);
  t.equal(m.kept?.length, 1);
  const aged = m.kept!.map((o) => ({ box: o.box, ended: new Date(Date.now() - 40 * DAY).toISOString() }));
  writeFileSync(path, JSON.stringify(sealKeyFile({ role: 'desk', name: m.name, public: m.public, secret: m.secret, passphrase: PASS, kept: aged })));
  const saved2 = await sealTo(fromBase64(k2), 'SAVED-COPY period two');

  const r2 = await runCli(['keys', 'rotate', '--dir', keys, '--force']);
  t.equal(r2.code, 0, r2.stderr);
  t.match(r2.stdout, /destroyed 1 old key of desk "alice": tips sealed before \d{4}-\d{2}-\d{2} can no longer be decrypted anywhere/);

  const after = everyBoxKey(keys);
  t.ok(after.length >= 2, `every box key in the folder was tried: ${after.map((k) => k.file).join(', ')}`);
  for (const k of after) t.equal(await open(saved, k.id), undefined, `${k.file} cannot open the expired tip`);
  const still: string[] = [];
  for (const k of after) if ((await open(saved2, k.id)) !== undefined) still.push(k.file);
  t.equal(still.length, 1, 'the period-two key (within retention) is still kept and opens its tip');
  const f = readdirSync(keys).filter((n) => n.endsWith('.key')).sort();
  t.same(f, ['alice.key', 'root.key', 'signing.key'], 'the folder holds no other key file');
  t.notOk(readdirSync(keys).some((n) => n.endsWith('.tmp')), 'no temporary file left behind');
});
