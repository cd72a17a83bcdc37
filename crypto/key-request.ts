// Key requests (FORMAT.md §Key request): a journalist makes their own desk key on their own machine and hands
// over only this signed public half for the root to list. Threat: a private key copied between machines (by
// mail, on a stick) is a private key that can be stolen on the way; the request carries no secret at all.
// The request is signed by its own Ed25519 key (proof of possession), so a typo in a copied key, or a key
// someone else holds the secret of, cannot be listed by mistake under this name.
import { _hasExactKeys, _isPlainObject } from './_guard.js';
import { equalBytes, fromBase64, toBase64 } from './bytes.js';
import { CryptoArgumentError, DocumentFormatError } from './errors.js';
import { _assertSigningPair, PUBLIC_KEY_LENGTH, type DeskKeyPair } from './keys.js';
import { documentFingerprint, signDocument, verifyDocument, type SignedDocument } from './signed.js';
import { sodium } from './sodium.js';

export const KEY_REQUEST_TYPE = 'key-request';
export const DISPLAY_NAME_MAX = 64;

export type KeyRequestRole = 'desk' | 'auditor';

export interface KeyRequest {
  name: string;
  role: KeyRequestRole;
  box_key: string; // base64 X25519 public key
  sign_key: string; // base64 Ed25519 public key
}

// Letters, combining marks and decimal digits of any script; ASCII space and . - _ ' between them. An
// allowlist, so control, format (bidi overrides, zero-width joiners), surrogate, private-use and unassigned
// code points are all out. Threat: a name shown to the root holder that reads differently from its bytes
// ("‮yeknom" displayed reversed) or that breaks the line it is printed on.
const ALLOWED = /^[\p{L}\p{M}\p{Nd} .\-_']+$/u;
const FIRST = /^[\p{L}\p{Nd}]/u;

function describe(cp: number): string {
  return `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
}

/**
 * Returns the name NFC-normalised, or throws (DocumentFormatError unless `fail` says otherwise). Rules: 1..64
 * characters (code points, after NFC) of letters, marks, digits, single spaces and . - _ ', beginning with a
 * letter or digit and not ending with a space. One name has one spelling, so "María" typed on macOS (decomposed)
 * and on Linux is the same name.
 */
export function checkDisplayName(name: unknown, fail: (m: string) => Error = (m) => new DocumentFormatError(m)): string {
  if (typeof name !== 'string') throw fail('name must be a string');
  // A lone surrogate is not a character at all (the allowlist refuses it too; this names it plainly).
  for (const ch of name) {
    const cp = ch.codePointAt(0)!;
    if (cp >= 0xd800 && cp <= 0xdfff) throw fail(`name contains a lone surrogate (${describe(cp)})`);
  }
  const nfc = name.normalize('NFC');
  const chars = [...nfc];
  if (chars.length === 0) throw fail('name is empty');
  if (chars.length > DISPLAY_NAME_MAX) throw fail(`name is longer than ${DISPLAY_NAME_MAX} characters (${chars.length})`);
  for (const ch of chars) {
    if (!ALLOWED.test(ch)) {
      throw fail(`name may contain only letters, digits, spaces and . - _ ' (found ${describe(ch.codePointAt(0)!)})`);
    }
  }
  if (!FIRST.test(nfc)) throw fail('name must begin with a letter or a digit');
  if (nfc.endsWith(' ')) throw fail('name must not end with a space');
  if (nfc.includes('  ')) throw fail('name must not contain two spaces in a row');
  return nfc;
}

function key32(v: unknown, what: string): Uint8Array {
  let b: Uint8Array | undefined;
  try {
    b = typeof v === 'string' ? fromBase64(v) : undefined;
  } catch {
    b = undefined;
  }
  if (b?.length !== PUBLIC_KEY_LENGTH) throw new DocumentFormatError(`key request: ${what} must be base64 of 32 bytes`);
  return b;
}

// X25519 with a clamped scalar (a multiple of the cofactor) sends every low-order point to zero, which libsodium
// refuses. Threat: a box key of low order makes every stanza sealed to it readable without any secret.
const PROBE_SCALAR = new Uint8Array(32).fill(0x5a);
function isLowOrderBoxKey(pk: Uint8Array): boolean {
  try {
    sodium().crypto_scalarmult(PROBE_SCALAR, pk).fill(0);
    return false;
  } catch {
    return true;
  }
}

function checkRole(r: unknown): KeyRequestRole {
  if (r !== 'desk' && r !== 'auditor') throw new DocumentFormatError('key request: role must be "desk" or "auditor"');
  return r;
}

/** A signed key request for `key`'s public halves. The secret halves sign it and go nowhere. */
export function makeKeyRequest(name: string, role: KeyRequestRole, key: DeskKeyPair): SignedDocument {
  const clean = checkDisplayName(name, (m) => new CryptoArgumentError(`makeKeyRequest: ${m}`));
  if (role !== 'desk' && role !== 'auditor') throw new CryptoArgumentError('makeKeyRequest: role must be desk or auditor');
  _assertSigningPair(key?.signPublic, key?.signSecret);
  if (!equalBytes(sodium().crypto_scalarmult_base(key.boxSecret), key.boxPublic)) {
    throw new CryptoArgumentError('makeKeyRequest: boxSecret does not belong to boxPublic');
  }
  const body = { v: 1, name: clean, role, box_key: toBase64(key.boxPublic), sign_key: toBase64(key.signPublic) };
  return signDocument(KEY_REQUEST_TYPE, body, { publicKey: key.signPublic, secretKey: key.signSecret });
}

/**
 * Validates a key request strictly and returns what it asks to list. Throws DocumentFormatError (shape, type,
 * fields, name, a signer other than sign_key, a low-order box key) or BadSignatureError. No fingerprint is
 * pinned here: the request vouches only for itself; whoever signs the directory checks, out of band, that
 * the fingerprint it prints is the requester's.
 */
export function readKeyRequest(doc: unknown): KeyRequest {
  const signerFp = documentFingerprint(doc as SignedDocument); // shape check; throws DocumentFormatError
  const body = verifyDocument(doc, signerFp, KEY_REQUEST_TYPE);
  if (!_isPlainObject(body) || !_hasExactKeys(body, ['v', 'name', 'role', 'box_key', 'sign_key'])) {
    throw new DocumentFormatError('key request: expected {v, name, role, box_key, sign_key}');
  }
  if (body.v !== 1) throw new DocumentFormatError(`key request: unsupported version ${String(body.v)}`);
  const name = checkDisplayName(body.name, (m) => new DocumentFormatError(`key request: ${m}`));
  // One document, one meaning: a name that NFC changes would be listed under bytes other than those signed.
  if (name !== body.name) throw new DocumentFormatError('key request: name is not in NFC form');
  const role = checkRole(body.role);
  const box = key32(body.box_key, 'box_key');
  const signKey = key32(body.sign_key, 'sign_key');
  // Proof of possession: the key that signed is the key to be listed, not some other key's holder.
  if (!equalBytes(signKey, fromBase64((doc as SignedDocument).root_key))) {
    throw new DocumentFormatError('key request: signed by a key other than its sign_key');
  }
  if (isLowOrderBoxKey(box)) throw new DocumentFormatError('key request: box_key is a low-order point, not a usable X25519 key');
  return { name, role, box_key: body.box_key as string, sign_key: body.sign_key as string };
}
