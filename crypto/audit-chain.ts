// The audit chain, version 2 (PROTOCOL.md §Audit chain): purges, staff deletions and document changes as a hash
// chain. Each entry's hash covers the one before, so removing, reordering or editing an entry breaks every later
// link; the first entry follows a genesis value derived from the tip line's root fingerprint, so a chain cannot
// be moved from one tip line to another. Pure, so an auditor's tool checks the server without importing it.
import { _astring } from './_guard.js';
import { _frame, _u64 } from './_frame.js';
import { fromBase32, fromHex, toHex, utf8Encode } from './bytes.js';
import { CryptoArgumentError } from './errors.js';
import { normalizeFingerprint } from './keys.js';
import { sodium } from './sodium.js';

export const AUDIT_CHAIN_VERSION = 2;
export const AUDIT_KIND_RE = /^[a-z][a-z0-9-]{0,63}$/;
export const AUDIT_DAY_RE = /^[0-9]{4}-[0-9]{2}-[0-9]{2}$/;
/** Details are a few counts and names; anything longer (UTF-8 bytes) is refused before hashing. */
export const AUDIT_DETAIL_MAX = 4096;
const HASH_RE = /^[0-9a-f]{64}$/;

const ENTRY_DOMAIN = utf8Encode('tipline audit entry v2');
const GENESIS_DOMAIN = utf8Encode('tipline audit genesis v2');
const HEAD_DOMAIN = utf8Encode('tipline audit head v2');

/** One row of the audit log as stored and served. Hashes are lowercase hex. */
export interface AuditEntry {
  seq: number;
  day: string;
  kind: string;
  detail: string;
  prev_hash: string;
  hash: string;
}

/** The chain's last entry (or the genesis, seq 0, for an empty chain): what a later version signs. */
export interface ChainHead {
  seq: number;
  hash: string;
}

export type ChainBreakReason = 'malformed' | 'sequence' | 'link' | 'hash';

export type ChainVerdict =
  | { ok: true; head: ChainHead }
  | { ok: false; /** position in `rows` */ index: number; seq: number; reason: ChainBreakReason; message: string };

export type AuditDetail = Record<string, string | number | boolean>;

const H = (m: Uint8Array): string => toHex(sodium().crypto_generichash(32, m, null));

/** genesis = BLAKE2b-256(frame("tipline audit genesis v2", the root fingerprint's 20 bytes)), hex. */
export function genesisHash(rootFingerprint: string): string {
  return H(_frame(GENESIS_DOMAIN, fromBase32(normalizeFingerprint(rootFingerprint))));
}

export function genesisHead(rootFingerprint: string): ChainHead {
  return { seq: 0, hash: genesisHash(rootFingerprint) };
}

function fieldProblem(seq: unknown, day: unknown, kind: unknown, detail: unknown, prevHash: unknown): string | undefined {
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 1) return 'sequence number is not an integer ≥ 1';
  if (typeof day !== 'string' || !AUDIT_DAY_RE.test(day)) return 'day is not YYYY-MM-DD';
  if (typeof kind !== 'string' || !AUDIT_KIND_RE.test(kind)) return 'kind is not 1..64 of [a-z0-9-]';
  // A UTF-8 encoding is never shorter than the UTF-16 length: a huge detail is refused before it is encoded.
  if (typeof detail !== 'string' || detail.length > AUDIT_DETAIL_MAX) return `detail is not a string of at most ${AUDIT_DETAIL_MAX} bytes`;
  if (typeof prevHash !== 'string' || !HASH_RE.test(prevHash)) return 'previous hash is not 64 lowercase hex digits';
  return undefined;
}

/** BLAKE2b-256(frame("tipline audit entry v2", u64 seq, day, kind, detail, prev hash (32 bytes))), hex. */
export function entryHash(prevHash: string, seq: number, day: string, kind: string, detail: string): string {
  const problem = fieldProblem(seq, day, kind, detail, prevHash);
  if (problem) throw new CryptoArgumentError(`audit entry: ${problem}`);
  const detailBytes = utf8Encode(detail); // EncodingError on a lone surrogate
  if (detailBytes.length > AUDIT_DETAIL_MAX) throw new CryptoArgumentError(`audit entry: detail is longer than ${AUDIT_DETAIL_MAX} bytes`);
  return H(_frame(ENTRY_DOMAIN, _u64('seq', seq), utf8Encode(day), utf8Encode(kind), detailBytes, fromHex(prevHash)));
}

