// A thread exported from the desk app verifies (`tipline verify-export`), and every alteration fails with a line
// naming it: one byte of a file, of SHA256SUMS, of the signature; a file added, removed, renamed into "../";
// the same name twice; a declared size fit for a zip bomb; the wrong root fingerprint; a key the directory does
// not list as that desk. The export is deterministic, carries no symlinked file, and `sha256sum -c SHA256SUMS`
// passes in an unzipped copy. The CLI's exit codes: 0 PASS, 1 FAIL or unreadable, 2 usage.
import t, { type Test } from 'tap';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unzipSync, zipSync, type Zippable } from 'fflate';
import { exportFileName, exportThread, verifyExport, type ExportCheck } from '../client/desk/export.js';
import type { ThreadShared } from '../crypto/desk-notes.js';
import { generateDeskKey } from '../crypto/keys.js';
import { makeNewsroom } from './helpers/fixtures.js';
import { runCli } from './helpers/cli.js';

const DAY = 86_400_000;
const NOW = new Date(Math.floor(Date.now() / 1000) * 1000);
const n = makeNewsroom(NOW);
const desk = { ...n.desk, role: 'desk' as const };
const base = mkdtempSync(join(tmpdir(), 'tipline-export-'));
const inbox = join(base, 'inbox');

function tip(id: string, day: string, message: string, files: Record<string, Uint8Array | string>): string {
  const folder = join(inbox, id);
  mkdirSync(join(folder, 'files'), { recursive: true });
  writeFileSync(join(folder, 'message.txt'), message);
  const names = Object.keys(files);
  writeFileSync(join(folder, 'manifest.json'), `${JSON.stringify({ tip_id: id, received_day: day, sent_day: day, fetched_at: NOW.toISOString(), files: names.map((f) => ({ original_name: f, saved_as: `files/${f}`, type: 'application/octet-stream', size: 1 })), reply: null, thread: 'th' }, null, 2)}\n`);
  for (const [f, b] of Object.entries(files)) writeFileSync(join(folder, 'files', f), b);
  return folder;
}

const TIP1 = 'aaaaaaaaaaaaaaaaaaaaaaaaaa';
const TIP2 = 'bbbbbbbbbbbbbbbbbbbbbbbbb2';
const secret = join(base, 'not-in-the-inbox.txt');
writeFileSync(secret, 'SECRET OF THIS MACHINE');
const f1 = tip(TIP1, '2026-11-20', 'The first tip.\n', { 'Beweis Foto (2).jpg': new Uint8Array([0xff, 0xd8, 0xff, 1, 2, 3]), 'notes.txt': 'größe\n' });
const f2 = tip(TIP2, '2026-11-22', 'A follow-up.\n', { 'a b.txt': 'x', 'Straße €.txt': 'ß', 'Cafe\u0301.txt': 'nfd', 'Café.txt': 'nfc' });
symlinkSync(secret, join(f2, 'files', 'link.txt'));

const shared: ThreadShared = {
  status: 'in-progress',
  statusBy: { by: 'desk-a', at: NOW.toISOString() },
  assignee: 'desk-a',
  starred: true,
  tags: ['health', 'city-hall'],
  notes: [{ op: 'op1', text: 'Call the clerk.', by: 'desk-a', at: NOW.toISOString() }],
  replies: [{ op: 'op2', tip: TIP1, text: 'Thank you, can you send the letter?', by: 'desk-a', at: NOW.toISOString() }],
  history: [],
  clock: 3,
};

const input = { thread: 'th', tips: [{ tipId: TIP1, folder: f1 }, { tipId: TIP2, folder: f2 }], shared, desk, directory: n.doc, now: NOW };
const zip = await exportThread(input);
const entries = unzipSync(zip);
const D1 = `tips/2026-11-20_${TIP1}`;
const D2 = `tips/2026-11-22_${TIP2}`;

