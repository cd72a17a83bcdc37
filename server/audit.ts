// The audit log: an append-only hash chain of purges, staff deletions and document changes. Each entry's hash
// covers the previous one, so removing or editing an entry breaks every later one (tamper evidence). The chain
// format is crypto/audit-chain.ts (PROTOCOL.md §Audit chain): its genesis is bound to the tip line's root key,
// so a chain cannot be moved from one tip line to another. This file only stores and reads it.
import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database } from '../schema/db.js';
import { genesisHead, nextEntry, type AuditEntry, type AuditDetail, type ChainHead } from '../crypto/audit-chain.js';
import type { SignedHead } from '../crypto/audit-head.js';
import { documentFingerprint, type SignedDocument } from '../crypto/signed.js';
import { storeSignedHead } from './audit-head.js';
// Any constant: serialises appenders across connections and server instances.
const AUDIT_LOCK = 7_106_101;

export type AuditRow = AuditEntry;

/** The root the chain is bound to: the published directory's. Nothing that is audited (a tip, a staff request,
 * a directory) can exist before a directory is published: uploads are refused until then. */
async function chainRoot(trx: Transaction<Database>): Promise<string | undefined> {
  const row = await trx.selectFrom('documents').select('body').where('kind', '=', 'directory').executeTakeFirst();
  return row ? documentFingerprint(JSON.parse(row.body) as SignedDocument) : undefined;
}

/** The chain's last entry, or its genesis; undefined when there is neither (no directory yet). Caller holds the lock. */
async function currentHead(trx: Transaction<Database>): Promise<ChainHead | undefined> {
  const last = await trx.selectFrom('audit_log').select(['seq', 'hash']).orderBy('seq', 'desc').limit(1).executeTakeFirst();
  if (last) return { seq: Number(last.seq), hash: last.hash };
  const root = await chainRoot(trx);
  return root === undefined ? undefined : genesisHead(root);
}

const lock = (trx: Transaction<Database>) => sql`select pg_advisory_xact_lock(${AUDIT_LOCK})`.execute(trx);

/** Appends an entry and signs the new head (server/audit-head.ts) in the same transaction: the published head is
 * never behind a committed entry. */
export async function appendAudit(trx: Transaction<Database>, day: string, kind: string, detail: AuditDetail): Promise<AuditRow> {
  await lock(trx);
  const head = await currentHead(trx);
  if (!head) throw new Error('the audit chain starts with the first published directory, and there is none');
  const row = nextEntry(head, day, kind, detail);
  await trx.insertInto('audit_log').values(row).execute();
  await storeSignedHead(trx, { seq: row.seq, hash: row.hash }, day);
  return row;
}

/**
 * Appends unless an entry of `kind` already has `day` (the retention pass's daily heartbeat: "the job ran" shows
 * once a day even when nothing expired). Nothing before the first directory: the chain has no genesis yet.
 */
export async function appendAuditOncePerDay(trx: Transaction<Database>, day: string, kind: string, detail: AuditDetail): Promise<AuditRow | undefined> {
  await lock(trx);
  if ((await currentHead(trx)) === undefined) return undefined;
  // The latest entry of the kind, by the primary key: not a scan of the whole log.
  const last = await trx.selectFrom('audit_log').select(sql<string>`day::text`.as('day')).where('kind', '=', kind).orderBy('seq', 'desc').limit(1).executeTakeFirst();
  if (last?.day === day) return undefined;
  return appendAudit(trx, day, kind, detail);
}

/** Signs the chain's current head for `day` (each retention pass), unless that is already the stored head.
 * Undefined while there is no chain (no directory published). */
export async function signCurrentHead(db: Kysely<Database>, day: string): Promise<SignedHead | undefined> {
  return db.transaction().execute(async (trx) => {
    await lock(trx);
    const head = await currentHead(trx);
    return head === undefined ? undefined : storeSignedHead(trx, head, day);
  });
}

/** True when some `staff-delete` entry already holds this statement nonce (a statement sent twice). Takes the
 * audit lock: call it after the transaction's row locks, as appendAudit is. */
export async function deletionNonceUsed(trx: Transaction<Database>, nonce: string): Promise<boolean> {
  await lock(trx); // held to the append: two requests carrying one statement cannot both pass
  // strpos, not LIKE: a base64url nonce may hold "_", which LIKE reads as a wildcard.
  const needle = `"nonce":${JSON.stringify(nonce)}`;
  const row = await trx.selectFrom('audit_log').select('seq').where('kind', '=', 'staff-delete').where(sql<boolean>`strpos(detail, ${needle}) > 0`).limit(1).executeTakeFirst();
  return row !== undefined;
}

export async function readAudit(db: Kysely<Database>): Promise<AuditRow[]> {
  const rows = await db
    .selectFrom('audit_log')
    .select(['seq', 'kind', 'detail', 'prev_hash', 'hash', sql<string>`day::text`.as('day')])
    .orderBy('seq')
    .execute();
  return rows.map((r) => ({ ...r, seq: Number(r.seq) }));
}
