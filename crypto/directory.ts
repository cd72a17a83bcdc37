// The recipient directory: which desk and auditor keys are valid, for whom, and when (FORMAT.md §Directory).
// Threat: a compelled operator adding a "desk" it controls; so the server holds no key that can sign one.
// The chain is root fingerprint -> certificate -> directory: the offline root certifies a directory signing key
// for a short period (at most MAX_CERTIFICATE_DAYS), and that key, on a newsroom machine, signs directories that
// live days (at most MAX_DIRECTORY_DAYS) and carry a serial that only grows, so an old one can be refused.
import { _hasExactKeys, _isPlainObject } from './_guard.js';
import { fromBase64, toBase64, toHex, utf8Decode } from './bytes.js';
import { CryptoArgumentError, DirectoryExpiredError, DirectoryRollbackError, DocumentFormatError } from './errors.js';
import { checkDisplayName } from './key-request.js';
import { signCertifiedDocument, signDocument, verifyCertifiedDocument, verifyDocument, documentPayload, type SignedDocument } from './signed.js';
import { _assertSigningPair, type SigningKeyPair } from './keys.js';
import { sodium } from './sodium.js';

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
  v: 2;
  /** Only grows: a verifier that has accepted serial n refuses anything lower (and n itself with other bytes). */
  serial: number;
  issued: string;
  expires: string;
  recipients: Recipient[];
}

/** The root's statement that `sign_key` may sign directories from `not_before` until `not_after`. */
export interface SignerCertificate {
  v: 1;
  sign_key: string; // base64 Ed25519 public key
  not_before: string;
  not_after: string;
}

export const DIRECTORY_TYPE = 'directory';
export const CERTIFICATE_TYPE = 'directory-signer';
const DAY = 86_400_000;
/** A directory lives a week by default; the page keeps no state, so a short life is its only rollback defence. */
export const DEFAULT_DIRECTORY_DAYS = 7;
export const MAX_DIRECTORY_DAYS = 31;
/** A stolen signing key signs directories until its certificate ends: at most this long after the root signed it. */
export const DEFAULT_CERTIFICATE_DAYS = 90;
export const MAX_CERTIFICATE_DAYS = 100;
/** A desk's listing outlives its key period by this much, so a rotation run a day or two late does not leave
 * the desk unlisted (sources could then not reach it, nor it sign in). */
export const KEY_GRACE_DAYS = 2;
const MAX_RECIPIENTS = 64; // an envelope holds at most 64 stanzas

// One spelling per instant: "2025-01-31T12:00:00Z" or with milliseconds, always Z. Offsets and date-only forms
// are refused so that string comparison elsewhere cannot disagree with time comparison.
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z$/;

type Fail = (m: string) => Error;

function time(v: unknown, what: string, fail: Fail): number {
  if (typeof v !== 'string' || !ISO_UTC.test(v)) throw fail(`${what} must be an ISO-8601 UTC time, e.g. 2025-01-31T12:00:00Z`);
  const t = Date.parse(v);
  // Date.parse accepts 2025-02-30; round-tripping catches impossible dates.
  if (!Number.isFinite(t) || new Date(t).toISOString().slice(0, 19) !== v.slice(0, 19)) throw fail(`${what} is not a valid time`);
  return t;
}

function key(v: unknown, what: string, fail: Fail): Uint8Array {
  let b: Uint8Array | undefined;
  try {
    b = typeof v === 'string' ? fromBase64(v) : undefined;
  } catch {
    b = undefined;
  }
  if (b?.length !== 32) throw fail(`${what} must be base64 of 32 bytes`);
  return b;
}

