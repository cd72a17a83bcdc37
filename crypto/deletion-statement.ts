// A desk's signed deletion statement (PROTOCOL.md §Deletion statements). `tipline delete` signs one with the
// desk's Ed25519 key and sends it in the DELETE's JSON body (covered by the staff request signature); the server
// checks it and stores it, as it is, as the `staff-delete` entry's detail in the audit chain. Threat: someone
// with write access to the database writing entries that frame a desk for deletions it never made — without the
// desk's secret key no such entry verifies. It names no tip: the chain is read by auditors and may be shown to
// others, and a tip id there would let whoever holds a source's receipt confirm that tip existed.
// Pure: no clock, no I/O; the caller supplies the day and the fresh nonce, and checks day and nonce reuse.
import { _abytes, _exactObject, _hasExactKeys, _isPlainObject } from './_guard.js';
import { _frame, _u64 } from './_frame.js';
import { fromBase64, fromBase64Url, fromHex, toBase64, toBase64Url, toHex, utf8Encode } from './bytes.js';
import { AUDIT_DAY_RE, type AuditEntry } from './audit-chain.js';
import { BadSignatureError, CryptoArgumentError, DocumentFormatError } from './errors.js';
import { sign, verify } from './keys.js';
import { sodium } from './sodium.js';

const DOMAIN = utf8Encode('tipline deletion statement v1');
const HOST_DOMAIN = utf8Encode('tipline deletion host v1');
export const DELETION_NONCE_BYTES = 16;
export const DELETION_BY_MAX = 128;
/** The audit entry kind a statement is stored under. */
export const STAFF_DELETE_KIND = 'staff-delete';
const HEX64_RE = /^[0-9a-f]{64}$/;
const NONCE_RE = /^[A-Za-z0-9_-]{22}$/;
const KEY_RE = /^[A-Za-z0-9+/]{43}=$/;
const SIG_RE = /^[A-Za-z0-9+/]{86}==$/;

/**
 * As sent and as stored (the detail of a `staff-delete` entry, canonical JSON). `host_hash` commits to the staff
 * address the desk signed for without writing that address into the chain (an auditor's report may be filed
 * where the staff onion should not be).
 */
export interface DeletionStatement {
  /** The desk's name, as the directory lists it. */
  by: string;
  /** The UTC day the desk signed it, YYYY-MM-DD. */
  day: string;
  /** hex BLAKE2b-256(frame("tipline deletion host v1", lowercase staff host)). */
  host_hash: string;
  /** base64 Ed25519 public key of the desk. */
  key: string;
  /** base64url, 16 fresh random bytes. */
  nonce: string;
  /** base64 Ed25519 signature. */
  signature: string;
  /** Always 1: one statement per deleted tip. */
  tips: 1;
}

const FIELDS = ['by', 'day', 'host_hash', 'key', 'nonce', 'signature', 'tips'];

/** The hash a statement commits to for a staff host (a URL's `host`, compared lowercase). */
export function deletionHostHash(host: string): string {
  if (typeof host !== 'string' || host.length === 0 || host.length > 261) throw new CryptoArgumentError('host: expected a URL host of 1..261 characters');
  return toHex(sodium().crypto_generichash(32, _frame(HOST_DOMAIN, utf8Encode(host.toLowerCase())), null));
}

/** frame("tipline deletion statement v1", host hash (32), by, day, nonce (16), u64 tips). */
function message(hostHash: string, by: string, day: string, nonce: Uint8Array, tips: number): Uint8Array {
  return _frame(DOMAIN, fromHex(hostHash), utf8Encode(by), utf8Encode(day), nonce, _u64('tips', tips));
}

function checkBy(by: unknown): by is string {
  // Printable, no control characters: it is shown to auditors as is.
  return typeof by === 'string' && by.length > 0 && by.length <= DELETION_BY_MAX && !/[\p{Cc}\p{Cf}]/u.test(by);
}

/** The statement a desk signs for deleting one tip at `host` on `day`. `signSecret` is libsodium's 64-byte form. */
export function signDeletionStatement(o: { host: string; by: string; day: string; nonce: Uint8Array }, signSecret: Uint8Array): DeletionStatement {
  _abytes('signSecret', signSecret, 64);
  _abytes('nonce', o.nonce, DELETION_NONCE_BYTES);
  if (!checkBy(o.by)) throw new CryptoArgumentError(`by: expected 1..${DELETION_BY_MAX} printable characters`);
  if (typeof o.day !== 'string' || !AUDIT_DAY_RE.test(o.day)) throw new CryptoArgumentError('day: expected YYYY-MM-DD');
  const host_hash = deletionHostHash(o.host);
  const signature = toBase64(sign(message(host_hash, o.by, o.day, o.nonce, 1), signSecret));
  return { by: o.by, day: o.day, host_hash, key: toBase64(signSecret.slice(32)), nonce: toBase64Url(o.nonce), signature, tips: 1 };
}

