// A thread exported from the desk app as one ZIP: its messages, files, shared notes and replies, and a list of
// the SHA-256 of everything in it signed by the exporting desk's key, with the directory that lists that key,
// so an editor or a court can later check that nothing was altered (`tipline verify-export`). FORMAT.md
// §Thread export has the layout and the signature's encoding (crypto/export-signature.ts).
//
// What it proves: that the desk holding that key exported these bytes at that time. Not that the source sent
// them: tips are anonymous, and the envelope's integrity was checked when the desk decrypted it.
import { createHash } from 'node:crypto';
import { lstatSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { crc32, inflateRawSync } from 'node:zlib';
import { zipSync, type Zippable } from 'fflate';
import type { ThreadShared } from '../../crypto/desk-notes.js';
import { utf8Decode, utf8Encode } from '../../crypto/bytes.js';
import { findSigner, verifyDirectoryChain } from '../../crypto/directory.js';
import { signExport, verifyExportSignature, type ExportSignature } from '../../crypto/export-signature.js';
import { displayFingerprint, normalizeFingerprint } from '../../crypto/keys.js';
import { Day, Id } from '../../schema/wire.js';
import { safeFileName } from '../cli/filenames.js';
import type { StaffIdentity } from '../cli/keyfiles.js';

export interface ExportInput {
  thread: string;
  /** The thread's tips, oldest first: each tip's folder in the inbox (message.txt, manifest.json, files/). */
  tips: { tipId: string; folder: string }[];
  shared: ThreadShared | undefined;
  desk: StaffIdentity;
  /** The signed directory document (as served) that lists the desk's signing key. */
  directory: unknown;
  now: Date;
}

export const SUMS_FILE = 'SHA256SUMS';
export const SIG_FILE = 'SHA256SUMS.sig.json';
/** Largest entry verify-export inflates, and largest total: a ZIP is read into memory (threat: a zip bomb). */
export const MAX_ENTRY_BYTES = 1024 * 1024 * 1024;
export const MAX_TOTAL_BYTES = 2 * 1024 * 1024 * 1024;
export const MAX_ENTRIES = 20_000;
// Every entry's time: the export time is in the signed SHA256SUMS.sig.json; a ZIP's DOS times are local time
// without a zone (they would tell the exporting machine's time zone) and are not covered by any hash.
const ZIP_TIME = new Date(1980, 0, 1, 0, 0, 0);

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** A relative path that unpacks inside the folder it is unpacked in, on Linux, macOS and Windows alike, and
 * that a SHA256SUMS line carries without GNU's escaping (no backslash, no line break). */
export function zipPathProblem(p: string): string | undefined {
  if (p.length === 0) return 'an empty name';
  if (p.startsWith('/') || /^[A-Za-z]:/.test(p)) return 'an absolute path';
  if (p.includes('\\')) return 'a backslash in its name (a path separator on Windows)';
  if (p.includes(':')) return 'a colon in its name (a drive or an alternate data stream on Windows)';
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(p)) return 'a control character in its name';
  const parts = p.split('/');
  if (parts.some((s) => s === '..')) return 'a ".." segment: it would be written outside the folder it is unpacked in (zip slip)';
  if (parts.some((s) => s === '' || s === '.')) return 'an empty or "." segment in its path';
  return undefined;
}

function tipFolderName(tipId: string, manifest: Record<string, unknown>): { name: string; receivedDay: string | null; sentDay: string | null } {
  const day = (v: unknown) => (Day.safeParse(v).success ? (v as string) : null);
  const receivedDay = day(manifest.received_day);
  const sentDay = day(manifest.sent_day);
  return { name: `${receivedDay ?? sentDay ?? 'undated'}_${tipId}`, receivedDay, sentDay };
}

