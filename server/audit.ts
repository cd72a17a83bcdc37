// The audit log: an append-only hash chain of purges, staff deletions and document changes. Each entry's hash
// covers the previous one, so removing or editing an entry breaks every later one (tamper evidence). The chain
// format is crypto/audit-chain.ts (PROTOCOL.md §Audit chain): its genesis is bound to the tip line's root key,
// so a chain cannot be moved from one tip line to another. This file only stores and reads it.
import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database } from '../schema/db.js';
import { genesisHead, nextEntry, type AuditEntry } from '../crypto/audit-chain.js';
import { documentFingerprint, type SignedDocument } from '../crypto/signed.js';
// Any constant: serialises appenders across connections and server instances.
const AUDIT_LOCK = 7_106_101;

export type AuditRow = AuditEntry;

/** The root the chain is bound to: the published directory's. Nothing that is audited (a tip, a staff request,
 * a directory) can exist before a directory is published: uploads are refused until then. */
async function chainRoot(trx: Transaction<Database>): Promise<string> {
  const row = await trx.selectFrom('documents').select('body').where('kind', '=', 'directory').executeTakeFirst();
  if (!row) throw new Error('the audit chain starts with the first published directory, and there is none');
  return documentFingerprint(JSON.parse(row.body) as SignedDocument);
}

export async function appendAudit(
  trx: Transaction<Database>,
  day: string,
  kind: string,
  detail: Record<string, string | number | boolean>,
): Promise<AuditRow> {
  await sql`select pg_advisory_xact_lock(${AUDIT_LOCK})`.execute(trx);
  const last = await trx.selectFrom('audit_log').select(['seq', 'hash']).orderBy('seq', 'desc').limit(1).executeTakeFirst();
  const head = last ? { seq: Number(last.seq), hash: last.hash } : genesisHead(await chainRoot(trx));
  const row = nextEntry(head, day, kind, detail);
  await trx.insertInto('audit_log').values(row).execute();
  return row;
}

export async function readAudit(db: Kysely<Database>): Promise<AuditRow[]> {
  const rows = await db
    .selectFrom('audit_log')
    .select(['seq', 'kind', 'detail', 'prev_hash', 'hash', sql<string>`day::text`.as('day')])
    .orderBy('seq')
    .execute();
  return rows.map((r) => ({ ...r, seq: Number(r.seq) }));
}
