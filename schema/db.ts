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

/** Uploads in progress: transient (minutes while idle, hours at most), so expiries are kept to expire them on
 * time, rounded (five minutes; the overall cap to the hour). */
export interface UploadsTable {
  id: string;
  /** The tip id this upload becomes: random, drawn at open, never derived from the upload id. */
  blob_id: string;
  size: Int8;
  chunk_size: number;
  chunk_count: number;
  /** Bytes of chunks stored so far: what the upload is charged against the in-progress quota. */
  received_bytes: ColumnType<string | number | bigint, number | undefined, number>;
  /** Idle expiry: pushed forward as chunks arrive, never past hard_expires_at. */
  expires_at: Instant;
  hard_expires_at: Instant;
}

/** A finished upload's id -> its tip, only until the upload would have expired (a source whose answer was lost
 * finishes again and gets its receipt); then deleted, and the upload id answers like one never seen. */
export interface UploadReceiptsTable {
  upload_id: string;
  tip_id: string;
  expires_at: Instant;
}

/** The quota counters (one row, id 1): bytes received by unfinished uploads, bytes of stored tips. */
export interface UploadQuotaTable {
  id: number;
  pending_bytes: Int8;
  stored_bytes: Int8;
}

/** Envelope bytes of uploads and tips, keyed by the upload's blob id, which becomes the tip id on finish. */
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

/** Replies from desks to sources. Nothing here says which tip, source or desk a reply is for or from, and no
 * column is shared by two replies: the tag is random-looking and different for every reply. */
export interface RepliesTable {
  tag: Uint8Array; // 16 bytes (crypto/reply-tags.ts)
  delete_hash: Uint8Array; // 32 bytes: BLAKE2b of the token inside the reply
  envelope: Uint8Array; // REPLY_ENVELOPE_LENGTH bytes, sealed to the source's reply key
  posted_day: Day;
  expires_day: Day;
}

/** Shared desk notes (PROTOCOL.md §Desk notes): envelopes sealed on a desk's machine to every desk key. Nothing
 * here links a note to a tip, a thread, a desk or another note; the expiry is the one the desk asked for (its
 * thread's newest tip's), so a note goes with the tip it is about. */
export interface NotesTable {
  id: string; // random 128-bit id, base32, drawn by the server
  envelope: Uint8Array; // at most MAX_NOTE_ENVELOPE_BYTES, already Padmé-padded by the desk
  posted_day: Day;
  expires_day: Day;
}

export interface Database {
  replies: RepliesTable;
  desk_notes: NotesTable;
  tips: TipsTable;
  uploads: UploadsTable;
  blob_chunks: BlobChunksTable;
  upload_receipts: UploadReceiptsTable;
  upload_quota: UploadQuotaTable;
  pow_redeemed: PowRedeemedTable;
  staff_nonces: StaffNoncesTable;
  documents: DocumentsTable;
  audit_log: AuditLogTable;
  server_secrets: ServerSecretsTable;
}

/** Every column the server may store, by table: the privacy test checks the live schema against this. */
export const STORED_COLUMNS: Record<keyof Database, readonly string[]> = {
  replies: ['tag', 'delete_hash', 'envelope', 'posted_day', 'expires_day'],
  desk_notes: ['id', 'envelope', 'posted_day', 'expires_day'],
  tips: ['id', 'size', 'chunk_size', 'chunk_count', 'received_day', 'expires_day'],
  uploads: ['id', 'size', 'chunk_size', 'chunk_count', 'expires_at', 'blob_id', 'received_bytes', 'hard_expires_at'],
  blob_chunks: ['blob_id', 'idx', 'data'],
  upload_receipts: ['upload_id', 'tip_id', 'expires_at'],
  upload_quota: ['id', 'pending_bytes', 'stored_bytes'],
  pow_redeemed: ['id', 'expires_at'],
  staff_nonces: ['nonce', 'expires_at'],
  documents: ['kind', 'body', 'published_day'],
  audit_log: ['seq', 'day', 'kind', 'detail', 'prev_hash', 'hash'],
  server_secrets: ['name', 'value'],
};
