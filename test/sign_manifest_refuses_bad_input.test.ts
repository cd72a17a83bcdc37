// `tipline keys sign-manifest` says what to fix, and writes nothing, when --dir is missing or holds no root key,
// and when the root key's passphrase is wrong; with the right one it signs this installation's manifest.
import t from 'tap';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './helpers/cli.js';
import { quickKeysInit } from './helpers/quick-keys.js'; // keys init made once per test run, at the least KDF cost
import { verifyClientManifest } from '../crypto/client-manifest.js';
import { initCrypto } from '../crypto/node.js';

await initCrypto();

t.test('keys sign-manifest', { timeout: 180_000 }, async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'tipline-sign-manifest-'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));
  const keys = join(work, 'keys');
  const init = await quickKeysInit(keys);
  t.equal(init.code, 0, init.stderr);
  const fingerprint = /fingerprint: (.+)/.exec(init.stdout)![1]!;

  const none = await runCli(['keys', 'sign-manifest']);
  t.equal(none.code, 2, 'no --dir: usage');
  t.match(none.stderr, /missing --dir DIR/);
  const empty = await runCli(['keys', 'sign-manifest', '--dir', work]);
  t.equal(empty.code, 2, 'a folder without root.key: usage');
  t.match(empty.stderr, /no root key at .*root\.key/);
  const wrong = await runCli(['keys', 'sign-manifest', '--dir', keys], { env: { TIPLINE_PASSPHRASE: 'not the passphrase at all' } });
  t.equal(wrong.code, 1, 'a wrong passphrase: exit 1');
  t.match(wrong.stderr, /wrong passphrase for .*root\.key/);
  t.notOk(existsSync(join(keys, 'client-manifest.json')), 'nothing written');

  const ok = await runCli(['keys', 'sign-manifest', '--dir', keys]);
  t.equal(ok.code, 0, ok.stderr);
  const m = verifyClientManifest(JSON.parse(readFileSync(join(keys, 'client-manifest.json'), 'utf8')), fingerprint);
  t.equal(m.files.length, 6, 'signed under the root: six files');
  const help = await runCli(['keys', 'sign-manifest', '--help']);
  t.match(help.stdout, /usage: tipline keys sign-manifest --dir DIR/);
});
