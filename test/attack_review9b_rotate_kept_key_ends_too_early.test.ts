// Attack (review of issue 9, a day-arithmetic slip at the retention boundary): `keys rotate` stamps a replaced
// key as "ended" at the rotation, and destroys it tips_days + 1 days after that. But the directory signed before
// the rotation still lists that key until its not_after (the period + 2 days' grace, from its start; later still
// when rotated early with --force), and a page or CLI that loaded it seals new tips to it until then. A tip
// sealed on that last listed day is promised tips_days of life, yet its key is destroyed up to not_after - ended
// days sooner: the journalist loses it before the policy says. The kept key's end is now the later of the rotation
// and the last moment the old directory listed it.
import t from 'tap';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './helpers/cli.js';
import { initCrypto } from '../crypto/node.js';
import { openKeyFile } from '../crypto/keyfile.js';

await initCrypto();

function listed(keys: string, name: string): { box_key: string; not_after: string } {
  const doc = JSON.parse(readFileSync(join(keys, 'directory.json'), 'utf8')) as { payload: string };
  const d = JSON.parse(Buffer.from(doc.payload, 'base64').toString('utf8')) as { recipients: { name: string; box_key: string; not_after: string }[] };
  return d.recipients.find((r) => r.name === name)!;
}

t.test('a replaced key is kept from the last day a client could seal to it', async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'tipline-rotate-end-'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));
  const keys = join(work, 'keys');
  t.equal((await runCli(['keys', 'init', '--dir', keys, '--name', 'alice'])).code, 0);
  const before = listed(keys, 'alice');
  const r = await runCli(['keys', 'rotate', '--dir', keys, '--force']);
  t.equal(r.code, 0, r.stderr);
  t.not(listed(keys, 'alice').box_key, before.box_key, 'rotated');
  const k = openKeyFile(JSON.parse(readFileSync(join(keys, 'alice.key'), 'utf8')), 'correct horse battery staple');
  t.equal(k.kept?.length, 1);
  t.ok(Date.parse(k.kept![0]!.ended) >= Date.parse(before.not_after), `kept until at least the old listing's end (${k.kept![0]!.ended} vs ${before.not_after})`);
});
