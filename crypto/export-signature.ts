// The signature on a thread exported from the desk app (FORMAT.md §Thread export): the exporting desk's Ed25519
// key signs the exact bytes of the export's SHA256SUMS, framed with a domain string, the desk's name, its public
// key and the export time. Threat: a signature made for another purpose (a staff request, a deletion statement,
// a note) replayed as an export's, or an export's signature read as meaning another desk or another time.
// Pure: no clock, no I/O; the caller hashes the files and supplies the time.
import { _abytes, _exactObject, _hasExactKeys, _isPlainObject } from './_guard.js';
import { _frame } from './_frame.js';
import { fromBase64, toBase64, utf8Encode } from './bytes.js';
import { BadSignatureError, CryptoArgumentError, DocumentFormatError } from './errors.js';
import { sign, verify } from './keys.js';

const DOMAIN = utf8Encode('tipline thread export v1');
export const EXPORT_SIGNATURE_VERSION = 1;
const NAME_MAX = 128;
const KEY_RE = /^[A-Za-z0-9+/]{43}=$/;
const SIG_RE = /^[A-Za-z0-9+/]{86}==$/;
// One spelling per instant, as the directory's times (crypto/directory.ts).
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** SHA256SUMS.sig.json, as written into the ZIP. */
export interface ExportSignature {
  v: 1;
  /** The desk's name, as the directory lists it. */
  desk: string;
  /** base64 Ed25519 public key of the desk. */
  sign_key: string;
  /** When the desk exported, ISO-8601 UTC with milliseconds (Date.toISOString). */
  exported_at: string;
  /** base64 Ed25519 signature over frame(domain, SHA256SUMS, desk, sign key (32), exported_at). */
  signature: string;
}

const FIELDS = ['v', 'desk', 'sign_key', 'exported_at', 'signature'];

/** frame("tipline thread export v1", SHA256SUMS bytes, desk name, sign public key (32), exported_at). */
function message(sums: Uint8Array, desk: string, signKey: Uint8Array, exportedAt: string): Uint8Array {
  return _frame(DOMAIN, sums, utf8Encode(desk), signKey, utf8Encode(exportedAt));
}

function checkName(desk: unknown): desk is string {
  // Printed by verify-export as is: no control or invisible formatting characters.
  return typeof desk === 'string' && desk.length > 0 && desk.length <= NAME_MAX && !/[\p{Cc}\p{Cf}]/u.test(desk);
}

function checkTime(t: unknown): t is string {
  return typeof t === 'string' && ISO_UTC.test(t) && Number.isFinite(Date.parse(t)) && new Date(Date.parse(t)).toISOString() === t;
}

/** Signs an export's SHA256SUMS. `signSecret` is libsodium's 64-byte form (its last 32 bytes are the public key). */
export function signExport(o: { sums: Uint8Array; desk: string; exportedAt: string }, signSecret: Uint8Array): ExportSignature {
  _abytes('sums', o.sums);
  _abytes('signSecret', signSecret, 64);
  if (!checkName(o.desk)) throw new CryptoArgumentError(`desk: expected 1..${NAME_MAX} printable characters`);
  if (!checkTime(o.exportedAt)) throw new CryptoArgumentError('exportedAt: expected an ISO-8601 UTC time with milliseconds');
  const pub = signSecret.slice(32);
  return {
    v: 1,
    desk: o.desk,
    sign_key: toBase64(pub),
    exported_at: o.exportedAt,
    signature: toBase64(sign(message(o.sums, o.desk, pub, o.exportedAt), signSecret)),
  };
}

/**
 * Checks the form of a SHA256SUMS.sig.json (object or its JSON text) and that it signs `sums` under the key it
 * names. Throws DocumentFormatError or BadSignatureError; returns the signature object. Which desk that key
 * belongs to is the directory's word, checked by the caller.
 */
export function verifyExportSignature(s: unknown, sums: Uint8Array): ExportSignature {
  _abytes('sums', sums);
  const fail = (m: string) => new DocumentFormatError(`export signature: ${m}`);
  const v = _exactObject(s, FIELDS, fail);
  if (v.v !== EXPORT_SIGNATURE_VERSION) throw fail(`unsupported version ${String(v.v)}`);
  if (!checkName(v.desk)) throw fail(`desk must be 1..${NAME_MAX} printable characters`);
  if (!checkTime(v.exported_at)) throw fail('exported_at must be an ISO-8601 UTC time with milliseconds');
  if (typeof v.sign_key !== 'string' || !KEY_RE.test(v.sign_key)) throw fail('sign_key must be a base64 Ed25519 public key');
  if (typeof v.signature !== 'string' || !SIG_RE.test(v.signature)) throw fail('signature must be a base64 Ed25519 signature');
  let key: Uint8Array, sig: Uint8Array;
  try {
    key = fromBase64(v.sign_key);
    sig = fromBase64(v.signature);
  } catch {
    throw fail('sign_key and signature must be canonical base64');
  }
  if (!verify(sig, message(sums, v.desk, key, v.exported_at), key)) {
    throw new BadSignatureError('export signature: does not verify over SHA256SUMS under the key it names');
  }
  return v as unknown as ExportSignature;
}
