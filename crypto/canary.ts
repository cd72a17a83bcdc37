// The warrant canary (FORMAT.md §Canary): a dated statement that the newsroom has received no secret order
// about the tip line, re-signed every few days. Signed by the directory signing key under the root's
// certificate (the same chain as the directory), so it can be renewed without bringing the root online. A
// canary past its `expires` is stale: the page and `tipline audit` say so plainly, never hide it.
import { _hasExactKeys, _isPlainObject } from './_guard.js';
import { CryptoArgumentError, DocumentFormatError } from './errors.js';
import { signCertifiedDocument, verifyCertifiedDocument, type SignedDocument } from './signed.js';
import { certifiedSigner, CERTIFICATE_TYPE } from './directory.js';
import { _assertSigningPair, type SigningKeyPair } from './keys.js';
import { fromBase64, utf8Decode } from './bytes.js';

export const CANARY_TYPE = 'canary';
export const MAX_CANARY_DAYS = 92;
export const DEFAULT_CANARY_DAYS = 14;
const STATEMENT_MAX = 2000;
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z$/;
const DAY = 86_400_000;

export const DEFAULT_STATEMENT =
  'Up to the date of this statement, the newsroom running this tip line has received no warrant, subpoena, national security letter, gag order or other order to hand over data about this tip line or its sources, to change its software, or to keep such an order secret. If this statement is not renewed by its expiry date, assume that this may no longer be true.';

export interface Canary {
  v: 1;
  /** Only grows. */
  serial: number;
  issued: string;
  /** Renewed before this, or it is stale. */
  expires: string;
  statement: string;
}

type Fail = (m: string) => Error;

function time(v: unknown, what: string, fail: Fail): number {
  const t = typeof v === 'string' && ISO_UTC.test(v) ? Date.parse(v) : NaN;
  if (!Number.isFinite(t)) throw fail(`canary: ${what} must be an ISO-8601 UTC time`);
  return t;
}

export function validateCanary(c: unknown, fail: Fail = (m) => new DocumentFormatError(m)): Canary {
  if (!_isPlainObject(c) || !_hasExactKeys(c, ['v', 'serial', 'issued', 'expires', 'statement'])) throw fail('canary: expected {v, serial, issued, expires, statement}');
  if (c.v !== 1) throw fail(`canary: unsupported version ${String(c.v)}`);
  const issued = time(c.issued, 'issued', fail);
  const expires = time(c.expires, 'expires', fail);
  if (expires <= issued || expires - issued > MAX_CANARY_DAYS * DAY) throw fail(`canary: expires must be after issued, by at most ${MAX_CANARY_DAYS} days`);
  if (typeof c.serial !== 'number' || !Number.isSafeInteger(c.serial) || c.serial < 1 || c.serial > Math.floor(issued / 1000)) throw fail('canary: serial must be a whole number from 1 to the issue time in seconds');
  if (typeof c.statement !== 'string' || c.statement.length === 0 || c.statement.length > STATEMENT_MAX || /[\p{Cc}\p{Cf}]/u.test(c.statement)) throw fail(`canary: statement must be 1..${STATEMENT_MAX} printable characters`);
  return c as unknown as Canary;
}

export function makeCanary(now: Date, days: number, previousSerial = 0, statement = DEFAULT_STATEMENT): Canary {
  if (!(now instanceof Date) || !Number.isFinite(now.getTime())) throw new CryptoArgumentError('now: expected a valid Date');
  if (!Number.isSafeInteger(days) || days < 1 || days > MAX_CANARY_DAYS) throw new CryptoArgumentError(`days must be 1..${MAX_CANARY_DAYS}`);
  const serial = Math.max(previousSerial + 1, Math.floor(now.getTime() / 1000));
  const issued = Math.max(now.getTime(), serial * 1000);
  return validateCanary({ v: 1, serial, issued: new Date(issued).toISOString(), expires: new Date(issued + days * DAY).toISOString(), statement }, (m) => new CryptoArgumentError(m));
}

/** Signs with the directory signing key; `certificate` is the root's certificate of that key (it must cover the canary's life). */
export function signCanary(c: Canary, certificate: SignedDocument, signer: SigningKeyPair): SignedDocument {
  validateCanary(c, (m) => new CryptoArgumentError(m));
  _assertSigningPair(signer?.publicKey, signer?.secretKey);
  let cert: unknown;
  try {
    cert = JSON.parse(utf8Decode(fromBase64(certificate.payload)));
  } catch {
    throw new CryptoArgumentError('certificate: payload is not base64 of UTF-8 JSON');
  }
  const c2 = cert as { not_before?: string; not_after?: string };
  if (typeof c2.not_before !== 'string' || typeof c2.not_after !== 'string' || Date.parse(c.issued) < Date.parse(c2.not_before) || Date.parse(c.expires) > Date.parse(c2.not_after)) {
    throw new CryptoArgumentError("canary: its life must lie within the signing key's certificate; shorten --days or have the root certify the key again");
  }
  return signCertifiedDocument(CANARY_TYPE, c, certificate, signer);
}

export interface VerifiedCanary {
  canary: Canary;
  /** Past its expiry at `now`: the newsroom has not renewed it. */
  stale: boolean;
  /** Whole days since it was issued. */
  ageDays: number;
}

/** Checks the chain root -> certificate -> canary. A bad signature throws; a stale canary does not (it is reported). */
export function verifyCanary(doc: unknown, expectedFingerprint: string, now: Date): VerifiedCanary {
  // An invalid Date compares false with everything: "stale?" would answer no.
  if (!(now instanceof Date) || !Number.isFinite(now.getTime())) throw new CryptoArgumentError('now: expected a valid Date');
  const fmt = (m: string) => new DocumentFormatError(m);
  // The certificate's validity is checked against the canary's dates, not the clock: a canary signed while its
  // key was certified stays readable, and is reported stale when it is.
  const { payload, certificate } = verifyCertifiedDocument(doc, expectedFingerprint, CANARY_TYPE, CERTIFICATE_TYPE, certifiedSigner);
  const canary = validateCanary(payload, fmt);
  if (Date.parse(canary.issued) < Date.parse(certificate.not_before) || Date.parse(canary.expires) > Date.parse(certificate.not_after)) {
    throw fmt("canary: not within its signing key's certificate");
  }
  const t = now.getTime();
  return { canary, stale: t > Date.parse(canary.expires), ageDays: Math.floor((t - Date.parse(canary.issued)) / DAY) };
}