/** Regular files only: a symlink planted in the inbox must not carry another file of this machine into the ZIP. */
function readRegular(path: string): Uint8Array | undefined {
  const st = lstatSync(path, { throwIfNoEntry: false });
  if (!st?.isFile()) return undefined;
  if (st.size > MAX_ENTRY_BYTES) throw new Error(`export: ${path} has ${st.size} bytes, more than the ${MAX_ENTRY_BYTES} one file in an export may have: save it on its own instead`);
  return new Uint8Array(readFileSync(path));
}

const README = (o: { thread: string; desk: string; exportedAt: string; tips: number }) => `Tipline thread export

This ZIP holds one thread of the tip line as the desk "${o.desk}" had it on ${o.exportedAt}:
${o.tips} ${o.tips === 1 ? 'tip' : 'tips'}, each in tips/<day received>_<tip id>/ (message.txt, manifest.json, files/ exactly as
decrypted), the desks' shared state of the thread in thread.json (status, tags, who is on it, notes, replies
sent, and their history), and directory.json, the signed directory that lists the desk's signing key.

SHA256SUMS lists the SHA-256 of every other file; SHA256SUMS.sig.json is the desk's Ed25519 signature over it,
its name, its key and the export time.

To check it (the fingerprint is the newsroom's root key fingerprint, obtained from the newsroom, not from here):

    tipline verify-export FILE.zip --fingerprint FP

Without tipline, the hashes alone (not the signature): unzip it, then in that folder run  sha256sum -c SHA256SUMS

What it proves: that the desk holding that key exported these bytes at that time, and that nothing was changed
since. It does not prove that a source sent them: tips are anonymous. Each tip's encryption was checked when the
desk decrypted it.

Thread: ${o.thread}
`;

/** A file name for a thread's export that a person can find it by: `thread-<day exported>_<thread>.zip`, the
 * thread id made safe for any file system (a `tip:` prefix becomes `tip-`). */
export function exportFileName(thread: string, now: Date): string {
  const safe = thread.replace(/[^A-Za-z0-9_-]+/g, '-').slice(0, 80) || 'thread';
  return `thread-${now.toISOString().slice(0, 10)}_${safe}.zip`;
}

