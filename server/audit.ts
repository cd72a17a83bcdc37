// The audit log: an append-only hash chain of purges, staff deletions and document changes. Each entry's hash
// covers the previous hash, so removing or editing an entry breaks every later one (tamper evidence).
import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database } from '../schema/db.js';
import { sodium } from '../crypto/sodium.js';
import { toHex, utf8Encode } from '../crypto/bytes.js';

export const GENESIS_HASH = '0'.repeat(64);
// Any constant: serialises appenders across connections and server instances.
const AUDIT_LOCK = 7_106_101;

export interface AuditRow {
  seq: number;
  day: string;
  kind: string;
  detail: string;
  prev_hash: string;
  hash: string;
}

export function entryHash(prevHash: string, seq: number, day: string, kind: string, detail: string): string {
  const text = `tipline audit v1\n${prevHash}\n${seq}\n${day}\n${kind}\n${detail}`;
  return toHex(sodium().crypto_generichash(32, utf8Encode(text), null));
}

/** Detail is stored as JSON with sorted keys so an auditor can recompute the hash from the row alone. */
export function canonicalJson(value: Record<string, string | number | boolean>): string {
  return JSON.stringify(Object.fromEntries(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : 1))));
}

export async function appendAudit(
  trx: Transaction<Database>,
  day: string,
  kind: string,
  detail: Record<string, string | number | boolean>,
): Promise<AuditRow> {
  await sql`select pg_advisory_xact_lock(${AUDIT_LOCK})`.execute(trx);
  const last = await trx.selectFrom('audit_log').select(['seq', 'hash']).orderBy('seq', 'desc').limit(1).executeTakeFirst();
  const seq = last ? Number(last.seq) + 1 : 1;
  const prev_hash = last?.hash ?? GENESIS_HASH;
  const text = canonicalJson(detail);
  const row: AuditRow = { seq, day, kind, detail: text, prev_hash, hash: entryHash(prev_hash, seq, day, kind, text) };
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

/** Returns the first broken link, or undefined when the chain is whole. */
export function verifyChain(rows: AuditRow[]): string | undefined {
  let prev = GENESIS_HASH;
  for (const [i, r] of rows.entries()) {
    if (r.seq !== i + 1) return `entry ${r.seq}: expected sequence number ${i + 1} (an entry is missing)`;
    if (r.prev_hash !== prev) return `entry ${r.seq}: does not follow the entry before it`;
    if (entryHash(r.prev_hash, r.seq, r.day, r.kind, r.detail) !== r.hash) return `entry ${r.seq}: its hash does not match its content`;
    prev = r.hash;
  }
  return undefined;
}
