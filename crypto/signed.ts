// Signed documents (directory; later policy, canary, client manifest). The signature covers the exact payload
// bytes as published, so there is no JSON canonicalisation to get wrong: verifiers check bytes, then parse.
// A document is signed by its root key itself, or (a certified document) by a key the root certified in a
// certificate the document carries: the root can then stay offline (FORMAT.md §Certified documents).
import { _astring, _hasExactKeys, _isPlainObject } from './_guard.js';
import { concatBytes, equalBytes, fromBase64, toBase64, utf8Decode, utf8Encode } from './bytes.js';
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
  /** Present on a certified document: a root-signed document naming the key that made `signature`. */
  certificate?: SignedDocument;
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

type Parsed = SignedDocument & { _payload: Uint8Array; _root: Uint8Array; _sig: Uint8Array; _cert?: Parsed };

/** Shape only, no signature check. A certificate is itself a plain signed document: certificates do not nest. */
function parseDocument(doc: unknown, nested = false): Parsed {
  if (!_isPlainObject(doc) || !_hasExactKeys(doc, ['v', 'type', 'payload', 'root_key', 'signature'], nested ? [] : ['certificate'])) {
    const what = nested ? 'signed document: certificate' : 'signed document';
    throw new DocumentFormatError(`${what}: expected {v, type, payload, root_key, signature${nested ? '' : '[, certificate]'}}`);
  }
  if (doc.v !== 1) throw new DocumentFormatError(`signed document: unsupported version ${String(doc.v)}`);
  if (typeof doc.type !== 'string' || !TYPE_RE.test(doc.type)) {
    throw new DocumentFormatError('signed document: invalid type');
  }
  const _payload = field(doc.payload, 'payload');
  const _root = field(doc.root_key, 'root_key', 32);
  const _sig = field(doc.signature, 'signature', 64);
  const _cert = doc.certificate === undefined ? undefined : parseDocument(doc.certificate, true);
  return { ...(doc as unknown as SignedDocument), _payload, _root, _sig, ...(_cert ? { _cert } : {}) };
}

function parsePayload(bytes: Uint8Array, what: string): unknown {
  try {
    return JSON.parse(utf8Decode(bytes));
  } catch {
    throw new DocumentFormatError(`${what}: payload is not UTF-8 JSON`);
  }
}

function checkRoot(d: Parsed, expectedFingerprint: string): void {
  const expected = normalizeFingerprint(expectedFingerprint);
  const actual = fingerprint(d._root);
  if (!sameFingerprint(actual, expected)) throw new FingerprintMismatchError(expected, normalizeFingerprint(actual));
}

/**
 * Checks, in order: shape, document type, that the root key is the one whose fingerprint the caller obtained out
 * of band (threat: a hostile operator serving a directory signed by its own key), the signature; then parses.
 */
export function verifyDocument(doc: unknown, expectedFingerprint: string, type: string): unknown {
  normalizeFingerprint(expectedFingerprint);
  _astring('type', type);
  const d = parseDocument(doc);
  if (d.type !== type) {
    throw new DocumentFormatError(`signed document: expected type "${type}", got "${d.type}"`);
  }
  // A certified document's signature is not the root's: verifyCertifiedDocument is the only way to read it.
  if (d._cert) throw new DocumentFormatError(`signed document: "${type}" must be signed by the root itself, not certified`);
  checkRoot(d, expectedFingerprint);
  if (!verify(d._sig, signedMessage(type, d._payload), d._root)) {
    throw new BadSignatureError(`signed document: bad signature on "${type}"`);
  }
  return parsePayload(d._payload, 'signed document');
}

/**
 * A document signed by a key that the root certified: `certificate` is a document of `certificateType` signed
 * by the root (same `root_key`) whose payload `readCertificate` validates and turns into the key it certifies.
 */
export function signCertifiedDocument(type: string, payload: unknown, certificate: SignedDocument, signer: SigningKeyPair): SignedDocument {
  _astring('type', type);
  if (!TYPE_RE.test(type)) throw new CryptoArgumentError(`type must match ${TYPE_RE}, got ${JSON.stringify(type)}`);
  _assertSigningPair(signer?.publicKey, signer?.secretKey);
  const cert = parseDocument(certificate, true);
  const json = JSON.stringify(payload);
  if (json === undefined) throw new CryptoArgumentError('payload is not JSON-serialisable');
  const bytes = utf8Encode(json);
  const { v, type: ct, payload: cp, root_key, signature } = cert;
  return {
    v: 1,
    type,
    payload: toBase64(bytes),
    root_key,
    signature: toBase64(sign(signedMessage(type, bytes), signer.secretKey)),
    certificate: { v, type: ct, payload: cp, root_key, signature },
  };
}

/**
 * Checks, in order: shape (the certificate's too), both types, that the root key is the expected one and that
 * the certificate names the same root, the certificate's signature by the root, the certificate's payload
 * (`readCertificate`, which also checks its validity period), the document's signature by the certified key;
 * then parses the document's payload.
 */
export function verifyCertifiedDocument<C>(
  doc: unknown,
  expectedFingerprint: string,
  type: string,
  certificateType: string,
  readCertificate: (payload: unknown) => { signKey: Uint8Array; value: C },
): { payload: unknown; certificate: C } {
  normalizeFingerprint(expectedFingerprint);
  const d = parseDocument(doc);
  if (d.type !== type) throw new DocumentFormatError(`signed document: expected type "${type}", got "${d.type}"`);
  const c = d._cert;
  if (!c) throw new DocumentFormatError(`signed document: "${type}" must carry a certificate of its signing key`);
  if (c.type !== certificateType) throw new DocumentFormatError(`signed document: expected a certificate of type "${certificateType}", got "${c.type}"`);
  checkRoot(d, expectedFingerprint);
  // Threat: a certificate from one root carried by a document claiming another.
  if (!equalBytes(c._root, d._root)) throw new DocumentFormatError('signed document: the certificate is signed by another root key');
  if (!verify(c._sig, signedMessage(certificateType, c._payload), c._root)) {
    throw new BadSignatureError(`signed document: bad signature on the "${certificateType}" certificate`);
  }
  const cert = readCertificate(parsePayload(c._payload, 'certificate'));
  if (!verify(d._sig, signedMessage(type, d._payload), cert.signKey)) {
    throw new BadSignatureError(`signed document: bad signature on "${type}" (not by the certified key)`);
  }
  return { payload: parsePayload(d._payload, 'signed document'), certificate: cert.value };
}

/** The exact payload bytes a document carries (for comparing two documents' signed contents). */
export function documentPayload(doc: SignedDocument): Uint8Array {
  return parseDocument(doc)._payload;
}

export function documentFingerprint(doc: SignedDocument): string {
  return fingerprint(parseDocument(doc)._root);
}