export async function exportThread(i: ExportInput): Promise<Uint8Array> {
  const exportedAt = i.now.toISOString();
  const files = new Map<string, Uint8Array>();
  let total = 0;
  const put = (path: string, bytes: Uint8Array) => {
    const problem = zipPathProblem(path);
    if (problem) throw new Error(`export: ${JSON.stringify(path)} has ${problem}`);
    if (files.has(path)) throw new Error(`export: ${path} twice`);
    // Never write an export that verify-export would refuse as too large.
    total += bytes.length;
    if (bytes.length > MAX_ENTRY_BYTES || total > MAX_TOTAL_BYTES) {
      throw new Error(`export: the thread is too large for one ZIP (a file may have at most ${MAX_ENTRY_BYTES} bytes, all together ${MAX_TOTAL_BYTES}): save its files one by one instead`);
    }
    files.set(path, bytes);
  };
  const tips: { tip_id: string; received_day: string | null; sent_day: string | null; folder: string }[] = [];
  for (const tip of i.tips) {
    if (!Id.safeParse(tip.tipId).success) throw new Error(`export: ${JSON.stringify(tip.tipId)} is not a tip id`);
    const manifestBytes = readRegular(join(tip.folder, 'manifest.json'));
    const message = readRegular(join(tip.folder, 'message.txt'));
    if (!manifestBytes || !message) throw new Error(`export: tip ${tip.tipId}: ${tip.folder} lacks manifest.json or message.txt`);
    let manifest: Record<string, unknown> = {};
    try {
      const m: unknown = JSON.parse(utf8Decode(manifestBytes));
      if (m && typeof m === 'object' && !Array.isArray(m)) manifest = m as Record<string, unknown>;
    } catch {
      // exported as it is; only the folder's day is read from it
    }
    const { name, receivedDay, sentDay } = tipFolderName(tip.tipId, manifest);
    const base = `tips/${name}`;
    tips.push({ tip_id: tip.tipId, received_day: receivedDay, sent_day: sentDay, folder: base });
    put(`${base}/message.txt`, message);
    put(`${base}/manifest.json`, manifestBytes);
    const dir = join(tip.folder, 'files');
    const names = lstatSync(dir, { throwIfNoEntry: false })?.isDirectory() ? readdirSync(dir).sort() : [];
    const used = new Set<string>();
    names.forEach((n, k) => {
      const bytes = readRegular(join(dir, n));
      if (!bytes) return;
      // fetch already wrote safe names (client/cli/filenames.ts); a folder edited by hand is made safe again.
      let safe = zipPathProblem(n) || n.includes('/') ? safeFileName(n, k) : n;
      // As verify-export compares names: one file on a case-insensitive or normalising file system.
      const fold = (x: string) => x.normalize('NFC').toLowerCase();
      while (used.has(fold(safe))) safe = `_${safe}`;
      used.add(fold(safe));
      put(`${base}/files/${safe}`, bytes);
    });
  }
  const threadJson = {
    v: 1,
    thread: i.thread,
    exported_at: exportedAt,
    exported_by: { desk: i.desk.name, sign_key: Buffer.from(i.desk.signPublic).toString('base64') },
    tips,
    shared: i.shared
      ? { status: i.shared.status, status_by: i.shared.statusBy, tags: i.shared.tags, assignee: i.shared.assignee, notes: i.shared.notes, replies: i.shared.replies, history: i.shared.history }
      : null,
  };
  put('thread.json', utf8Encode(`${JSON.stringify(threadJson, null, 2)}\n`));
  put('directory.json', utf8Encode(`${JSON.stringify(i.directory, null, 2)}\n`));
  put('README.txt', utf8Encode(README({ thread: i.thread, desk: i.desk.name, exportedAt, tips: tips.length })));
  const paths = [...files.keys()].sort(byBytes);
  const sums = utf8Encode(paths.map((p) => `${sha256(files.get(p)!)}  ${p}\n`).join(''));
  const sig = signExport({ sums, desk: i.desk.name, exportedAt }, i.desk.signSecret);
  files.set(SUMS_FILE, sums);
  files.set(SIG_FILE, utf8Encode(`${JSON.stringify(sig, null, 2)}\n`));
  const zippable: Zippable = {};
  // Sorted, fixed times: the same thread exported at the same instant gives the same bytes.
  // Made on "Unix" (os 3) with mode 0600: Info-ZIP's unzip otherwise reads a name from "MS-DOS" as code page 437
  // despite its UTF-8 flag (Straße.txt came out as Stra+\203e.txt), and a source's files are for this reader only.
  for (const p of [...files.keys()].sort(byBytes)) zippable[p] = [files.get(p)!, { mtime: ZIP_TIME, level: 6, os: 3, attrs: (0o100600 << 16) >>> 0 }];
  return zipSync(zippable);
}

function byBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

export interface ExportCheck {
  ok: boolean;
  /** What was checked, one line each, failures first. */
  lines: string[];
  /** The desk that signed, when the signature verified. */
  signer?: string;
}

class ZipError extends Error {}

interface Entry {
  name: string;
  method: number;
  crc: number;
  csize: number;
  usize: number;
  offset: number;
  dataStart: number;
}

/** The entries of a ZIP, read from its central directory and checked against the local headers. Refuses what
 * an export never holds: encryption, ZIP64, multiple disks, overlapping entries (threat: a bomb that reuses one
 * compressed stream for many entries), declared sizes above the caps. */
