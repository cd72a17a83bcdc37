// The databases every storage test runs against: PGlite always, and the real PostgreSQL when reachable.
// With CI=true an unreachable PostgreSQL is a failure, not a skip.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
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

export async function dialects(): Promise<Dialect[]> {
  const unreachable = await postgresReachable();
  if (unreachable && IN_CI) throw new Error(`CI=true but ${unreachable}`);
  return [
    {
      name: 'pglite',
      async open() {
        const dir = mkdtempSync(join(tmpdir(), 'tipline-pglite-'));
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
