// Attack (review of issue 10): verify-export skips every ZIP entry whose name ends in "/" and unpacks to nothing,
// without checking its path. A signed export with an added folder entry "../../evil/" (zip slip: unzip tools
// that honour it create a folder outside the one the ZIP is unpacked in) or "/etc/cron.d/" still printed PASS.
// Such an entry is now held to the same path rules as a file.
import t from 'tap';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unzipSync, zipSync, type Zippable } from 'fflate';
import { exportThread, verifyExport } from '../client/desk/export.js';
import { makeNewsroom } from './helpers/fixtures.js';

const NOW = new Date(Math.floor(Date.now() / 1000) * 1000);
const n = makeNewsroom(NOW);
const base = mkdtempSync(join(tmpdir(), 'tipline-export-attack-'));
t.teardown(() => rmSync(base, { recursive: true, force: true }));
const TIP = 'aaaaaaaaaaaaaaaaaaaaaaaaaa';
const folder = join(base, TIP);
mkdirSync(join(folder, 'files'), { recursive: true });
writeFileSync(join(folder, 'message.txt'), 'A tip.\n');
writeFileSync(join(folder, 'manifest.json'), JSON.stringify({ tip_id: TIP, received_day: '2026-11-20' }));
const zip = await exportThread({ thread: 'th', tips: [{ tipId: TIP, folder }], shared: undefined, desk: { ...n.desk, role: 'desk' }, directory: n.doc, now: NOW });

function withEntries(extra: Zippable): Uint8Array {
  const z: Zippable = { ...unzipSync(zip) };
  return zipSync({ ...z, ...extra });
}

t.test('the untouched export passes', async (t) => {
  t.equal(verifyExport(zip, n.fingerprint).ok, true);
});

t.test('a folder entry escaping the folder fails', async (t) => {
  const c = verifyExport(withEntries({ '../../evil/': new Uint8Array(0) }), n.fingerprint);
  t.equal(c.ok, false, c.lines.join('\n'));
  t.ok(c.lines.some((l) => l.startsWith('FAIL') && /\.\.\/\.\.\/evil\/.*zip slip/.test(l)));
});

t.test('an absolute folder entry fails', async (t) => {
  const c = verifyExport(withEntries({ '/etc/cron.d/': new Uint8Array(0) }), n.fingerprint);
  t.equal(c.ok, false, c.lines.join('\n'));
});

t.test('honest folder entries still pass', async (t) => {
  t.equal(verifyExport(withEntries({ 'hidden/': [new Uint8Array(0), { level: 0 }] }), n.fingerprint).ok, true, 'a stored empty folder entry');
  t.equal(verifyExport(withEntries({ 'tips/': new Uint8Array(0) }), n.fingerprint).ok, true, 'a deflated one for a folder the export has');
});