function readZip(b: Uint8Array): Entry[] {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let eocd = -1;
  for (let p = b.length - 22; p >= Math.max(0, b.length - 22 - 0xffff); p--) {
    if (v.getUint32(p, true) === 0x06054b50 && p + 22 + v.getUint16(p + 20, true) === b.length) {
      eocd = p;
      break;
    }
  }
  if (eocd < 0) throw new ZipError('not a ZIP file (no end of central directory)');
  const count = v.getUint16(eocd + 10, true);
  const cdSize = v.getUint32(eocd + 12, true);
  const cdOff = v.getUint32(eocd + 16, true);
  if (v.getUint16(eocd + 4, true) !== 0 || v.getUint16(eocd + 6, true) !== 0 || v.getUint16(eocd + 8, true) !== count) throw new ZipError('a multi-disk ZIP');
  if (count === 0xffff || cdOff === 0xffffffff) throw new ZipError('a ZIP64 archive (an export never is one)');
  if (count > MAX_ENTRIES) throw new ZipError(`${count} entries, more than ${MAX_ENTRIES}`);
  if (cdOff + cdSize > eocd) throw new ZipError('the central directory lies outside the file');
  const entries: Entry[] = [];
  let p = cdOff;
  let total = 0;
  const nameOf = (start: number, len: number) => {
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(b.subarray(start, start + len));
    } catch {
      throw new ZipError('an entry name is not UTF-8');
    }
  };
  for (let k = 0; k < count; k++) {
    if (p + 46 > cdOff + cdSize || v.getUint32(p, true) !== 0x02014b50) throw new ZipError('a damaged central directory');
    const flags = v.getUint16(p + 8, true);
    const method = v.getUint16(p + 10, true);
    const crc = v.getUint32(p + 16, true);
    const csize = v.getUint32(p + 20, true);
    const usize = v.getUint32(p + 24, true);
    const n = v.getUint16(p + 28, true);
    const m = v.getUint16(p + 30, true);
    const c = v.getUint16(p + 32, true);
    const offset = v.getUint32(p + 42, true);
    const name = nameOf(p + 46, n);
    if (flags & 1) throw new ZipError(`${name}: encrypted`);
    if (method !== 0 && method !== 8) throw new ZipError(`${name}: compression method ${method}`);
    if (csize === 0xffffffff || usize === 0xffffffff || offset === 0xffffffff) throw new ZipError(`${name}: ZIP64 sizes`);
    if (usize > MAX_ENTRY_BYTES) throw new ZipError(`${name}: ${usize} bytes unpacked, more than the ${MAX_ENTRY_BYTES} an entry may have`);
    total += usize;
    if (total > MAX_TOTAL_BYTES) throw new ZipError(`more than ${MAX_TOTAL_BYTES} bytes unpacked in all (a zip bomb?)`);
    if (offset + 30 > cdOff || v.getUint32(offset, true) !== 0x04034b50) throw new ZipError(`${name}: no local header where the central directory says`);
    const ln = v.getUint16(offset + 26, true);
    const lm = v.getUint16(offset + 28, true);
    if (nameOf(offset + 30, ln) !== name) throw new ZipError(`${name}: the local header names another file`);
    const dataStart = offset + 30 + ln + lm;
    if (dataStart + csize > cdOff) throw new ZipError(`${name}: its data runs past the central directory`);
    entries.push({ name, method, crc, csize, usize, offset, dataStart });
    p += 46 + n + m + c;
  }
  const byOffset = [...entries].sort((a, b2) => a.offset - b2.offset);
  for (let k = 1; k < byOffset.length; k++) {
    const prev = byOffset[k - 1]!;
    if (byOffset[k]!.offset < prev.dataStart + prev.csize) throw new ZipError(`${byOffset[k]!.name}: overlaps ${prev.name} (a zip bomb?)`);
  }
  return entries;
}

