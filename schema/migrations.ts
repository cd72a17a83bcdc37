// One set of migrations for PGlite and PostgreSQL, kept in code so the built CLI needs no migration folder.
import { Kysely, sql } from 'kysely';
import { Migrator, type Migration, type MigrationProvider } from 'kysely';

const migrations: Record<string, Migration> = {
  '0001_core': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('tips')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('size', 'bigint', (c) => c.notNull())
        .addColumn('chunk_size', 'integer', (c) => c.notNull())
        .addColumn('chunk_count', 'integer', (c) => c.notNull())
        .addColumn('received_day', 'date', (c) => c.notNull())
        .addColumn('expires_day', 'date', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('tips_expires_day').on('tips').column('expires_day').execute();
      await db.schema
        .createTable('uploads')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('size', 'bigint', (c) => c.notNull())
        .addColumn('chunk_size', 'integer', (c) => c.notNull())
        .addColumn('chunk_count', 'integer', (c) => c.notNull())
        .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('blob_chunks')
        .addColumn('blob_id', 'text', (c) => c.notNull())
        .addColumn('idx', 'integer', (c) => c.notNull())
        .addColumn('data', 'bytea', (c) => c.notNull())
        .addPrimaryKeyConstraint('blob_chunks_pk', ['blob_id', 'idx'])
        .execute();
      await db.schema
        .createTable('pow_redeemed')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('staff_nonces')
        .addColumn('nonce', 'text', (c) => c.primaryKey())
        .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('documents')
        .addColumn('kind', 'text', (c) => c.primaryKey())
        .addColumn('body', 'text', (c) => c.notNull())
        .addColumn('published_day', 'date', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('audit_log')
        .addColumn('seq', 'bigint', (c) => c.primaryKey())
        .addColumn('day', 'date', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('detail', 'text', (c) => c.notNull())
        .addColumn('prev_hash', 'text', (c) => c.notNull())
        .addColumn('hash', 'text', (c) => c.notNull().unique())
        .execute();
      await db.schema
        .createTable('server_secrets')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('value', 'bytea', (c) => c.notNull())
        .execute();
      // Large chunks are incompressible ciphertext: skip TOAST compression work.
      await sql`alter table blob_chunks alter column data set storage external`.execute(db);
    },
  },
  // Issue 7: quotas charged on bytes received, an idle expiry, a tip id that is not the upload id.
  '0002_uploads_flood': {
    async up(db: Kysely<any>) {
      // The tip id an upload will become, drawn at open and kept only here: its chunks are keyed by it.
      await db.schema.alterTable('uploads').addColumn('blob_id', 'text').execute();
      await sql`update uploads set blob_id = id`.execute(db);
      await sql`alter table uploads alter column blob_id set not null`.execute(db);
      await db.schema.createIndex('uploads_blob_id').on('uploads').column('blob_id').unique().execute();
      // Bytes stored so far (what the upload is charged) and the overall cap on its life (idle expiry extends to it).
      await db.schema.alterTable('uploads').addColumn('received_bytes', 'bigint', (c) => c.notNull().defaultTo(0)).execute();
      await db.schema.alterTable('uploads').addColumn('hard_expires_at', 'timestamptz').execute();
      await sql`update uploads set hard_expires_at = expires_at`.execute(db);
      await sql`alter table uploads alter column hard_expires_at set not null`.execute(db);
      await sql`update uploads set received_bytes = coalesce((select sum(length(data)) from blob_chunks where blob_id = uploads.id), 0)`.execute(db);
      // A finished upload's id answers with its receipt until the upload would have expired, then never again.
      await db.schema
        .createTable('upload_receipts')
        .addColumn('upload_id', 'text', (c) => c.primaryKey())
        .addColumn('tip_id', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
        .execute();
      // One row: the quota counters, updated with a conditional UPDATE in the transaction that stores the bytes,
      // so the check and the charge are one step for every server instance on this database.
      await db.schema
        .createTable('upload_quota')
        .addColumn('id', 'integer', (c) => c.primaryKey().check(sql`id = 1`))
        .addColumn('pending_bytes', 'bigint', (c) => c.notNull())
        .addColumn('stored_bytes', 'bigint', (c) => c.notNull())
        .execute();
      await sql`insert into upload_quota (id, pending_bytes, stored_bytes) values (1,
        (select coalesce(sum(received_bytes), 0) from uploads), (select coalesce(sum(size), 0) from tips))`.execute(db);
    },
  },
  // Issue 8: replies a source finds by tag, with nothing that joins them to a tip, a source or each other.
  '0003_replies': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('replies')
        .addColumn('tag', 'bytea', (c) => c.primaryKey())
        .addColumn('delete_hash', 'bytea', (c) => c.notNull())
        .addColumn('envelope', 'bytea', (c) => c.notNull())
        .addColumn('posted_day', 'date', (c) => c.notNull())
        .addColumn('expires_day', 'date', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('replies_expires_day').on('replies').column('expires_day').execute();
      await sql`alter table replies alter column envelope set storage external`.execute(db);
    },
  },
  // Issue 10: the desks' shared notes, opaque to the server, joined to nothing.
  '0004_desk_notes': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('desk_notes')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('envelope', 'bytea', (c) => c.notNull())
        .addColumn('posted_day', 'date', (c) => c.notNull())
        .addColumn('expires_day', 'date', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('desk_notes_expires_day').on('desk_notes').column('expires_day').execute();
      // Ciphertext: nothing for TOAST compression to win.
      await sql`alter table desk_notes alter column envelope set storage external`.execute(db);
    },
  },
};

class CodeMigrations implements MigrationProvider {
  async getMigrations() {
    return migrations;
  }
}

export async function migrateToLatest(db: Kysely<any>): Promise<void> {
  const migrator = new Migrator({ db, provider: new CodeMigrations() });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error || failed) {
    throw new Error(`database migration failed${failed ? ` at ${failed.migrationName}` : ''}: ${String((error as Error)?.message ?? error)}`);
  }
}
