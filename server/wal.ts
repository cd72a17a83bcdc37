// Embedded PGlite's write-ahead log, kept short. Every commit record in the WAL carries the commit time to the
// microsecond, next to the bytes of the rows written (a tip's id among them): left alone, PGlite never switches
// its WAL, and one 16 MB segment holds weeks of exact arrival times. Threat: a seized or copied data folder
// telling when each tip arrived, finer than the UTC day the tables keep (invariant 2).
//
// A pass closes the current segment (pg_switch_wal) and checkpoints, after which PostgreSQL deletes every older
// segment; PGlite is started with wal_recycle=off (server/db.ts), so they are unlinked, not renamed for reuse
// with their old records inside, and new segments are zero-filled (wal_init_zero, the default). A pass on a
// database that wrote nothing since the last one does nothing, so a quiet server does not churn its disk.
//
// Unlinked is not erased: the blocks keep the records until the file system reuses them. So before the switch
// the pass hard-links the segments it is about to retire into a side folder, and once PostgreSQL has deleted
// its names, overwrites them with zeros in place and unlinks them. Only a file nobody else links is zeroed: a
// segment PostgreSQL still holds (a crash between the two steps, a checkpoint that kept it) is only unlinked
// from the side folder, never touched, so crash recovery never meets a zeroed segment it needs.
//
// PostgreSQL in production is configured for the same by deploy/postgresql.conf and the hourly
// deploy/tipline-wal-switch.timer (SECURITY.md §Write-ahead log).
import { chmod, link, lstat, mkdir, open, readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { sql, type Kysely } from 'kysely';
import type { Database } from '../schema/db.js';

/** PGlite's settings for the above (postgres -c name=value). */
export const PGLITE_WAL_SETTINGS = ['-c', 'wal_recycle=off', '-c', 'wal_init_zero=on'] as const;

/** One WAL pass; true when it switched, false when nothing had been written since the last one. */
export type WalPass = () => Promise<boolean>;

export function pgliteWalPass(db: Kysely<Database>, dataDir: string | undefined): WalPass {
  // The insert position right after our last pass: unchanged means nothing was written since.
  let settled: string | undefined;
  return async () => {
    // One connection turn for the whole pass (server/pglite-dialect.ts queues every other query behind it), so
    // no commit slips in between the switch and the position it is compared with next time.
    const switched = await db.connection().execute(async (c) => {
      const lsn = async () => (await sql<{ lsn: string }>`select pg_current_wal_insert_lsn()::text as lsn`.execute(c)).rows[0]!.lsn;
      if ((await lsn()) === settled) return false;
      if (dataDir) {
        const current = (await sql<{ name: string }>`select pg_walfile_name(pg_current_wal_insert_lsn()) as name`.execute(c)).rows[0]!.name;
        await keepForShredding(dataDir, current);
      }
      await sql`select pg_switch_wal()`.execute(c);
      await sql`checkpoint`.execute(c);
      settled = await lsn();
      return true;
    });
    if (dataDir) {
      // Outside the turn: zeroing 16 MB must not hold up the next tip.
      await shredRetired(dataDir);
      // The new segment, and any file PGlite made since the last pass, for this account only.
      if (switched) await ownerOnly(dataDir);
    }
    return switched;
  };
}

/** Inside the data folder, so on the same file system as pg_wal (a hard link cannot cross one). */
const SHRED_DIR = 'tipline_wal_retired';
const SEGMENT = /^[0-9A-F]{24}$/;

/** Hard links to every segment up to and including `current` (the one the switch closes). */
async function keepForShredding(dataDir: string, current: string): Promise<void> {
  const side = join(dataDir, SHRED_DIR);
  await mkdir(side, { recursive: true, mode: 0o700 });
  for (const name of await readdir(join(dataDir, 'pg_wal'))) {
    if (!SEGMENT.test(name) || name > current) continue;
    await link(join(dataDir, 'pg_wal', name), join(side, name)).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST' && err.code !== 'ENOENT') throw err;
    });
  }
}

/** Zeroes and unlinks the side folder's segments that PostgreSQL no longer links; unlinks the others. */
export async function shredRetired(dataDir: string): Promise<void> {
  const side = join(dataDir, SHRED_DIR);
  const names = await readdir(side).catch(() => [] as string[]);
  const zeros = Buffer.alloc(1024 * 1024);
  for (const name of names) {
    const path = join(side, name);
    const st = await lstat(path).catch(() => undefined);
    if (st?.isFile() && st.nlink === 1) {
      const fh = await open(path, 'r+');
      try {
        for (let at = 0; at < st.size; at += zeros.length) await fh.write(zeros, 0, Math.min(zeros.length, st.size - at), at);
        await fh.datasync();
      } finally {
        await fh.close();
      }
    }
    await unlink(path).catch(() => {});
  }
}

/**
 * Files 0600 and folders 0700 under `dir`. PGlite writes the files of a new database with mode 0666 and its
 * folders 0755 whatever the umask; the data folder's own 0700 already keeps other accounts out, this keeps
 * them out of a copy made with its modes (cp -a, tar, a backup) too.
 */
export async function ownerOnly(dir: string): Promise<void> {
  const st = await lstat(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined; // removed meanwhile (a WAL segment, a temporary file)
    throw err;
  });
  if (!st || st.isSymbolicLink()) return;
  if (st.isDirectory()) {
    if ((st.mode & 0o777) !== 0o700) await chmod(dir, 0o700);
    for (const name of await readdir(dir).catch(() => [] as string[])) await ownerOnly(join(dir, name));
  } else if (st.isFile() && (st.mode & 0o077) !== 0) {
    await chmod(dir, st.mode & 0o600).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
  }
}

/** Runs `pass` now, in the background (what an earlier run left, say after a crash, goes at once without
 * holding up the start), then every `intervalMs`, one at a time; returns a function that stops it and waits for a pass in progress. */
export function scheduleWalPass(pass: WalPass, intervalMs: number, onError: (err: unknown) => void): () => Promise<void> {
  let running = Promise.resolve();
  const tick = () => {
    running = running.then(() => pass().then(() => undefined, onError));
  };
  tick();
  const timer = setInterval(tick, intervalMs);
  timer.unref();
  return () => {
    clearInterval(timer);
    return running;
  };
}