function inflate(b: Uint8Array, e: Entry): Uint8Array {
  const data = b.subarray(e.dataStart, e.dataStart + e.csize);
  let out: Uint8Array;
  if (e.method === 0) out = data;
  else {
    try {
      // Bounded by the declared size, itself capped: a stream that inflates past it is cut off, not buffered.
      out = new Uint8Array(inflateRawSync(data, { maxOutputLength: Math.max(1, e.usize) }));
    } catch {
      throw new ZipError(`${e.name}: its compressed data is damaged or larger than declared`);
    }
  }
  if (out.length !== e.usize) throw new ZipError(`${e.name}: ${out.length} bytes, not the ${e.usize} declared`);
  if (crc32(out) >>> 0 !== e.crc) throw new ZipError(`${e.name}: the ZIP's CRC-32 does not match`);
  return out;
}

const SUM_LINE = /^([0-9a-f]{64}) {2}(.+)$/;

/** Checks a ZIP from exportThread: every file's hash, no file unlisted or missing, the signature, and (with a
 * fingerprint) that the directory inside is signed under that root and lists the signing key. The caller has
 * run initCrypto (crypto/node.ts). */
export function verifyExport(zip: Uint8Array, fingerprint?: string, now = new Date()): ExportCheck {
  const fails: string[] = [];
  const oks: string[] = [];
  const done = (signer?: string): ExportCheck => ({ ok: fails.length === 0, lines: [...fails.map((l) => `FAIL ${l}`), ...oks.map((l) => `ok   ${l}`)], ...(signer ? { signer } : {}) });
  let entries: Entry[];
  try {
    entries = readZip(zip);
  } catch (err) {
    fails.push(err instanceof ZipError ? err.message : `not a readable ZIP (${(err as Error).message})`);
    return done();
  }
  const contents = new Map<string, Uint8Array>();
  const folded = new Map<string, string>();
  for (const e of entries) {
    if (e.name.endsWith('/') && e.usize === 0) {
      // A folder entry, as other zip tools add. Threat: "../../x/" or "/etc/x/" created by the unzip tool while
      // the signed export still said PASS: held to the same path rules as a file.
      const folderProblem = zipPathProblem(e.name.slice(0, -1));
      if (folderProblem) fails.push(`${JSON.stringify(e.name)}: ${folderProblem}`);
      continue;
    }
    const problem = zipPathProblem(e.name);
    if (problem) {
      fails.push(`${JSON.stringify(e.name)}: ${problem}`);
      continue;
    }
    if (contents.has(e.name)) {
      fails.push(`${e.name}: in the ZIP twice (which one an unzip tool keeps is its choice)`);
      continue;
    }
    // Threat: two names one file system takes for one (case-insensitive, or not normalising Unicode alike).
    const key = e.name.normalize('NFC').toLowerCase();
    const other = folded.get(key);
    if (other !== undefined) {
      fails.push(`${e.name}: the same file as ${other} on a case-insensitive file system`);
      continue;
    }
    folded.set(key, e.name);
    try {
      contents.set(e.name, inflate(zip, e));
    } catch (err) {
      fails.push(err instanceof ZipError ? err.message : `${e.name}: ${(err as Error).message}`);
    }
  }
  const sums = contents.get(SUMS_FILE);
  if (!sums) {
    fails.push(`${SUMS_FILE}: missing`);
    return done();
  }
  // Hashes.
  const listed = new Map<string, string>();
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(sums);
  } catch {
    fails.push(`${SUMS_FILE}: not UTF-8`);
    return done();
  }
  const lines = text.split('\n');
  if (lines.pop() !== '') fails.push(`${SUMS_FILE}: does not end with a line break`);
  lines.forEach((line, k) => {
    const m = SUM_LINE.exec(line);
    if (!m) return void fails.push(`${SUMS_FILE} line ${k + 1}: not "<sha256>  <path>"`);
    const path = m[2]!;
    const problem = zipPathProblem(path);
    if (problem) return void fails.push(`${SUMS_FILE} line ${k + 1}: ${JSON.stringify(path)} has ${problem}`);
    if (path === SUMS_FILE || path === SIG_FILE) return void fails.push(`${SUMS_FILE} line ${k + 1}: lists ${path}`);
    if (listed.has(path)) return void fails.push(`${SUMS_FILE} line ${k + 1}: lists ${path} twice`);
    listed.set(path, m[1]!);
  });
  let matched = 0;
  for (const [path, hash] of listed) {
    const bytes = contents.get(path);
    if (!bytes) fails.push(`${path}: listed in ${SUMS_FILE} but missing from the ZIP`);
    else if (sha256(bytes) !== hash) fails.push(`${path}: its SHA-256 does not match ${SUMS_FILE} (the file was changed)`);
    else matched++;
  }
  for (const path of contents.keys()) {
    if (path !== SUMS_FILE && path !== SIG_FILE && !listed.has(path)) fails.push(`${path}: in the ZIP but not listed in ${SUMS_FILE} (added)`);
  }
  if (matched === listed.size && listed.size > 0) oks.push(`${matched} files match their SHA-256 in ${SUMS_FILE}`);
  // The signature.
  const sigBytes = contents.get(SIG_FILE);
  let sig: ExportSignature | undefined;
  if (!sigBytes) fails.push(`${SIG_FILE}: missing`);
  else {
    try {
      sig = verifyExportSignature(utf8Decode(sigBytes), sums);
      oks.push(`${SIG_FILE}: ${SUMS_FILE} signed by the key ${sig.sign_key} as desk "${sig.desk}", exported ${sig.exported_at}`);
    } catch (err) {
      fails.push(`${SIG_FILE}: ${(err as Error).message}`);
    }
  }
  // Whose key: the directory, under the root the verifier trusts.
  if (fingerprint === undefined) {
    oks.push('directory.json: not checked (no --fingerprint): the signature shows only that whoever holds that key signed');
  } else if (sig) {
    checkDirectory(contents.get('directory.json'), fingerprint, sig, now, fails, oks);
  } else {
    fails.push('directory.json: not checked, as the signature does not verify');
  }
  return done(sig && fails.length === 0 ? sig.desk : undefined);
}

