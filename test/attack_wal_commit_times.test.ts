// Issue 7, items 7 (PGlite) and 10. PGlite's WAL was never switched: every commit record in pg_wal/ kept the
// commit time to the microsecond next to the tip's id, so a copied data folder said when each tip arrived, and
// its files were 0666. The attack here reads the data folder as whoever seized it would: before the WAL pass it
// finds the tip's id and a commit time within the second of the upload (the check can fail); after the pass,
// neither is anywhere in pg_wal/, and no commit time of that second is anywhere in the data folder.
import t from 'tap';
import { closeSync, fstatSync, mkdtempSync, openSync, readFileSync, readSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { seedPglite } from './helpers/databases.js';
import { makeEnvelope, makeNewsroom, uploadEnvelope } from './helpers/fixtures.js';
import { startServer } from './helpers/server.js';
import { openDatabase } from '../server/db.js';
import { publishDirectory } from '../server/directory.js';
import { purgeExpired } from '../server/retention.js';

/** PostgreSQL timestamps are microseconds since 2000-01-01 UTC, stored little-endian (PGlite is wasm32). */
const PG_EPOCH_US = 946_684_800_000_000n;
const toPgMicros = (ms: number) => BigInt(ms) * 1000n - PG_EPOCH_US;

function files(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...files(p));
    else if (e.isFile()) out.push(p);
  }
  return out;
}

/** Every 8-byte little-endian integer, at any offset, within [lo, hi): a commit time of that window. */
function timesWithin(buf: Buffer, lo: bigint, hi: bigint): number {
  // The top two bytes are the same across any window of a few hours: a cheap filter before reading 64 bits.
  const b7 = Number((lo >> 56n) & 0xffn);
  const b6 = Number((lo >> 48n) & 0xffn);
  let n = 0;
  for (let i = 0; i + 8 <= buf.length; i++) {
    if (buf[i + 7] !== b7 || buf[i + 6] !== b6) continue;
    const v = buf.readBigInt64LE(i);
    if (v >= lo && v < hi) n++;
  }
  return n;
}

function scan(where: string[], id: string, lo: bigint, hi: bigint): { withId: string[]; withTime: string[] } {
  const withId: string[] = [];
  const withTime: string[] = [];
  for (const f of where) {
    const b = readFileSync(f);
    if (b.includes(id)) withId.push(f);
    if (timesWithin(b, lo, hi) > 0) withTime.push(f);
  }
  return { withId, withTime };
}

t.test('after a WAL pass, no WAL file holds the tip id or its commit time; every file is owner-only', async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'tipline-wal-'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));
  const dir = join(work, 'pg');
  await seedPglite(dir); // the template's files carry PGlite's 0666/0755
  const opened = await openDatabase({ dataDir: dir });
  t.teardown(() => opened.close());

  const loose = files(dir).filter((f) => (statSync(f).mode & 0o077) !== 0);
  t.same(loose, [], 'once opened, no file under the data folder is readable by group or others');
  const looseDirs = [dir, ...readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => join(e.parentPath, e.name))].filter((d) => (statSync(d).mode & 0o777) !== 0o700);
  t.same(looseDirs, [], 'and every folder is 0700');

  t.equal(await opened.walPass(), true, 'a first pass switches (the WAL of the run that made the folder)');
  t.equal(await opened.walPass(), false, 'a pass with nothing written since the last one does nothing');

  const newsroom = makeNewsroom();
  await publishDirectory(opened.db, newsroom.doc, new Date());
  const server = await startServer({ db: opened.db, afterCommit: opened.sync });
  t.teardown(() => server.close());
  const envelope = await makeEnvelope(newsroom, 'a tip whose arrival time must not survive');
  const before = Date.now();
  const receipt = await uploadEnvelope(server.url, envelope);
  const after = Date.now();
  // The whole seconds around the upload: a commit time anywhere in them would place the tip finer than the day.
  const lo = toPgMicros(Math.floor(before / 1000) * 1000);
  const hi = toPgMicros(Math.ceil((after + 1) / 1000) * 1000);
  const walFiles = () => files(join(dir, 'pg_wal'));

  const seen = scan(walFiles(), receipt.tip_id, lo, hi);
  t.ok(seen.withId.length > 0, `before the pass the attack works: the tip id is in ${seen.withId.length} WAL file(s)`);
  t.ok(seen.withTime.length > 0, 'and so is a commit time of that second');

  // Whoever images the disk reads freed blocks too: hold the segment's inode open to see what became of its bytes.
  const held = seen.withId.map((f) => openSync(f, 'r'));
  const start = Date.now();
  t.equal(await opened.walPass(), true, 'the pass switched the WAL');
  t.comment(`WAL pass: ${Date.now() - start} ms`);
  const left = scan(walFiles(), receipt.tip_id, lo, hi);
  t.same(left.withId, [], 'after the pass no WAL file holds the tip id');
  t.same(left.withTime, [], 'nor a commit time of the second the tip arrived');
  for (const fd of held) {
    const buf = Buffer.alloc(fstatSync(fd).size);
    const n = readSync(fd, buf, 0, buf.length, 0);
    closeSync(fd);
    t.ok(n > 0 && buf.subarray(0, n).every((b) => b === 0), `the retired segment was overwritten with zeros before it was let go (${n} bytes read)`);
  }
  t.same(readdirSync(join(dir, 'tipline_wal_retired')), [], 'nothing is left waiting to be zeroed');
  const anywhere = scan(files(dir), receipt.tip_id, lo, hi);
  t.same(anywhere.withTime, [], 'no file anywhere in the data folder holds a timestamp of that second');
  t.ok(anywhere.withId.length > 0, 'the tip itself is still stored (its table), with its day only');
  t.same(
    files(dir).filter((f) => (statSync(f).mode & 0o077) !== 0),
    [],
    'the new WAL segment, and every other file, is owner-only after the pass',
  );

  // Retention deletes the tip; the pass after it leaves no WAL record of the deletion's tip id either.
  await purgeExpired(opened.db, new Date(Date.now() + 400 * 86_400_000));
  t.equal(await opened.walPass(), true);
  t.same(scan(walFiles(), receipt.tip_id, lo, hi).withId, [], 'after retention and a pass, no WAL file holds the deleted tip id');
  t.equal(await opened.walPass(), false, 'a second pass with nothing new does nothing (no 16 MB segment written for nothing)');
});

t.test('closing passes too: what the last minutes wrote does not wait in the WAL for the next start', async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'tipline-wal-close-'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));
  const dir = join(work, 'pg');
  await seedPglite(dir);
  const opened = await openDatabase({ dataDir: dir });
  const marker = 'zzwalmarkerzzabcdefghijklmn';
  await opened.db.insertInto('staff_nonces').values({ nonce: marker, expires_at: new Date(Date.now() + 60_000) }).execute();
  t.ok(files(join(dir, 'pg_wal')).some((f) => readFileSync(f).includes(marker)), 'written to the WAL');
  await opened.close();
  t.same(files(join(dir, 'pg_wal')).filter((f) => readFileSync(f).includes(marker)), [], 'gone from the WAL once closed');
});
