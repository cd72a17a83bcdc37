// `tipline keys init` writes a signed policy beside the directory, and `tipline serve --directory DIR/directory.json`
// publishes it (and any canary beside it) at start and again on SIGHUP; a document that does not verify stops
// the start with one clear line.
import t from 'tap';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './helpers/cli.js';
import { startChildServer } from './helpers/child-server.js';
import { seedPglite } from './helpers/databases.js';
import { verifyPolicy } from '../crypto/policy.js';
import { makeCanary, signCanary, verifyCanary } from '../crypto/canary.js';
import { openKeyFile } from '../crypto/keyfile.js';
import { initCrypto } from '../crypto/node.js';
import type { SignedDocument } from '../crypto/signed.js';

await initCrypto();
const PASS = 'correct horse battery staple';

t.test('serve publishes the documents beside the directory', async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'tipline-docs-'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));
  const keys = join(work, 'keys');
  const init = await runCli(['keys', 'init', '--dir', keys], { env: { TIPLINE_PASSPHRASE: PASS } });
  t.equal(init.code, 0, init.stderr);
  t.match(init.stdout, /policy: .*policy\.json \(tips and replies kept 30 days/, 'keys init says where the policy is');
  const fp = /fingerprint: (.+)/.exec(init.stdout)![1]!;
  const policy = JSON.parse(readFileSync(join(keys, 'policy.json'), 'utf8')) as SignedDocument;
  t.equal(verifyPolicy(policy, fp).retention.tips_days, 30, 'the default policy is signed by the root: 30 days');

  // A copy of the migrated PGlite template: creating a data folder is not what this test is about (5–15 s of CPU).
  await seedPglite(join(work, 'data', 'pg'));
  const server = await startChildServer(['--port', '0', '--data', join(work, 'data'), '--directory', join(keys, 'directory.json')], {}, 240_000);
  t.teardown(async () => {
    server.kill('SIGKILL');
    await server.exited;
  });
  t.match(server.output(), /policy: .*policy\.json, published/, 'serve says it published the policy');
  const res = await fetch(`${server.url}/.well-known/tipline/policy`);
  t.equal(res.status, 200);
  t.same(await res.json(), policy, 'served as signed');
  t.equal((await fetch(`${server.url}/.well-known/tipline/canary`)).status, 404, 'no canary yet');

  // A canary signed by the directory signing key, published on SIGHUP.
  const signer = openKeyFile(JSON.parse(readFileSync(join(keys, 'signing.key'), 'utf8')), PASS);
  const cert = JSON.parse(readFileSync(join(keys, 'signing-certificate.json'), 'utf8')) as SignedDocument;
  const canary = signCanary(makeCanary(new Date(), 7), cert, { publicKey: signer.public.sign!, secretKey: signer.secret.sign! });
  writeFileSync(join(keys, 'canary.json'), JSON.stringify(canary));
  server.kill('SIGHUP');
  let got: Response | undefined;
  for (let i = 0; i < 50; i++) {
    got = await fetch(`${server.url}/.well-known/tipline/canary`);
    if (got.status === 200) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  t.equal(got!.status, 200, 'the canary is published on SIGHUP');
  t.equal(verifyCanary(await got!.json(), fp, new Date()).stale, false);
});

t.test('a policy that does not verify stops the start', async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'tipline-docs-'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));
  const keys = join(work, 'keys');
  t.equal((await runCli(['keys', 'init', '--dir', keys], { env: { TIPLINE_PASSPHRASE: PASS } })).code, 0);
  const policy = JSON.parse(readFileSync(join(keys, 'policy.json'), 'utf8')) as SignedDocument;
  writeFileSync(join(keys, 'policy.json'), JSON.stringify({ ...policy, signature: policy.signature.replace(/^./, (c) => (c === 'A' ? 'B' : 'A')) }));
  await seedPglite(join(work, 'data', 'pg'));
  const r = await runCli(['serve', '--port', '0', '--staff-port', '0', '--data', join(work, 'data'), '--directory', join(keys, 'directory.json')], { timeoutMs: 240_000 });
  t.not(r.code, 0, 'serve exits');
  t.match(r.stderr, /policy\.json: signed document: bad signature on "policy"/, 'naming the file and the fault');
  t.notMatch(r.stderr, /\n\s+at .*:\d+:\d+/, 'no stack trace');
});