/**
 * Details are stored as JSON with keys sorted (by UTF-16 code unit) so an auditor can recompute a hash from the
 * row alone. Numbers must be finite: JSON would turn NaN into null and two details would read alike.
 */
export function canonicalJson(value: AuditDetail): string {
  for (const [k, v] of Object.entries(value)) {
    if (typeof v === 'number' && !Number.isFinite(v)) throw new CryptoArgumentError(`detail.${k}: not a finite number`);
    if (!['string', 'number', 'boolean'].includes(typeof v)) throw new CryptoArgumentError(`detail.${k}: expected string, number or boolean`);
  }
  return JSON.stringify(Object.fromEntries(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))));
}

/** The entry that follows `head`: what the server appends (under its lock) to extend the chain. */
export function nextEntry(head: ChainHead, day: string, kind: string, detail: AuditDetail): AuditEntry {
  const seq = head.seq + 1;
  const text = canonicalJson(detail);
  return { seq, day, kind, detail: text, prev_hash: head.hash, hash: entryHash(head.hash, seq, day, kind, text) };
}

/**
 * Walks the chain from the tip line's genesis and returns the first broken link, or the head when every link
 * holds. `rows` must be the whole log in order of `seq`, from 1.
 */
export function verifyChain(rows: readonly AuditEntry[], rootFingerprint: string): ChainVerdict {
  let head = genesisHead(rootFingerprint);
  for (const [index, r] of rows.entries()) {
    const seq = typeof r?.seq === 'number' ? r.seq : NaN;
    const problem = fieldProblem(r?.seq, r?.day, r?.kind, r?.detail, r?.prev_hash) ?? (typeof r?.hash === 'string' && HASH_RE.test(r.hash) ? undefined : 'hash is not 64 lowercase hex digits');
    if (problem) return { ok: false, index, seq, reason: 'malformed', message: `entry ${index + 1} in the log: ${problem}` };
    if (r.seq !== head.seq + 1) {
      return { ok: false, index, seq, reason: 'sequence', message: `entry ${r.seq}: expected sequence number ${head.seq + 1} (an entry is missing or out of order)` };
    }
    if (r.prev_hash !== head.hash) {
      const message = index === 0 ? `entry ${r.seq}: does not start from this tip line's genesis (another tip line's chain, or a rewritten start)` : `entry ${r.seq}: does not follow the entry before it`;
      return { ok: false, index, seq, reason: 'link', message };
    }
    let h: string;
    try {
      h = entryHash(r.prev_hash, r.seq, r.day, r.kind, r.detail);
    } catch (e) {
      // Over 4096 bytes once encoded, or a lone surrogate (not encodable): no v2 entry has such a detail.
      return { ok: false, index, seq, reason: 'malformed', message: `entry ${r.seq}: ${(e as Error).message}` };
    }
    if (h !== r.hash) return { ok: false, index, seq, reason: 'hash', message: `entry ${r.seq}: its hash does not match its content` };
    head = { seq: r.seq, hash: r.hash };
  }
  return { ok: true, head };
}

/** The bytes a later version signs for a head: frame("tipline audit head v2", u64 seq, hash (32 bytes)). */
export function headBytes(head: ChainHead): Uint8Array {
  if (typeof head?.seq !== 'number' || !Number.isSafeInteger(head.seq) || head.seq < 0) throw new CryptoArgumentError('head.seq: expected an integer ≥ 0');
  _astring('head.hash', head.hash);
  if (!HASH_RE.test(head.hash)) throw new CryptoArgumentError('head.hash: expected 64 lowercase hex digits');
  return _frame(HEAD_DOMAIN, _u64('head.seq', head.seq), fromHex(head.hash));
}
