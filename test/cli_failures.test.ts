// The CLI fails with one clear line and a non-zero exit: wrong fingerprint, wrong passphrase, server down,
// tampered envelope (and then leaves no half-written tip behind). A second desk added with `keys add-desk`
// can read what is sent after it was published.
import t, { type Test } from 'tap';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './helpers/cli.js';
import { startServer } from './helpers/server.js';
import { dialects, seedPglite } from './helpers/databases.js';
import { publishDirectory } from '../server/directory.js';
import { initCrypto } from '../crypto/node.js';
import { tipFolder } from '../client/cli/inbox.js';

await initCrypto();

function oneErrorLine(t: Test, stderr: string, pattern: RegExp) {
  const lines = stderr.trim().split('\n').filter((l) => l.startsWith('tipline:'));
  t.equal(lines.length, 1, 'exactly one error line');
  t.match(lines[0] ?? '', pattern);
  t.notMatch(stderr, /\n\s+at .*:\d+:\d+/, 'no stack trace');
}

const [pglite] = await dialects();

t.test('CLI failures', async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'tipline-cli-'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));
  const keys = join(work, 'keys');
  const init = await runCli(['keys', 'init', '--dir', keys]);
  t.equal(init.code, 0, init.stderr);
  const fp = /fingerprint: (.+)/.exec(init.stdout)![1]!;
  t.equal(statSync(join(keys, 'desk.key')).mode & 0o777, 0o600, 'key files are written 0600');
  t.equal(statSync(join(keys, 'root.key')).mode & 0o777, 0o600);
  t.notMatch(readFileSync(join(keys, 'desk.key'), 'utf8'), /"secret"/, 'no secret in clear in the key file');

  const again = await runCli(['keys', 'init', '--dir', keys]);
  t.equal(again.code, 1);
  oneErrorLine(t, again.stderr, /already holds a tip line's keys/);

  const store = await pglite!.open();
  t.teardown(() => store.drop());
  await publishDirectory(store.db, JSON.parse(readFileSync(join(keys, 'directory.json'), 'utf8')), new Date());
  const server = await startServer({ db: store.db });
  t.teardown(() => server.close());

  await t.test('wrong fingerprint: nothing is encrypted or sent', async (t) => {
    const wrong = fp.replace(/^./, (c) => (c === 'a' ? 'b' : 'a'));
    const r = await runCli(['submit', '--server', server.url, '--fingerprint', wrong, '-m', 'x']);
    t.equal(r.code, 1);
    oneErrorLine(t, r.stderr, /refusing to encrypt: .*does not verify/);
    t.equal((await store.db.selectFrom('uploads').select('id').execute()).length, 0);
    const malformed = await runCli(['submit', '--server', server.url, '--fingerprint', 'not-a-fingerprint', '-m', 'x']);
    t.not(malformed.code, 0);
    t.match(malformed.stderr, /^tipline: /m);
  });

  await t.test('server down', async (t) => {
    const r = await runCli(['submit', '--server', 'http://127.0.0.1:9', '--fingerprint', fp, '-m', 'x', '--retry-for', '0']);
    t.equal(r.code, 1);
    oneErrorLine(t, r.stderr, /cannot reach the server: ECONNREFUSED/);
    const f = await runCli(['fetch', '--server', 'http://127.0.0.1:9', '--key', join(keys, 'desk.key'), '--out', join(work, 'x')]);
    t.equal(f.code, 1);
    oneErrorLine(t, f.stderr, /cannot reach the server/);
  });

  await t.test('wrong passphrase', async (t) => {
    const r = await runCli(['fetch', '--server', server.staffUrl, '--key', join(keys, 'desk.key'), '--out', join(work, 'x')], { env: { TIPLINE_PASSPHRASE: 'not the passphrase' } });
    t.equal(r.code, 1);
    oneErrorLine(t, r.stderr, /wrong passphrase for .*desk\.key/);
  });

  await t.test('serve pinned to another root refuses the directory', async (t) => {
    await seedPglite(join(work, 'pinned', 'pg'));
    const r = await runCli(['serve', '--port', '0', '--data', join(work, 'pinned'), '--directory', join(keys, 'directory.json'), '--fingerprint', 'aaaa'.repeat(8)], { env: { DATABASE_URL: '' }, timeoutMs: 60_000 });
    t.equal(r.code, 1);
    oneErrorLine(t, r.stderr, /signed by root key .* expected aaaa/);
  });

  await t.test('usage errors exit 2', async (t) => {
    const r = await runCli(['submit', '--server', server.url]);
    t.equal(r.code, 2);
    t.match(r.stderr, /missing --fingerprint/);
    const u = await runCli(['frobnicate']);
    t.equal(u.code, 2);
  });

  await t.test('a tampered envelope is reported and leaves nothing behind', async (t) => {
    const sent = await runCli(['submit', '--server', server.url, '--fingerprint', fp, '-m', 'will be tampered with']);
    t.equal(sent.code, 0, sent.stderr);
    const id = /tip id: (\S+)/.exec(sent.stdout)![1]!;
    const row = await store.db.selectFrom('blob_chunks').select('data').where('blob_id', '=', id).where('idx', '=', 0).executeTakeFirstOrThrow();
    const data = new Uint8Array(row.data);
    data[data.length - 1]! ^= 1;
    await store.db.updateTable('blob_chunks').set({ data }).where('blob_id', '=', id).where('idx', '=', 0).execute();
    const out = join(work, 'inbox');
    const r = await runCli(['fetch', '--server', server.staffUrl, '--key', join(keys, 'desk.key'), '--out', out]);
    t.equal(r.code, 1);
    t.match(r.stdout, new RegExp(`error: tip ${id}: .*(tamper|authentic)`, 'i'));
    t.match(r.stdout, /0 fetched, 0 already here, 1 failed/);
    t.same(readdirSync(out), [], 'no folder, not even a partial one');
  });

  await t.test('keys add-desk: a second desk reads new tips, the first still does', async (t) => {
    const add = await runCli(['keys', 'add-desk', '--dir', keys, '--name', 'desk-b']);
    t.equal(add.code, 0, add.stderr);
    t.match(add.stdout, new RegExp(`fingerprint: ${fp}`));
    await publishDirectory(store.db, JSON.parse(readFileSync(join(keys, 'directory.json'), 'utf8')), new Date());
    await store.db.deleteFrom('tips').execute();
    const sent = await runCli(['submit', '--server', server.url, '--fingerprint', fp, '-m', 'for both desks']);
    t.equal(sent.code, 0, sent.stderr);
    const id = /tip id: (\S+)/.exec(sent.stdout)![1]!;
    for (const desk of ['desk', 'desk-b']) {
      const out = join(work, `inbox-${desk}`);
      const r = await runCli(['fetch', '--server', server.staffUrl, '--key', join(keys, `${desk}.key`), '--out', out]);
      t.equal(r.code, 0, r.stderr);
      t.equal(readFileSync(join(tipFolder(out, id)!, 'message.txt'), 'utf8'), 'for both desks', `${desk} decrypts it`);
    }
    t.ok(existsSync(join(keys, 'desk-b.key')));
  });
});
