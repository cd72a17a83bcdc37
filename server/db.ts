// Opens the database: PostgreSQL when a URL is given (production), otherwise embedded PGlite in a folder.
import { mkdirSync } from 'node:fs';
import { Kysely, PostgresDialect } from 'kysely';
import { PGliteDialect } from './pglite-dialect.js';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import type { Database } from '../schema/db.js';
import { migrateToLatest } from '../schema/migrations.js';
import { PGLITE_WAL_SETTINGS, ownerOnly, pgliteWalPass, type WalPass } from './wal.js';

// pg parses `date` into a local-midnight Date; keep the calendar day as text so no time zone creeps in.
pg.types.setTypeParser(1082, (v: string) => v);

const BYTEA = 17;

export interface OpenedDatabase {
  db: Kysely<Database>;
  kind: 'pglite' | 'postgres';
  /** Makes what was committed survive a power loss: PostgreSQL already has; PGlite's file layer never
   * calls fsync (Emscripten's NODEFS has none), so its WAL files are synced here. */
  sync(): Promise<void>;
  /** Switches and checkpoints PGlite's WAL so no old segment keeps commit times (server/wal.ts), and makes its
   * files owner-only. PostgreSQL: nothing (deploy/tipline-wal-switch.timer does it as the database's owner). */
  walPass: WalPass;
  close(): Promise<void>;
}

async function fsyncFolder(dir: string): Promise<void> {
  const { open, readdir } = await import('node:fs/promises');
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const fh = await open(`${dir}/${entry.name}`, 'r+');
    try {
      await fh.datasync();
    } finally {
      await fh.close();
    }
  }
  const dh = await open(dir, 'r');
  try {
    await dh.sync();
  } finally {
    await dh.close();
  }
}

export async function openDatabase(opts: { url?: string | undefined; dataDir?: string | undefined }): Promise<OpenedDatabase> {
  let db: Kysely<Database>;
  let kind: OpenedDatabase['kind'];
  if (opts.url) {
    // Bounded waits: a database that does not answer (a network split, a stopped host) makes a request fail
    // with a 503 after 10 s (server/errors.ts), not hang until the client gives up; keepAlive finds dead peers.
    const pool = new pg.Pool({ connectionString: opts.url, max: 10, connectionTimeoutMillis: 10_000, keepAlive: true });
    // An idle connection closed by the database (restart, failover, admin) emits 'error' on the pool; unheard,
    // that would crash the server. The pool replaces the connection on next use.
    pool.on('error', () => {});
    // The same while a request holds the connection between two queries: the pool listens only to idle ones.
    // The client is left unusable, its next query fails (a 503), and the pool drops it when it is released.
    pool.on('connect', (client) => client.on('error', () => {}));
    db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    kind = 'postgres';
  } else {
    if (opts.dataDir) mkdirSync(opts.dataDir, { recursive: true, mode: 0o700 });
    // PGlite starts with fsync off (-F); an acknowledged tip must survive a crash, so turn it back on.
    // Old WAL segments are deleted, never recycled with their commit times inside (server/wal.ts).
    const startParams = [...PGlite.defaultStartParams.filter((p) => p !== '-F'), ...PGLITE_WAL_SETTINGS];
    const pglite = new PGlite(opts.dataDir, {
      startParams,
      // PGlite's own bytea conversion builds a string per byte (about 5 MB/s for chunk uploads); Buffer's hex
      // codec is native and gives the same text.
      serializers: { [BYTEA]: (v: Uint8Array) => `\\x${Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex')}` },
      parsers: { [BYTEA]: (s: string) => new Uint8Array(Buffer.from(s.slice(2), 'hex')) },
    });
    await pglite.waitReady;
    db = new Kysely<Database>({ dialect: new PGliteDialect({ pglite }) });
    kind = 'pglite';
  }
  try {
    await migrateToLatest(db);
  } catch (err) {
    await db.destroy();
    throw err;
  }
  const walDir = kind === 'pglite' && opts.dataDir ? `${opts.dataDir}/pg_wal` : undefined;
  if (kind === 'postgres') return { db, kind, sync: async () => {}, walPass: async () => false, close: () => db.destroy() };
  const walPass = pgliteWalPass(db, opts.dataDir);
  try {
    if (opts.dataDir) await ownerOnly(opts.dataDir);
  } catch (err) {
    await db.destroy();
    throw err;
  }
  return {
    db,
    kind,
    sync: walDir ? () => fsyncFolder(walDir) : async () => {},
    walPass,
    async close() {
      // The last records of this run, too; a closing database that cannot switch still closes.
      await walPass().catch(() => false);
      await db.destroy();
    },
  };
}
