// Signed documents (directory; later policy, canary, client manifest). The signature covers the exact payload
// bytes as published, so there is no JSON canonicalisation to get wrong: verifiers check bytes, then parse.
import { _astring, _hasExactKeys, _isPlainObject } from './_guard.js';
import { concatBytes, fromBase64, toBase64, utf8Decode, utf8Encode } from './bytes.js';
import { BadSignatureError, CryptoArgumentError, DocumentFormatError, FingerprintMismatchError } from './errors.js';
import {
  _assertSigningPair,
  fingerprint,
  normalizeFingerprint,
  sameFingerprint,
  sign,
  verify,
  type SigningKeyPair,
} from './keys.js';

export interface SignedDocument {
  v: 1;
  type: string;
  payload: string; // base64 of UTF-8 JSON
  root_key: string; // base64 Ed25519 public key
  signature: string; // base64
}

// A type is one line of [a-z0-9-]: it is framed by "\n" in the signed message, so it must not contain one.
const TYPE_RE = /^[a-z][a-z0-9-]{0,63}$/;

/**
 * The signed message: a context string and the type come first, so a signature on a directory can never be
 * replayed as a policy or canary (or as any other Ed25519 message the root key might sign).
 */
function signedMessage(type: string, payload: Uint8Array): Uint8Array {
  return concatBytes(utf8Encode(`tipline signed document v1\n${type}\n`), payload);
}

export function signDocument(type: string, payload: unknown, root: SigningKeyPair): SignedDocument {
  _astring('type', type);
  if (!TYPE_RE.test(type)) throw new CryptoArgumentError(`type must match ${TYPE_RE}, got ${JSON.stringify(type)}`);
  _assertSigningPair(root?.publicKey, root?.secretKey);
  const json = JSON.stringify(payload);
  if (json === undefined) throw new CryptoArgumentError('payload is not JSON-serialisable');
  const bytes = utf8Encode(json);
  return {
    v: 1,
    type,
    payload: toBase64(bytes),
    root_key: toBase64(root.publicKey),
    signature: toBase64(sign(signedMessage(type, bytes), root.secretKey)),
  };
}

function field(v: unknown, name: string, len?: number): Uint8Array {
  if (typeof v !== 'string') throw new DocumentFormatError(`signed document: ${name} must be a string`);
  let b: Uint8Array;
  try {
    b = fromBase64(v);
  } catch {
    throw new DocumentFormatError(`signed document: ${name} is not valid base64`);
  }
  if (len !== undefined && b.length !== len) {
    throw new DocumentFormatError(`signed document: ${name} must be ${len} bytes, got ${b.length}`);
  }
  return b;
}

/** Shape only, no signature check. */
function parseDocument(doc: unknown): SignedDocument & { _payload: Uint8Array; _root: Uint8Array; _sig: Uint8Array } {
  if (!_isPlainObject(doc) || !_hasExactKeys(doc, ['v', 'type', 'payload', 'root_key', 'signature'])) {
    throw new DocumentFormatError('signed document: expected {v, type, payload, root_key, signature}');
  }
  if (doc.v !== 1) throw new DocumentFormatError(`signed document: unsupported version ${String(doc.v)}`);
  if (typeof doc.type !== 'string' || !TYPE_RE.test(doc.type)) {
    throw new DocumentFormatError('signed document: invalid type');
  }
  const _payload = field(doc.payload, 'payload');
  const _root = field(doc.root_key, 'root_key', 32);
  const _sig = field(doc.signature, 'signature', 64);
  return { ...(doc as unknown as SignedDocument), _payload, _root, _sig };
}

/**
 * Checks, in order: shape, document type, that the root key is the one whose fingerprint the caller obtained out
 * of band (threat: a hostile operator serving a directory signed by its own key), the signature; then parses.
 */
export function verifyDocument(doc: unknown, expectedFingerprint: string, type: string): unknown {
  const expected = normalizeFingerprint(expectedFingerprint);
  _astring('type', type);
  const d = parseDocument(doc);
  if (d.type !== type) {
    throw new DocumentFormatError(`signed document: expected type "${type}", got "${d.type}"`);
  }
  const actual = fingerprint(d._root);
  if (!sameFingerprint(actual, expected)) throw new FingerprintMismatchError(expected, normalizeFingerprint(actual));
  if (!verify(d._sig, signedMessage(type, d._payload), d._root)) {
    throw new BadSignatureError(`signed document: bad signature on "${type}"`);
  }
  try {
    return JSON.parse(utf8Decode(d._payload));
  } catch {
    throw new DocumentFormatError('signed document: payload is not UTF-8 JSON');
  }
}

export function documentFingerprint(doc: SignedDocument): string {
  return fingerprint(parseDocument(doc)._root);
}

