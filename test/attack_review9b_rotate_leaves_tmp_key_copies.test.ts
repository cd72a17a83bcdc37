// Attack (review of issue 9): a key file is replaced by writing `.NAME.key.<random>.tmp`, fsync, rename. A crash
// (power cut, kill) between write and rename leaves that temporary copy in the keys folder: a full key file with
// every kept box key in it, opened by the same passphrase. `tipline keys rotate` destroys expired keys in NAME.key
// only, so the stray copy kept them, and every tip sealed to them, for as long as the folder lives. Rotate now
// removes such leftovers of its own (and says so).
import t from 'tap';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './helpers/cli.js';
import { initCrypto } from '../crypto/node.js';
import { openKeyFile } from '../crypto/keyfile.js';

await initCrypto();

t.test('rotate leaves no stray copy of a key file behind', async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'tipline-rotate-tmp-'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));
  const keys = join(work, 'keys');
  const init = await runCli(['keys', 'init', '--dir', keys, '--name', 'alice']);
  t.equal(init.code, 0, init.stderr);
  t.equal((await runCli(['keys', 'rotate', '--dir', keys, '--force'])).code, 0, 'a first rotation keeps the first key');
  // What a crash between write and rename leaves: the temporary copy, here of the file holding the kept key.
  const stray = join(keys, '.alice.key.0123456789ab.tmp');
  copyFileSync(join(keys, 'alice.key'), stray);
  const copy = openKeyFile(JSON.parse(readFileSync(stray, 'utf8')), 'correct horse battery staple');
  t.equal(copy.kept?.length, 1, 'the stray copy opens with the passphrase and holds the kept key');
  const r = await runCli(['keys', 'rotate', '--dir', keys, '--force']);
  t.equal(r.code, 0, r.stderr);
  t.notOk(existsSync(stray), 'the stray copy of the key file is gone after rotate');
  t.match(r.stdout, /removed .*\.alice\.key\.0123456789ab\.tmp/, 'and rotate says it removed it');
});
