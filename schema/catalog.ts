// What the database actually holds, read from its catalog the same way by the server (which refuses to start
// when it differs from the signed policy) and by `tipline audit` (which fails): one query, so the two cannot
// disagree about what counts as "stored".
import { DEFAULT_MIGRATION_LOCK_TABLE, DEFAULT_MIGRATION_TABLE } from 'kysely';

/** Migration bookkeeping (schema/migrations.ts runs kysely's Migrator): the schema's version, never data. */
export const BOOKKEEPING_TABLES: readonly string[] = [DEFAULT_MIGRATION_TABLE, DEFAULT_MIGRATION_LOCK_TABLE];

/**
 * Every relation that holds rows (tables, partitions, materialised views, foreign tables) and its columns, in
 * every schema but the system's: a copy of the tips in a schema of its own is as much "stored" as a column in
 * public. Rows: {schema, rel, col} (col null for a relation without columns). The same on PGlite and PostgreSQL.
 */
export const STORED_RELATIONS_SQL = `
    select n.nspname as schema, c.relname as rel, a.attname as col
      from pg_catalog.pg_class c
      join pg_catalog.pg_namespace n on n.oid = c.relnamespace
      left join pg_catalog.pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
     where c.relkind in ('r', 'p', 'm', 'f')
       and n.nspname not in ('pg_catalog', 'information_schema')
       and n.nspname not like 'pg\\_toast%' and n.nspname not like 'pg\\_temp%'
     order by 1, 2, a.attnum`;

/** The query's rows as {table: [columns]}: tables outside public named schema.table, bookkeeping left out. */
export function storedFromCatalog(rows: readonly Record<string, unknown>[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const r of rows) {
    const schema = String(r.schema);
    const rel = String(r.rel);
    if (schema === 'public' && BOOKKEEPING_TABLES.includes(rel)) continue;
    const cols = (out[schema === 'public' ? rel : `${schema}.${rel}`] ??= []);
    if (r.col !== null && r.col !== undefined) cols.push(String(r.col));
  }
  return out;
}
