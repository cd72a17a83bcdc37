// The recipient directory: which desk and auditor keys are valid, for whom, and when. Signed by the newsroom
// root key so the server cannot add a key of its own (threat: a compelled operator adding a "desk" it controls).
import { _hasExactKeys, _isPlainObject } from './_guard.js';
import { fromBase64 } from './bytes.js';
import { CryptoArgumentError, DirectoryExpiredError, DocumentFormatError } from './errors.js';
import { signDocument, verifyDocument, type SignedDocument } from './signed.js';
import type { SigningKeyPair } from './keys.js';

export type Role = 'desk' | 'auditor';

export interface Recipient {
  name: string;
  role: Role;
  box_key: string; // base64 X25519 public key
  sign_key: string; // base64 Ed25519 public key
  not_before: string; // ISO-8601 UTC
  not_after: string;
}

export interface Directory {
  v: 1;
  issued: string;
  expires: string;
  recipients: Recipient[];
}

export const DIRECTORY_TYPE = 'directory';
const MAX_RECIPIENTS = 64; // an envelope holds at most 64 stanzas
const MAX_NAME = 200;

// One spelling per instant: "2025-01-31T12:00:00Z" or with milliseconds, always Z. Offsets and date-only forms
// are refused so that string comparison elsewhere cannot disagree with time comparison.
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z$/;

function time(v: unknown, what: string, fail: (m: string) => Error): number {
  if (typeof v !== 'string' || !ISO_UTC.test(v)) throw fail(`${what} must be an ISO-8601 UTC time, e.g. 2025-01-31T12:00:00Z`);
  const t = Date.parse(v);
  // Date.parse accepts 2025-02-30; round-tripping catches impossible dates.
  if (!Number.isFinite(t) || new Date(t).toISOString().slice(0, 19) !== v.slice(0, 19)) throw fail(`${what} is not a valid time`);
  return t;
}

function key(v: unknown, what: string, fail: (m: string) => Error): void {
  let b: Uint8Array | undefined;
  try {
    b = typeof v === 'string' ? fromBase64(v) : undefined;
  } catch {
    b = undefined;
  }
  if (b?.length !== 32) throw fail(`${what} must be base64 of 32 bytes`);
}

/** Throws (via `fail`) unless `d` is exactly a valid Directory. */
function validate(d: unknown, fail: (m: string) => Error): Directory {
  if (!_isPlainObject(d) || !_hasExactKeys(d, ['v', 'issued', 'expires', 'recipients'])) {
    throw fail('directory: expected {v, issued, expires, recipients}');
  }
  if (d.v !== 1) throw fail(`directory: unsupported version ${String(d.v)}`);
  const issued = time(d.issued, 'directory: issued', fail);
  const expires = time(d.expires, 'directory: expires', fail);
  if (expires <= issued) throw fail('directory: expires must be after issued');
  if (!Array.isArray(d.recipients) || d.recipients.length > MAX_RECIPIENTS) {
    throw fail(`directory: recipients must be an array of at most ${MAX_RECIPIENTS}`);
  }
  const seen = new Set<string>();
  d.recipients.forEach((r: unknown, i: number) => {
    const at = `directory: recipients[${i}]`;
    if (!_isPlainObject(r) || !_hasExactKeys(r, ['name', 'role', 'box_key', 'sign_key', 'not_before', 'not_after'])) {
      throw fail(`${at}: expected {name, role, box_key, sign_key, not_before, not_after}`);
    }
    if (typeof r.name !== 'string' || r.name.length === 0 || r.name.length > MAX_NAME) {
      throw fail(`${at}.name must be 1..${MAX_NAME} characters`);
    }
    if (r.role !== 'desk' && r.role !== 'auditor') throw fail(`${at}.role must be desk or auditor`);
    key(r.box_key, `${at}.box_key`, fail);
    key(r.sign_key, `${at}.sign_key`, fail);
    if (time(r.not_after, `${at}.not_after`, fail) <= time(r.not_before, `${at}.not_before`, fail)) {
      throw fail(`${at}: not_after must be after not_before`);
    }
    // A key listed twice would make findSigner's answer depend on order.
    for (const k of [`box:${String(r.box_key)}`, `sign:${String(r.sign_key)}`]) {
      if (seen.has(k)) throw fail(`${at}: key listed twice`);
      seen.add(k);
    }
  });
  return d as unknown as Directory;
}

export function signDirectory(dir: Directory, root: SigningKeyPair): SignedDocument {
  validate(dir, (m) => new CryptoArgumentError(m));
  return signDocument(DIRECTORY_TYPE, dir, root);
}

export function verifyDirectory(doc: unknown, expectedFingerprint: string, now: Date): Directory {
  const t = checkNow(now);
  const dir = validate(verifyDocument(doc, expectedFingerprint, DIRECTORY_TYPE), (m) => new DocumentFormatError(m));
  // Threat: an operator replaying an old directory that still lists a rotated-out (maybe compromised) key.
  if (t > Date.parse(dir.expires)) throw new DirectoryExpiredError(dir.expires, now.toISOString());
  return dir;
}

function checkNow(now: Date): number {
  const t = now instanceof Date ? now.getTime() : NaN;
  if (!Number.isFinite(t)) throw new CryptoArgumentError('now: expected a valid Date');
  return t;
}

/** Valid from not_before (inclusive) until not_after (exclusive). */
function isActive(r: Recipient, t: number): boolean {
  return Date.parse(r.not_before) <= t && t < Date.parse(r.not_after);
}

export function activeRecipients(dir: Directory, role: Role, now: Date): Recipient[] {
  const t = checkNow(now);
  return dir.recipients.filter((r) => r.role === role && isActive(r, t));
}

/** The recipient whose Ed25519 key is `signKeyB64` and is valid at `now`; any role. */
export function findSigner(dir: Directory, signKeyB64: string, now: Date): Recipient | undefined {
  const t = checkNow(now);
  return dir.recipients.find((r) => r.sign_key === signKeyB64 && isActive(r, t));
}