/**
 * Checks a statement's form and that it is signed by the key it names (and, when given, that this is
 * `expectedKey`). Accepts the object or its JSON text (an audit entry's detail as stored). Throws
 * DocumentFormatError or BadSignatureError; returns the statement.
 */
export function verifyDeletionStatement(s: unknown, expectedKey?: string): DeletionStatement {
  const fail = (m: string) => new DocumentFormatError(`deletion statement: ${m}`);
  const v = _exactObject(s, FIELDS, fail);
  if (v.tips !== 1) throw fail('tips must be 1');
  if (!checkBy(v.by)) throw fail(`by must be 1..${DELETION_BY_MAX} printable characters`);
  if (typeof v.day !== 'string' || !AUDIT_DAY_RE.test(v.day)) throw fail('day must be YYYY-MM-DD');
  if (typeof v.host_hash !== 'string' || !HEX64_RE.test(v.host_hash)) throw fail('host_hash must be 64 lowercase hex digits');
  if (typeof v.key !== 'string' || !KEY_RE.test(v.key)) throw fail('key must be a base64 Ed25519 public key');
  if (typeof v.nonce !== 'string' || !NONCE_RE.test(v.nonce)) throw fail('nonce must be 16 bytes in base64url');
  if (typeof v.signature !== 'string' || !SIG_RE.test(v.signature)) throw fail('signature must be a base64 Ed25519 signature');
  let key: Uint8Array, nonce: Uint8Array, sig: Uint8Array;
  try {
    key = fromBase64(v.key);
    nonce = fromBase64Url(v.nonce);
    sig = fromBase64(v.signature);
  } catch {
    throw fail('key, nonce and signature must be canonical base64');
  }
  if (expectedKey !== undefined && v.key !== expectedKey) throw new BadSignatureError('deletion statement: signed by another key than the request');
  if (!verify(sig, message(v.host_hash, v.by, v.day, nonce, 1), key)) throw new BadSignatureError('deletion statement: bad signature (not made by the key it names, or altered since)');
  return v as unknown as DeletionStatement;
}

/** For `tipline audit`: one `staff-delete` entry's detail (as stored) is a statement signed by the key it names;
 * with `staffHost`, also that it was made for that staff address. Throws like verifyDeletionStatement. */
export function verifyDeletionEntry(detail: string, staffHost?: string): DeletionStatement {
  const st = verifyDeletionStatement(detail);
  if (staffHost !== undefined && st.host_hash !== deletionHostHash(staffHost)) throw new BadSignatureError(`deletion statement: made for another staff address than ${staffHost}`);
  return st;
}

export interface DeletionProblem {
  seq: number;
  message: string;
}

/** A directory entry as far as deletions go (crypto/directory.ts Recipient has these fields). */
export interface DeletionSigner {
  name: string;
  role: string;
  sign_key: string;
}

/**
 * Every `staff-delete` entry of a chain: its statement verifies (verifyDeletionEntry), was signed on the entry's
 * day or the day before or after (a desk's clock near midnight), and its nonce appears in no other entry (a
 * statement copied into a second, forged entry). With `desks` (the directory's recipients, or every directory's
 * an auditor has kept), also that the key is a desk key listed under the name the statement gives: a statement
 * signed by a key of the forger's own is valid for that key, and only this catches it. With `staffHost`, that it
 * was made for that staff address. Returns the problems, [] when there are none.
 */
export function checkDeletionEntries(entries: readonly AuditEntry[], opts: { staffHost?: string; desks?: readonly DeletionSigner[] } = {}): DeletionProblem[] {
  const { staffHost, desks } = opts;
  const problems: DeletionProblem[] = [];
  const seen = new Map<string, number>();
  const dayNumber = (d: string) => Date.parse(`${d}T00:00:00Z`) / 86_400_000;
  for (const e of entries) {
    if (e.kind !== STAFF_DELETE_KIND) continue;
    let st: DeletionStatement;
    try {
      st = verifyDeletionEntry(e.detail, staffHost);
    } catch (err) {
      problems.push({ seq: e.seq, message: `entry ${e.seq}: ${(err as Error).message}` });
      continue;
    }
    if (desks !== undefined && !desks.some((d) => d.role === 'desk' && d.sign_key === st.key && d.name === st.by)) {
      problems.push({ seq: e.seq, message: `entry ${e.seq}: signed by a key that is not a desk key the directory lists for "${st.by}"` });
      continue;
    }
    if (Math.abs(dayNumber(st.day) - dayNumber(e.day)) > 1) problems.push({ seq: e.seq, message: `entry ${e.seq}: statement signed on ${st.day}, entry written on ${e.day}` });
    const first = seen.get(st.nonce);
    if (first !== undefined) problems.push({ seq: e.seq, message: `entry ${e.seq}: repeats the statement of entry ${first} (same nonce)` });
    else seen.set(st.nonce, e.seq);
  }
  return problems;
}