function checkDirectory(bytes: Uint8Array | undefined, fingerprint: string, sig: ExportSignature, now: Date, fails: string[], oks: string[]): void {
  if (!bytes) return void fails.push('directory.json: missing');
  let doc: unknown;
  try {
    doc = JSON.parse(utf8Decode(bytes));
  } catch {
    return void fails.push('directory.json: not JSON');
  }
  let fp: string;
  try {
    fp = normalizeFingerprint(fingerprint);
  } catch (err) {
    return void fails.push(`--fingerprint: ${(err as Error).message}`);
  }
  const at = new Date(sig.exported_at);
  let dir;
  try {
    // As of the export: a directory lives a week, so by the time a court reads the export it has expired.
    dir = verifyDirectoryChain(doc, fp, at).directory;
  } catch (err) {
    return void fails.push(`directory.json: does not verify under the root ${displayFingerprint(fp)} as of the export time ${sig.exported_at}: ${(err as Error).message}`);
  }
  let still = 'and still valid now';
  try {
    verifyDirectoryChain(doc, fp, now);
  } catch {
    still = `valid then (issued ${dir.issued}, expires ${dir.expires}), expired since`;
  }
  oks.push(`directory.json: serial ${dir.serial}, signed under the root ${displayFingerprint(fp)}, valid at the export time ${sig.exported_at}, ${still}`);
  const r = findSigner(dir, sig.sign_key, at);
  if (!r) return void fails.push(`directory.json: does not list the signing key ${sig.sign_key} as valid at ${sig.exported_at}`);
  if (r.role !== 'desk') return void fails.push(`directory.json: lists the signing key as ${r.role} "${r.name}", not a desk`);
  if (r.name !== sig.desk) return void fails.push(`directory.json: lists the signing key as desk "${r.name}", but the signature names "${sig.desk}"`);
  oks.push(`directory.json: lists the signing key as desk "${r.name}" at the export time`);
}
