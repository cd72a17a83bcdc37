// The key ceremony through the real CLI and a real `tipline serve`: keys init with a name in Spanish, add a desk,
// list a desk made on its owner's machine (add-desk --public, only the public half travels), remove a desk and
// publish with SIGHUP (no restart): the removed desk cannot list tips and new tips are not encrypted to it;
// republishing the older directory is refused; the CLI refuses a server that goes back to an older directory;
// renew and certify keep the serial growing.
import t from 'tap';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { runCli, startCliServer } from './helpers/cli.js';
import { dialects, seedPglite } from './helpers/databases.js';
import { startServer } from './helpers/server.js';
import { signFor, staffHeaders } from './helpers/fixtures.js';
import { publishDirectory } from '../server/directory.js';
import { generateDeskKey } from '../crypto/keys.js';
import { makeKeyRequest } from '../crypto/key-request.js';
import { openKeyFile } from '../crypto/keyfile.js';
import { verifyDirectory, type Directory } from '../crypto/directory.js';
import type { SignedDocument } from '../crypto/signed.js';
import { tipFolder } from '../client/cli/inbox.js';

const work = mkdtempSync(join(tmpdir(), 'tipline-ceremony-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));
const keys = join(work, 'keys');
const state = join(work, 'state');
const env = { TIPLINE_STATE_DIR: state };
const PASS = 'correct horse battery staple';

const readDir = (): SignedDocument => JSON.parse(readFileSync(join(keys, 'directory.json'), 'utf8')) as SignedDocument;
const dirOf = (fp: string): Directory => verifyDirectory(readDir(), fp, new Date());

async function ok(args: string[], what: string) {
  const r = await runCli(args, { env });
  if (r.code !== 0) throw new Error(`${what}: exit ${r.code}\n${r.stderr}`);
  return r;
}

t.test('init, add, add --public, remove (SIGHUP), rollback refused everywhere, renew, certify', async (t) => {
  const init = await ok(['keys', 'init', '--dir', keys, '--name', 'María López'], 'keys init');
  const fp = /fingerprint: (.+)/.exec(init.stdout)![1]!;
  for (const f of ['root.key', 'signing.key', 'maria-lopez.key']) t.equal(statSync(join(keys, f)).mode & 0o777, 0o600, `${f} is 0600`);
  const maria = JSON.parse(readFileSync(join(keys, 'maria-lopez.key'), 'utf8')) as { name: string; role: string };
  t.same([maria.name, maria.role], ['María López', 'desk'], 'the file is named in ASCII, the display name is kept inside');
  t.equal(JSON.parse(readFileSync(join(keys, 'signing.key'), 'utf8')).role, 'signer', 'the signing key has its own role');
  const d0 = dirOf(fp);
  t.same(d0.recipients.map((r) => r.name), ['María López']);
  t.ok(Date.parse(d0.expires) - Date.parse(d0.issued) <= 7 * 86_400_000, 'the directory lives 7 days');
  t.ok(readDir().certificate, 'it carries the certificate of its signing key');

  const dataDir = join(work, 'data');
  await seedPglite(join(dataDir, 'pg'));
  const server = await startCliServer(['--port', '0', '--data', dataDir, '--directory', join(keys, 'directory.json')], env);
  t.teardown(() => server.child.kill('SIGKILL'));
  signFor(server.staffUrl);
  const published = async (serial: number) => {
    server.child.kill('SIGHUP');
    const deadline = Date.now() + 30_000;
    while (!server.output().includes(`serial ${serial}`) && !/not published/.test(server.output()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    t.ok(server.output().includes(`serial ${serial}`), `serial ${serial} published without a restart`);
  };

  await ok(['keys', 'add-desk', '--dir', keys, '--name', 'bob'], 'add-desk bob');
  const d1 = dirOf(fp);
  t.ok(d1.serial > d0.serial, 'add-desk: a higher serial');
  await published(d1.serial);
  const withBob = join(work, 'with-bob.json');
  copyFileSync(join(keys, 'directory.json'), withBob);

  // A desk made on its owner's machine: only the signed public half comes to the newsroom.
  const jose = generateDeskKey();
  const request = join(work, 'jose.request.json');
  writeFileSync(request, JSON.stringify(makeKeyRequest('José Núñez', 'desk', jose)));
  const added = await ok(['keys', 'add-desk', '--dir', keys, '--public', request], 'add-desk --public');
  t.match(added.stdout, /listed desk "José Núñez", signing key fingerprint [a-z2-7 ]{39}/);
  const tampered = JSON.parse(readFileSync(request, 'utf8')) as SignedDocument;
  writeFileSync(join(work, 'bad.request.json'), JSON.stringify({ ...tampered, signature: readDir().signature }));
  const bad = await runCli(['keys', 'add-desk', '--dir', keys, '--public', join(work, 'bad.request.json')], { env });
  t.equal(bad.code, 1);
  t.match(bad.stderr, /is not a valid key request/);
  const d2 = dirOf(fp);
  t.same(d2.recipients.map((r) => r.name), ['María López', 'bob', 'José Núñez']);
  t.equal(d2.recipients[2]!.box_key, Buffer.from(jose.boxPublic).toString('base64'));

  // A tip while bob is listed: the CLI remembers this root's serial.
  await ok(['submit', '--server', server.url, '--fingerprint', fp, '-m', 'before removal'], 'submit 1');
  t.match(readFileSync(join(state, 'serials.json'), 'utf8'), new RegExp(`"serial": ${d1.serial}`), 'the CLI remembers the serial it saw');
  t.equal(statSync(join(state, 'serials.json')).mode & 0o777, 0o600);

  const removed = await ok(['keys', 'remove-desk', '--dir', keys, '--name', 'bob'], 'remove-desk bob');
  t.match(removed.stdout, /removed desk "bob"/);
  const d3 = dirOf(fp);
  t.same(d3.recipients.map((r) => r.name), ['María López', 'José Núñez']);
  await published(d3.serial);

  const bobKey = openKeyFile(JSON.parse(readFileSync(join(keys, 'bob.key'), 'utf8')), PASS);
  const bobPair = { boxPublic: bobKey.public.box!, boxSecret: bobKey.secret.box!, signPublic: bobKey.public.sign!, signSecret: bobKey.secret.sign! };
  const list = async () => (await fetch(`${server.staffUrl}/api/v1/staff/tips`, { headers: staffHeaders(bobPair, 'GET', '/api/v1/staff/tips') })).status;
  t.not(await list(), 200, 'the removed desk cannot list tips, at once');

  const sent = await ok(['submit', '--server', server.url, '--fingerprint', fp, '-m', 'after removal'], 'submit 2');
  const id = /tip id: (\S+)/.exec(sent.stdout)![1]!;
  const fetched = await runCli(['fetch', '--server', server.staffUrl, '--key', join(keys, 'bob.key'), '--out', join(work, 'bob-inbox')], { env });
  t.equal(fetched.code, 1, 'bob cannot fetch');
  const mariaInbox = join(work, 'maria-inbox');
  await ok(['fetch', '--server', server.staffUrl, '--key', join(keys, 'maria-lopez.key'), '--out', mariaInbox], 'fetch maria');
  t.equal(readFileSync(join(tipFolder(mariaInbox, id)!, 'message.txt'), 'utf8'), 'after removal');
  // The envelope's stanza count (header byte 8): two desks now, María and José; bob is not among them.
  const mariaKey = openKeyFile(JSON.parse(readFileSync(join(keys, 'maria-lopez.key'), 'utf8')), PASS);
  const env2 = new Uint8Array(await (await fetch(`${server.staffUrl}/api/v1/staff/tips/${id}`, { headers: staffHeaders({ boxPublic: mariaKey.public.box!, boxSecret: mariaKey.secret.box!, signPublic: mariaKey.public.sign!, signSecret: mariaKey.secret.sign! }, 'GET', `/api/v1/staff/tips/${id}`) })).arrayBuffer());
  t.equal(env2[8], 2, 'the new tip is sealed to the two desks listed, not to bob');

  // Republishing the older directory (which still lists bob) is refused; bob stays out.
  const newest = join(work, 'newest.json');
  copyFileSync(join(keys, 'directory.json'), newest);
  copyFileSync(withBob, join(keys, 'directory.json'));
  server.child.kill('SIGHUP');
  const deadline = Date.now() + 30_000;
  while (!/not published: directory serial \d+ is older/.test(server.output()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  t.match(server.output(), /not published: directory serial \d+ is older than serial \d+/, 'serve refuses the older directory');
  t.not(await list(), 200, 'bob still cannot list tips');
  copyFileSync(newest, join(keys, 'directory.json'));

  // A hostile server handing the CLI the older directory: refused, nothing sent.
  const [pglite] = await dialects();
  const store = await pglite!.open();
  t.teardown(() => store.drop());
  await publishDirectory(store.db, JSON.parse(readFileSync(withBob, 'utf8')) as SignedDocument, new Date());
  const hostile = await startServer({ db: store.db, powDifficulty: 4 });
  t.teardown(() => hostile.close());
  const refused = await runCli(['submit', '--server', hostile.url, '--fingerprint', fp, '-m', 'must not be sent'], { env });
  t.equal(refused.code, 1);
  t.match(refused.stderr, /refusing to encrypt: the server's directory is older than one this machine has already seen/);
  t.equal((await store.db.selectFrom('uploads').select('id').execute()).length + (await store.db.selectFrom('tips').select('id').execute()).length, 0, 'nothing was uploaded');

  // renew and certify: the serial keeps growing; the certificate is replaced.
  await ok(['keys', 'remove-desk', '--dir', keys, '--name', 'José Núñez'], 'remove José');
  const d4 = dirOf(fp);
  t.ok(d4.serial > d3.serial);
  const certBefore = readFileSync(join(keys, 'signing-certificate.json'), 'utf8');
  const cert = await ok(['keys', 'certify', '--dir', keys, '--days', '60'], 'certify');
  t.match(cert.stdout, /certificate: .*valid until/);
  t.not(readFileSync(join(keys, 'signing-certificate.json'), 'utf8'), certBefore, 'a new certificate');
  await ok(['keys', 'renew', '--dir', keys], 'renew');
  const d5 = dirOf(fp);
  t.ok(d5.serial > d4.serial, 'renew: a higher serial');
  t.same(d5.recipients.map((r) => r.name), ['María López'], 'the same keys');
  t.equal(readDir().certificate!.signature, JSON.parse(readFileSync(join(keys, 'signing-certificate.json'), 'utf8')).signature, 'signed under the new certificate');
  const only = await runCli(['keys', 'remove-desk', '--dir', keys, '--name', 'María López'], { env });
  t.equal(only.code, 2);
  t.match(only.stderr, /is the only desk: add another first/);

  const stopped = once(server.child, 'exit');
  server.child.kill('SIGTERM');
  await stopped;
});

t.test('keys: names and usage', async (t) => {
  const dir = join(work, 'names');
  const bidi = await runCli(['keys', 'init', '--dir', dir, '--name', 'Ana\u202Eevil'], { env });
  t.equal(bidi.code, 2);
  t.match(bidi.stderr, /--name .*: name may contain only letters/);
  const both = await runCli(['keys', 'add-desk', '--dir', dir, '--name', 'x', '--public', join(work, 'nope')], { env });
  t.equal(both.code, 2);
  t.match(both.stderr, /--public FILE takes the name and role from the key request/);
  const v1 = await runCli(['keys', 'renew', '--dir', join(work, 'nowhere')], { env });
  t.equal(v1.code, 1);
  t.match(v1.stderr, /cannot read the directory .*tipline keys init --dir/);
});
