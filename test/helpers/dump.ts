// Everything the server kept: every column of every table, and (for PGlite) every byte of its data folder.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { sql, type Kysely } from 'kysely';

export async function liveColumns(db: Kysely<any>): Promise<Record<string, string[]>> {
  const rows = await sql<{ table_name: string; column_name: string }>`
    select table_name, column_name from information_schema.columns
    where table_schema = 'public' and table_name not like 'kysely_%' order by table_name, ordinal_position`.execute(db);
  const out: Record<string, string[]> = {};
  for (const r of rows.rows) (out[r.table_name] ??= []).push(r.column_name);
  return out;
}

/** All rows of all tables, every value as bytes (bytea raw, everything else as its text). */
export async function dumpDatabase(db: Kysely<any>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for (const table of Object.keys(await liveColumns(db))) {
    const rows = await sql<Record<string, unknown>>`select * from ${sql.table(table)}`.execute(db);
    for (const row of rows.rows) {
      for (const value of Object.values(row)) {
        parts.push(value instanceof Uint8Array ? Buffer.from(value) : Buffer.from(value instanceof Date ? value.toISOString() : String(value)));
        parts.push(Buffer.from('\n'));
      }
    }
  }
  return Buffer.concat(parts);
}

export function dumpFolder(dir: string): Buffer {
  const parts: Buffer[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      const st = statSync(p);
      if (st.isDirectory()) walk(p);
      else if (st.isFile()) parts.push(readFileSync(p));
    }
  };
  walk(dir);
  return Buffer.concat(parts);
}

/** The needles found in the haystack (as UTF-8 and as UTF-16LE), for a readable failure. */
export function findLeaks(haystack: Buffer, needles: string[]): string[] {
  return needles.filter((n) => haystack.includes(Buffer.from(n, 'utf8')) || haystack.includes(Buffer.from(n, 'utf16le')));
}