function rezip(change: (files: Record<string, Uint8Array>) => void): Uint8Array {
  const files: Record<string, Uint8Array> = { ...unzipSync(zip) };
  change(files);
  const z: Zippable = {};
  for (const [k, v] of Object.entries(files)) z[k] = v;
  return zipSync(z);
}

function fails(c: ExportCheck): string[] {
  return c.lines.filter((l) => l.startsWith('FAIL'));
}

function expectFail(t: Test, c: ExportCheck, re: RegExp, what: string): void {
  t.equal(c.ok, false, `${what}: FAIL`);
  t.ok(fails(c).some((l) => re.test(l)), `${what}: a line names it (${fails(c).join(' | ')})`);
  const firstOk = c.lines.findIndex((l) => !l.startsWith('FAIL'));
  t.ok(firstOk === -1 || c.lines.slice(firstOk).every((l) => !l.startsWith('FAIL')), 'failures first');
}

t.test('the export holds the layout, and verifies', async (t) => {
  const names = Object.keys(entries);
  t.same(names, [...names].sort(), 'entries sorted');
  for (const p of ['README.txt', 'thread.json', 'directory.json', 'SHA256SUMS', 'SHA256SUMS.sig.json', `${D1}/message.txt`, `${D1}/manifest.json`, `${D1}/files/Beweis Foto (2).jpg`, `${D1}/files/notes.txt`, `${D2}/files/a b.txt`]) t.ok(entries[p], p);
  t.ok(entries[`${D2}/files/Straße €.txt`], 'a non-ASCII name kept');
  t.equal(names.filter((p) => /files\/_?Caf(e\u0301|é)\.txt$/.test(p)).length, 2, 'two names one file system takes for one: both kept, one renamed');
  t.notOk(names.some((p) => p.includes('link.txt')), 'a symlink in the inbox is not followed');
  t.notOk(Buffer.from(zip).includes('SECRET OF THIS MACHINE'), 'nor its target exported');
  t.same(entries[`${D1}/files/Beweis Foto (2).jpg`], new Uint8Array([0xff, 0xd8, 0xff, 1, 2, 3]), 'files exactly as decrypted');
  const thread = JSON.parse(Buffer.from(entries['thread.json']!).toString()) as Record<string, any>;
  t.equal(thread.thread, 'th');
  t.same(thread.tips.map((x: { tip_id: string }) => x.tip_id), [TIP1, TIP2]);
  t.equal(thread.shared.status, 'in-progress');
  t.same(thread.shared.tags, ['health', 'city-hall']);
  t.equal(thread.shared.replies[0].text, 'Thank you, can you send the letter?');
  t.match(Buffer.from(entries['README.txt']!).toString(), /tipline verify-export FILE\.zip --fingerprint FP/);
  const c = verifyExport(zip, n.fingerprint);
  t.equal(c.ok, true, c.lines.join('\n'));
  t.equal(c.signer, 'desk-a');
  t.ok(c.lines.some((l) => /lists the signing key as desk "desk-a"/.test(l)));
  t.ok(c.lines.some((l) => /still valid now/.test(l)));
  t.same(await exportThread(input), zip, 'deterministic: the same thread at the same instant, the same bytes');
  t.equal(exportFileName(`tip:${TIP1}`, new Date('2026-11-27T10:00:00Z')), `thread-2026-11-27_tip-${TIP1}.zip`);
  t.equal(exportFileName('../../etc/x', new Date('2026-11-27T10:00:00Z')), 'thread-2026-11-27_-etc-x.zip', 'nothing of a path');
  const noFp = verifyExport(zip);
  t.equal(noFp.ok, true);
  t.ok(noFp.lines.some((l) => /not checked \(no --fingerprint\)/.test(l)));
});

t.test('a month later the directory has expired: checked as of the export, and said so', async (t) => {
  const c = verifyExport(zip, n.fingerprint, new Date(NOW.getTime() + 30 * DAY));
  t.equal(c.ok, true, c.lines.join('\n'));
  t.ok(c.lines.some((l) => /valid then .* expired since/.test(l)), 'says it expired since');
});