/** Throws (via `fail`) unless `d` is exactly a valid version 2 Directory. */
function validate(d: unknown, fail: Fail): Directory {
  if (_isPlainObject(d) && d.v === 1) throw fail(VERSION_1);
  if (!_isPlainObject(d) || !_hasExactKeys(d, ['v', 'serial', 'issued', 'expires', 'recipients'])) {
    throw fail('directory: expected {v, serial, issued, expires, recipients}');
  }
  if (d.v !== 2) throw fail(`directory: unsupported version ${String(d.v)}`);
  const issued = time(d.issued, 'directory: issued', fail);
  const expires = time(d.expires, 'directory: expires', fail);
  if (expires <= issued) throw fail('directory: expires must be after issued');
  if (expires - issued > MAX_DIRECTORY_DAYS * DAY) throw fail(`directory: lives more than ${MAX_DIRECTORY_DAYS} days (a directory is re-signed every few days)`);
  // Bounded by the issue time in seconds: a stolen signing key can push the serial no further than the end of
  // its certificate, so the newsroom's own later directories overtake it (FORMAT.md §Directory, serial).
  if (typeof d.serial !== 'number' || !Number.isSafeInteger(d.serial) || d.serial < 1) throw fail('directory: serial must be a whole number from 1');
  if (d.serial > Math.floor(issued / 1000)) throw fail('directory: serial must not exceed the issue time in seconds since 1970');
  if (!Array.isArray(d.recipients) || d.recipients.length > MAX_RECIPIENTS) {
    throw fail(`directory: recipients must be an array of at most ${MAX_RECIPIENTS}`);
  }
  const seen = new Set<string>();
  d.recipients.forEach((r: unknown, i: number) => {
    const at = `directory: recipients[${i}]`;
    if (!_isPlainObject(r) || !_hasExactKeys(r, ['name', 'role', 'box_key', 'sign_key', 'not_before', 'not_after'])) {
      throw fail(`${at}: expected {name, role, box_key, sign_key, not_before, not_after}`);
    }
    const name = checkDisplayName(r.name, (m) => fail(`${at}.${m}`));
    if (name !== r.name) throw fail(`${at}.name is not in NFC form`);
    if (r.role !== 'desk' && r.role !== 'auditor') throw fail(`${at}.role must be desk or auditor`);
    key(r.box_key, `${at}.box_key`, fail);
    key(r.sign_key, `${at}.sign_key`, fail);
    if (time(r.not_after, `${at}.not_after`, fail) <= time(r.not_before, `${at}.not_before`, fail)) {
      throw fail(`${at}: not_after must be after not_before`);
    }
    // A key listed twice would make findSigner's answer depend on order; a name twice, remove-desk's.
    for (const k of [`box:${String(r.box_key)}`, `sign:${String(r.sign_key)}`, `name:${name}`]) {
      if (seen.has(k)) throw fail(`${at}: ${k.split(':')[0]} listed twice`);
      seen.add(k);
    }
  });
  return d as unknown as Directory;
}

const VERSION_1 =
  'directory version 1 is no longer accepted: version 2 is signed by a directory signing key that the root certifies, and carries a serial (make one with tipline keys init, or tipline keys certify then tipline keys renew)';

function validateCertificate(c: unknown, fail: Fail): { value: SignerCertificate; signKey: Uint8Array; from: number; until: number } {
  if (!_isPlainObject(c) || !_hasExactKeys(c, ['v', 'sign_key', 'not_before', 'not_after'])) {
    throw fail('certificate: expected {v, sign_key, not_before, not_after}');
  }
  if (c.v !== 1) throw fail(`certificate: unsupported version ${String(c.v)}`);
  const signKey = key(c.sign_key, 'certificate: sign_key', fail);
  const from = time(c.not_before, 'certificate: not_before', fail);
  const until = time(c.not_after, 'certificate: not_after', fail);
  if (until <= from) throw fail('certificate: not_after must be after not_before');
  if (until - from > MAX_CERTIFICATE_DAYS * DAY) throw fail(`certificate: valid more than ${MAX_CERTIFICATE_DAYS} days`);
  return { value: c as unknown as SignerCertificate, signKey, from, until };
}

/** The rules that tie a directory to its certificate; shared by signing (so no tool makes one that verifiers refuse). */
function checkChain(dir: Directory, from: number, until: number, fail: Fail): void {
  if (Date.parse(dir.issued) < from) throw fail(`directory: issued ${dir.issued}, before its signing key's certificate begins (${new Date(from).toISOString()})`);
  if (Date.parse(dir.expires) > until) throw fail(`directory: expires ${dir.expires}, after its signing key's certificate ends (${new Date(until).toISOString()}); the root must certify the signing key again`);
}

/** A certificate's payload (already verified as the root's) as the key it certifies: for other documents the
 * signing key signs (the warrant canary). */
export function certifiedSigner(payload: unknown): { signKey: Uint8Array; value: SignerCertificate } {
  const c = validateCertificate(payload, (m) => new DocumentFormatError(m));
  return { signKey: c.signKey, value: c.value };
}

/** The root certifies a directory signing key (offline, every few months). */
export function certifySigner(signPublic: Uint8Array, notBefore: Date, notAfter: Date, root: SigningKeyPair): SignedDocument {
  const cert: SignerCertificate = { v: 1, sign_key: toBase64(signPublic), not_before: iso(notBefore), not_after: iso(notAfter) };
  validateCertificate(cert, (m) => new CryptoArgumentError(m));
  return signDocument(CERTIFICATE_TYPE, cert, root);
}

/** A certificate's contents, its root signature checked against the expected root (no clock involved). */
export function readCertificate(doc: unknown, expectedFingerprint: string): SignerCertificate {
  return validateCertificate(verifyDocument(doc, expectedFingerprint, CERTIFICATE_TYPE), (m) => new DocumentFormatError(m)).value;
}

