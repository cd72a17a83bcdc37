// The whole of what the server stores. A test compares this list with the live database, so a column added
// here without thought shows up there. Days are UTC dates ('YYYY-MM-DD'); only transient rows carry exact times.
import type { ColumnType } from 'kysely';

type Int8 = ColumnType<string | number | bigint, number, number>;
type Day = ColumnType<string | Date, string, string>;
type Instant = ColumnType<Date | string, Date, Date>;

export interface TipsTable {
  id: string; // random 128-bit id, base32
  size: Int8; // envelope bytes, already Padmé-padded by the client
  chunk_size: number;
  chunk_count: number;
  received_day: Day;
  expires_day: Day;
}

/** Uploads in progress: transient (hours), so the exact expiry is kept to expire them on time. */
export interface UploadsTable {
  id: string;
  size: Int8;
  chunk_size: number;
  chunk_count: number;
  expires_at: Instant;
}

/** Envelope bytes of uploads and tips, keyed by the upload id, which becomes the tip id on finish. */
export interface BlobChunksTable {
  blob_id: string;
  idx: number;
  data: Uint8Array;
}

export interface PowRedeemedTable {
  id: string;
  expires_at: Instant;
}

export interface StaffNoncesTable {
  nonce: string;
  expires_at: Instant;
}

/** Signed documents as published (directory; later policy, manifest, canary). */
export interface DocumentsTable {
  kind: string;
  body: string;
  published_day: Day;
}

export interface AuditLogTable {
  seq: Int8; // 1, 2, 3 … assigned under a lock so the chain has no gaps
  day: Day;
  kind: string;
  detail: string; // canonical JSON
  prev_hash: string;
  hash: string;
}

export interface ServerSecretsTable {
  name: string;
  value: Uint8Array;
}

export interface Database {
  tips: TipsTable;
  uploads: UploadsTable;
  blob_chunks: BlobChunksTable;
  pow_redeemed: PowRedeemedTable;
  staff_nonces: StaffNoncesTable;
  documents: DocumentsTable;
  audit_log: AuditLogTable;
  server_secrets: ServerSecretsTable;
}

/** Every column the server may store, by table: the privacy test checks the live schema against this. */
export const STORED_COLUMNS: Record<keyof Database, readonly string[]> = {
  tips: ['id', 'size', 'chunk_size', 'chunk_count', 'received_day', 'expires_day'],
  uploads: ['id', 'size', 'chunk_size', 'chunk_count', 'expires_at'],
  blob_chunks: ['blob_id', 'idx', 'data'],
  pow_redeemed: ['id', 'expires_at'],
  staff_nonces: ['nonce', 'expires_at'],
  documents: ['kind', 'body', 'published_day'],
  audit_log: ['seq', 'day', 'kind', 'detail', 'prev_hash', 'hash'],
  server_secrets: ['name', 'value'],
};