t.test('every alteration fails with a line naming it', async (t) => {
  const file = `${D1}/files/notes.txt`;
  expectFail(t, verifyExport(rezip((f) => (f[file] = Uint8Array.from(f[file]!, (b, i) => (i === 0 ? b ^ 1 : b)))), n.fingerprint), new RegExp(`${file.replace(/[()]/g, '\\$&')}: its SHA-256 does not match`), 'one byte of a file');
  expectFail(t, verifyExport(rezip((f) => (f.SHA256SUMS = Uint8Array.from(f.SHA256SUMS!, (b, i) => (i === 3 ? (b === 0x30 ? 0x31 : 0x30) : b)))), n.fingerprint), /SHA256SUMS\.sig\.json: .*does not verify/, 'one byte of SHA256SUMS');
  expectFail(
    t,
    verifyExport(
      rezip((f) => {
        const sig = JSON.parse(Buffer.from(f['SHA256SUMS.sig.json']!).toString()) as { signature: string };
        const s = Buffer.from(sig.signature, 'base64');
        s[10]! ^= 1;
        sig.signature = s.toString('base64');
        f['SHA256SUMS.sig.json'] = new TextEncoder().encode(JSON.stringify(sig));
      }),
      n.fingerprint,
    ),
    /SHA256SUMS\.sig\.json: .*does not verify/,
    'one byte of the signature',
  );
  expectFail(t, verifyExport(rezip((f) => (f[`${D1}/files/extra.txt`] = new TextEncoder().encode('planted'))), n.fingerprint), /files\/extra\.txt: in the ZIP but not listed/, 'a file added');
  expectFail(t, verifyExport(rezip((f) => delete f[`${D2}/message.txt`]), n.fingerprint), new RegExp(`${D2}/message\\.txt: listed in SHA256SUMS but missing`), 'a file removed');
  expectFail(
    t,
    verifyExport(
      rezip((f) => {
        f['../thread.json'] = f['thread.json']!;
        delete f['thread.json'];
      }),
      n.fingerprint,
    ),
    /"\.\.\/thread\.json": .*zip slip/,
    'a file renamed into ../',
  );
  expectFail(t, verifyExport(rezip((f) => (f['/etc/cron.d/x'] = new Uint8Array(1))), n.fingerprint), /"\/etc\/cron\.d\/x": an absolute path/, 'an absolute path');
  expectFail(t, verifyExport(rezip((f) => (f['THREAD.json'] = new Uint8Array(1))), n.fingerprint), /THREAD\.json: the same file as thread\.json/, 'a name differing only in case');
});

t.test('duplicate names, zip bombs and non-ZIPs are refused', async (t) => {
  // Two entries of one name: made by renaming "README.txt" to "thread.jsoX"... then to an existing name of the
  // same length, in both the local and the central header.
  const dup = Buffer.from(rezip((f) => (f['thread.jsoX'] = f['thread.json']!)));
  let at = -1;
  while ((at = dup.indexOf('thread.jsoX', at + 1)) >= 0) dup.write('thread.json', at, 'latin1');
  expectFail(t, verifyExport(dup, n.fingerprint), /thread\.json: in the ZIP twice/, 'the same name twice');
  // A central directory entry declaring 3 GB unpacked.
  const bomb = Buffer.from(zip);
  const cd = bomb.lastIndexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
  bomb.writeUInt32LE(3 * 1024 ** 3, cd + 24);
  expectFail(t, verifyExport(bomb, n.fingerprint), /more than the \d+ an entry may have/, 'a 3 GB entry');
  expectFail(t, verifyExport(new TextEncoder().encode('not a zip at all'), n.fingerprint), /not a ZIP file/, 'not a ZIP');
});

