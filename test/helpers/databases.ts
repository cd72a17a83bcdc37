// The databases every storage test runs against: PGlite always, and the real PostgreSQL when reachable.
// With CI=true an unreachable PostgreSQL is a failure, not a skip.
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import pg from 'pg';
import { openDatabase, type OpenedDatabase } from '../../server/db.js';

export const ADMIN_URL = process.env.TIPLINE_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/test';
export const IN_CI = process.env.CI === 'true';

export interface TestDatabase extends OpenedDatabase {
  /** For PostgreSQL: the URL of this test's own database. For PGlite: its data folder. */
  where: string;
  drop(): Promise<void>;
}

export interface Dialect {
  name: 'pglite' | 'postgres';
  /** Why this dialect is skipped here, or undefined when it runs. */
  skip?: string;
  open(): Promise<TestDatabase>;
}

async function postgresReachable(): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('select 1');
    return undefined;
  } catch (err) {
    return `PostgreSQL not reachable at ${ADMIN_URL} (${(err as Error).message})`;
  } finally {
    await client.end().catch(() => {});
  }
}

export async function createPgDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `tipline_t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const a = new pg.Client({ connectionString: ADMIN_URL });
      await a.connect();
      await a.query(`drop database if exists ${name} with (force)`);
      await a.end();
    },
  };
}

/**
 * A migrated, empty PGlite data folder to copy from. Creating one runs initdb: 5 s of CPU on a quiet machine,
 * 15 s on a busy one, and a full run used to create about twenty; a copy opens in about a second. Built once
 * for every test process and run (in the system's temporary folder, named by the PGlite version and the code
 * that opens and migrates a database) by whichever process needs it first, and put in place by a rename.
 * Tests that are about creating a data folder (data_folder_lock, e2e_cli) still let `tipline serve` create one.
 */
let template: Promise<string> | undefined;
export function pgliteTemplate(): Promise<string> {
  template ??= (async () => {
    const hash = createHash('sha256');
    for (const f of ['../../../node_modules/@electric-sql/pglite/package.json', '../../server/db.js', '../../schema/migrations.js']) hash.update(readFileSync(new URL(f, import.meta.url)));
    const dir = join(tmpdir(), `tipline-test-pglite-${hash.digest('hex').slice(0, 16)}`);
    const ready = () => existsSync(join(dir, 'PG_VERSION'));
    // One builder at a time (a lock folder); the others wait for it rather than all running initdb at once.
    const lock = `${dir}.lock`;
    for (const until = Date.now() + 180_000; !ready() && Date.now() < until; ) {
      try {
        mkdirSync(lock);
      } catch {
        const age = Date.now() - (statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
        if (age > 120_000) rmSync(lock, { recursive: true, force: true }); // left behind by a killed run
        await new Promise((r) => setTimeout(r, 250));
        continue;
      }
      try {
        if (ready()) break;
        const building = mkdtempSync(join(tmpdir(), 'tipline-test-pglite-building-'));
        const opened = await openDatabase({ dataDir: building });
        await opened.close();
        renameSync(building, dir);
      } finally {
        rmSync(lock, { recursive: true, force: true });
      }
    }
    if (!ready()) throw new Error(`no PGlite template at ${dir}`);
    return dir;
  })();
  return template;
}

/** Fills `dir` with a copy of the template (for `tipline serve --data PARENT`, pass PARENT/pg). */
export async function seedPglite(dir: string): Promise<void> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  cpSync(await pgliteTemplate(), dir, { recursive: true });
}

export async function dialects(): Promise<Dialect[]> {
  const unreachable = await postgresReachable();
  if (unreachable && IN_CI) throw new Error(`CI=true but ${unreachable}`);
  return [
    {
      name: 'pglite',
      async open() {
        const dir = mkdtempSync(join(tmpdir(), 'tipline-pglite-'));
        await seedPglite(dir);
        const opened = await openDatabase({ dataDir: dir });
        return { ...opened, where: dir, async drop() { await opened.close(); rmSync(dir, { recursive: true, force: true }); } };
      },
    },
    {
      name: 'postgres',
      ...(unreachable ? { skip: `${unreachable}: PostgreSQL half skipped` } : {}),
      async open() {
        const created = await createPgDatabase();
        const opened = await openDatabase({ url: created.url });
        return { ...opened, where: created.url, async drop() { await opened.close(); await created.drop(); } };
      },
    },
  ];
}