export function signDirectory(dir: Directory, certificate: SignedDocument, signer: SigningKeyPair): SignedDocument {
  const arg = (m: string) => new CryptoArgumentError(m);
  validate(dir, arg);
  _assertSigningPair(signer?.publicKey, signer?.secretKey);
  let payload: unknown;
  try {
    payload = JSON.parse(utf8Decode(fromBase64(certificate.payload)));
  } catch {
    throw arg('certificate: payload is not base64 of UTF-8 JSON');
  }
  const c = validateCertificate(payload, arg);
  if (c.value.sign_key !== toBase64(signer.publicKey)) throw arg('certificate: names another signing key than the one given');
  checkChain(dir, c.from, c.until, arg);
  return signCertifiedDocument(DIRECTORY_TYPE, dir, certificate, signer);
}

export interface VerifiedDirectory {
  directory: Directory;
  certificate: SignerCertificate;
}

/**
 * Verifies the chain root fingerprint -> certificate -> directory at `now`. Refuses a version 1 directory, a
 * certificate not yet valid or ended, a directory outside its certificate, and an expired directory.
 */
export function verifyDirectoryChain(doc: unknown, expectedFingerprint: string, now: Date): VerifiedDirectory {
  const t = checkNow(now);
  const fmt = (m: string) => new DocumentFormatError(m);
  if (_isPlainObject(doc) && doc.type === DIRECTORY_TYPE && doc.certificate === undefined && typeof doc.payload === 'string') {
    // Only to name the problem plainly; the document is refused either way.
    let v: unknown;
    try {
      v = (JSON.parse(utf8Decode(fromBase64(doc.payload))) as { v?: unknown }).v;
    } catch {
      v = undefined;
    }
    if (v === 1) throw fmt(VERSION_1);
  }
  let window = { from: 0, until: 0 };
  const { payload, certificate } = verifyCertifiedDocument(doc, expectedFingerprint, DIRECTORY_TYPE, CERTIFICATE_TYPE, (p) => {
    const c = validateCertificate(p, fmt);
    window = c;
    return { signKey: c.signKey, value: c.value };
  });
  if (t < window.from) throw fmt(`the directory signing key's certificate is not valid before ${certificate.not_before} (now ${now.toISOString()}; is this machine's clock right?)`);
  if (t > window.until) throw new DirectoryExpiredError(certificate.not_after, now.toISOString(), "the directory signing key's certificate");
  const directory = validate(payload, fmt);
  checkChain(directory, window.from, window.until, fmt);
  // Threat: an operator replaying an old directory that still lists a rotated-out (maybe compromised) key.
  if (t > Date.parse(directory.expires)) throw new DirectoryExpiredError(directory.expires, now.toISOString());
  return { directory, certificate };
}

export function verifyDirectory(doc: unknown, expectedFingerprint: string, now: Date): Directory {
  return verifyDirectoryChain(doc, expectedFingerprint, now).directory;
}

/** What a verifier remembers of the newest directory it accepted for a root. */
export interface SerialMark {
  serial: number;
  /** Hex BLAKE2b-256 of the directory's payload bytes: the same serial must mean the same directory. */
  digest: string;
}

/** The mark of a verified directory document. */
export function directoryMark(doc: SignedDocument, dir: Directory): SerialMark {
  return { serial: dir.serial, digest: toHex(sodium().crypto_generichash(32, documentPayload(doc), null)) };
}

/** Throws DirectoryRollbackError when `mark` is older than `highest`, or has its serial with other contents. */
export function checkSerial(mark: SerialMark, highest: SerialMark | undefined): void {
  if (!highest) return;
  if (mark.serial < highest.serial) {
    throw new DirectoryRollbackError(`directory serial ${mark.serial} is older than serial ${highest.serial}, already accepted for this root: refusing a rolled-back directory`);
  }
  if (mark.serial === highest.serial && mark.digest !== highest.digest) {
    throw new DirectoryRollbackError(`directory serial ${mark.serial} differs from the directory already accepted with that serial: refusing it`);
  }
}

/** The later of two marks (checkSerial has passed). */
export function laterMark(a: SerialMark | undefined, b: SerialMark): SerialMark {
  return a && a.serial >= b.serial ? a : b;
}

function iso(d: Date): string {
  checkNow(d);
  return d.toISOString();
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

/**
 * Desk keys listed although their encryption key began more than `retentionDays` ago: the tips sealed to it on
 * its first day have expired, yet its secret cannot be destroyed while new tips may still be sealed to it
 * (`tipline audit` fails on each; `tipline keys rotate` replaces them).
 */
export function deskKeysPastRetention(dir: Directory, retentionDays: number, now: Date): Recipient[] {
  const t = checkNow(now);
  return dir.recipients.filter((r) => r.role === 'desk' && t - Date.parse(r.not_before) > retentionDays * DAY);
}