t.test('the wrong root, or a key the directory lists as another desk, fails', async (t) => {
  const other = makeNewsroom(NOW);
  expectFail(t, verifyExport(zip, other.fingerprint), /directory\.json: does not verify under the root/, 'the wrong fingerprint');
  // The export signed by a key the directory does not list, under desk-a's name.
  const stranger = { ...generateDeskKey(), name: 'desk-a', role: 'desk' as const };
  const forged = await exportThread({ ...input, desk: stranger });
  t.equal(verifyExport(forged).ok, true, 'without a fingerprint the signature alone holds');
  expectFail(t, verifyExport(forged, n.fingerprint), /does not list the signing key/, 'a key the directory does not list');
  // The auditor's key, named as a desk.
  const auditor = { ...n.auditor, name: 'desk-a', role: 'desk' as const };
  expectFail(t, verifyExport(await exportThread({ ...input, desk: auditor }), n.fingerprint), /as auditor "auditor-a", not a desk/, 'an auditor key');
});

t.test('sha256sum -c SHA256SUMS passes in an unzipped copy', async (t) => {
  const out = mkdtempSync(join(tmpdir(), 'tipline-unzipped-'));
  writeFileSync(join(out, 'export.zip'), zip);
  execFileSync('unzip', ['-q', 'export.zip', '-d', 'x'], { cwd: out });
  const res = execFileSync('sha256sum', ['-c', 'SHA256SUMS'], { cwd: join(out, 'x'), encoding: 'utf8' });
  t.match(res, new RegExp(`${D1}/files/Beweis Foto \\(2\\)\\.jpg: OK`));
  t.notMatch(res, /FAILED/);
  writeFileSync(join(out, 'x', D1, 'message.txt'), 'changed');
  let failed = false;
  try {
    execFileSync('sha256sum', ['-c', '--quiet', 'SHA256SUMS'], { cwd: join(out, 'x'), stdio: 'pipe' });
  } catch {
    failed = true;
  }
  t.ok(failed, 'and fails once a file is changed');
});

t.test('tipline verify-export: PASS 0, FAIL 1, unreadable 1 in one line, usage 2', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tipline-cli-'));
  const good = join(dir, 'good.zip');
  const bad = join(dir, 'bad.zip');
  const notZip = join(dir, 'not.zip');
  writeFileSync(good, zip);
  writeFileSync(bad, rezip((f) => (f[`${D1}/message.txt`] = new TextEncoder().encode('edited'))));
  writeFileSync(notZip, 'hello');
  const pass = await runCli(['verify-export', good, '--fingerprint', n.fingerprint]);
  t.equal(pass.code, 0, pass.stderr);
  t.match(pass.stdout, /PASS: exported by desk "desk-a"/);
  const fail = await runCli(['verify-export', bad, '--fingerprint', n.fingerprint]);
  t.equal(fail.code, 1);
  t.match(fail.stdout, new RegExp(`^FAIL ${D1}/message\\.txt: its SHA-256 does not match`));
  t.match(fail.stdout, /\nFAIL\n$/);
  const missing = await runCli(['verify-export', join(dir, 'nope.zip')]);
  t.equal(missing.code, 1);
  t.match(missing.stderr, /nope\.zip: no such file/);
  t.equal(missing.stderr.trim().split('\n').length, 1, 'one line');
  const nz = await runCli(['verify-export', notZip]);
  t.equal(nz.code, 1);
  t.match(nz.stderr, /not\.zip: not a ZIP file/);
  t.equal(nz.stderr.trim().split('\n').length, 1, 'one line');
  t.equal((await runCli(['verify-export'])).code, 2, 'no file: usage');
  t.equal((await runCli(['verify-export', good, '--fingerprint', 'xyz'])).code, 2, 'a malformed fingerprint: usage');
  t.equal((await runCli(['verify-export', good, '--bogus'])).code, 2, 'an unknown option: usage');
  const help = await runCli(['verify-export', '--help']);
  t.equal(help.code, 0);
  t.match(help.stdout, /usage: tipline verify-export FILE\.zip \[--fingerprint FP\]/);
});
