// Staff request signatures, version 2 (PROTOCOL.md §Staff requests). Staff authenticate with the Ed25519 key
// the signed directory lists for them: no password, no session. One implementation for the CLI, the test
// fixtures and the server. Pure: no clock and no database; the caller checks the time window and that the
// nonce was not used before, with what this module returns.
import { _abytes, _astring, _isBytes } from './_guard.js';
import { _frame, _u64 } from './_frame.js';
import { fromBase64, fromBase64Url, toBase64, toBase64Url, utf8Encode } from './bytes.js';
import { CryptoArgumentError } from './errors.js';
import { PUBLIC_KEY_LENGTH, SIGN_SECRET_LENGTH, sign, verify } from './keys.js';
import { sodium } from './sodium.js';

export const STAFF_REQUEST_VERSION = 2;
export const STAFF_REQUEST_HEADERS = {
  key: 'tipline-key',
  timestamp: 'tipline-timestamp',
  nonce: 'tipline-nonce',
  signature: 'tipline-signature',
} as const;
export const STAFF_NONCE_BYTES = 16;
/** A request more than this far from the server's clock is refused (the caller checks, with staffRequestFresh). */
export const STAFF_CLOCK_SKEW_SECONDS = 300;
export const STAFF_HOST_MAX = 261; // a 253-character DNS name, ":" and a 5-digit port, with room for "[…]"
export const STAFF_PATH_MAX = 8192;
export const STAFF_CONTENT_TYPE_MAX = 255;
/** Bodies are hashed whole, in memory; the server's own body limit is far below this. */
export const STAFF_BODY_MAX = 64 * 1024 * 1024;

const DOMAIN = utf8Encode('tipline staff request v2');
// Lowercase host as in a URL's `host` (hostname[:port], IPv6 in brackets, IDNs as punycode).
const HOST_RE = /^[a-z0-9._~\-:[\]]+$/;
const METHOD_RE = /^[A-Z]{1,16}$/;
// The request target as sent on the request line: origin form, visible ASCII only (percent-encoded).
const PATH_RE = /^\/[\x21-\x7e]*$/;
const CONTENT_TYPE_RE = /^[\x20-\x7e]*$/;
// Canonical decimal: "0123" would sign the same bytes as "123", so only one spelling is accepted.
const TIMESTAMP_RE = /^(0|[1-9][0-9]{0,11})$/;
const KEY_RE = /^[A-Za-z0-9+/]{43}=$/;
const NONCE_RE = /^[A-Za-z0-9_-]{22}$/;
const SIGNATURE_RE = /^[A-Za-z0-9+/]{86}==$/;

/** What a request is, as both ends see it. `host` is the one the server is configured with, not a header. */
export interface StaffRequestTarget {
  host: string;
  method: string;
  pathAndQuery: string;
  body: Uint8Array;
  /** The content-type header's exact value; '' when the request has none. */
  contentType: string;
}

export interface StaffSigningFields extends StaffRequestTarget {
  /** The signer's Ed25519 public key. */
  publicKey: Uint8Array;
  /** Unix seconds. */
  timestamp: number;
  /** 16 fresh random bytes per request. */
  nonce: Uint8Array;
}

export type StaffRejectReason = 'unsigned' | 'malformed' | 'unknown_key' | 'bad_signature';

export type StaffVerdict<K> =
  | { ok: true; signer: K; publicKey: Uint8Array; timestamp: number; /** base64url, as sent: the replay key */ nonce: string }
  | { ok: false; reason: StaffRejectReason; message: string };

export function staffBodyHash(body: Uint8Array): Uint8Array {
  _abytes('body', body);
  if (body.length > STAFF_BODY_MAX) throw new CryptoArgumentError(`body: longer than ${STAFF_BODY_MAX} bytes`);
  return sodium().crypto_generichash(32, body, null);
}

function canonicalHost(h: string): string {
  const host = _astring('host', h).toLowerCase();
  if (host.length === 0 || host.length > STAFF_HOST_MAX || !HOST_RE.test(host)) {
    throw new CryptoArgumentError(`host: expected a URL host (hostname[:port]) of 1..${STAFF_HOST_MAX} characters, got ${JSON.stringify(host.slice(0, 64))}`);
  }
  return host;
}

function canonicalTarget(t: StaffRequestTarget): { host: string; method: string } {
  const host = canonicalHost(t.host);
  const method = _astring('method', t.method).toUpperCase();
  if (!METHOD_RE.test(method)) throw new CryptoArgumentError('method: expected 1..16 letters');
  _astring('pathAndQuery', t.pathAndQuery);
  if (t.pathAndQuery.length > STAFF_PATH_MAX || !PATH_RE.test(t.pathAndQuery)) {
    throw new CryptoArgumentError(`pathAndQuery: expected "/" and up to ${STAFF_PATH_MAX - 1} visible ASCII characters`);
  }
  _astring('contentType', t.contentType);
  if (t.contentType.length > STAFF_CONTENT_TYPE_MAX || !CONTENT_TYPE_RE.test(t.contentType)) {
    throw new CryptoArgumentError(`contentType: expected up to ${STAFF_CONTENT_TYPE_MAX} printable ASCII characters`);
  }
  return { host, method };
}

/**
 * The signed bytes: frame(domain, host, method, path-and-query, public key, u64 timestamp, nonce, content type,
 * BLAKE2b-256(body)). Every field is length-prefixed, so no choice of path or content type can make two
 * requests sign the same bytes. Host binding: a request signed for one tip line cannot be replayed to another
 * that lists the same key.
 */
export function staffSigningInput(f: StaffSigningFields): Uint8Array {
  const { host, method } = canonicalTarget(f);
  _abytes('publicKey', f.publicKey, PUBLIC_KEY_LENGTH);
  _abytes('nonce', f.nonce, STAFF_NONCE_BYTES);
  return _frame(
    DOMAIN,
    utf8Encode(host),
    utf8Encode(method),
    utf8Encode(f.pathAndQuery),
    f.publicKey,
    _u64('timestamp', f.timestamp),
    f.nonce,
    utf8Encode(f.contentType),
    staffBodyHash(f.body),
  );
}

export interface StaffSignRequest {
  host: string;
  method: string;
  pathAndQuery: string;
  timestamp: number;
  nonce: Uint8Array;
  body?: Uint8Array;
  contentType?: string;
}

/**
 * The headers to send. `content-type` is among them when one is given, so the value signed is the value sent.
 * `signSecret` is libsodium's 64-byte form (seed || public key); the key header is its public half.
 */
export function signStaffRequest(req: StaffSignRequest, signSecret: Uint8Array): Record<string, string> {
  _abytes('signSecret', signSecret, SIGN_SECRET_LENGTH);
  const publicKey = signSecret.slice(32);
  const contentType = req.contentType ?? '';
  const input = staffSigningInput({ ...req, body: req.body ?? new Uint8Array(0), contentType, publicKey });
  const headers: Record<string, string> = {
    [STAFF_REQUEST_HEADERS.key]: toBase64(publicKey),
    [STAFF_REQUEST_HEADERS.timestamp]: String(req.timestamp),
    [STAFF_REQUEST_HEADERS.nonce]: toBase64Url(req.nonce),
    [STAFF_REQUEST_HEADERS.signature]: toBase64(sign(input, signSecret)),
  };
  if (contentType !== '') headers['content-type'] = contentType;
  return headers;
}

type HeaderBag = Readonly<Record<string, string | readonly string[] | undefined>>;

function header(headers: HeaderBag, name: string): string | undefined | null {
  const v = Object.prototype.hasOwnProperty.call(headers, name) ? headers[name] : undefined;
  if (v === undefined) return undefined;
  return typeof v === 'string' ? v : null; // repeated header: null
}

/**
 * Checks a request's signature against the key the caller's `lookupKey` finds (by its base64 form, as the
 * directory lists it). `headers` has lowercase names (Node's IncomingHttpHeaders). `target.host` is the host the
 * server is configured with; `target.contentType` defaults to the content-type header. Order: headers present,
 * well-formed, key known, signature. Time window and nonce reuse are the caller's.
 */
export function verifyStaffRequest<K>(
  headers: HeaderBag,
  target: { host: string; method: string; pathAndQuery: string; body: Uint8Array; contentType?: string },
  lookupKey: (signKeyBase64: string) => K | undefined,
): StaffVerdict<K> {
  if (!_isBytes(target.body)) throw new CryptoArgumentError('body: expected Uint8Array');
  const H = STAFF_REQUEST_HEADERS;
  const key = header(headers, H.key);
  const ts = header(headers, H.timestamp);
  const nonce = header(headers, H.nonce);
  const sig = header(headers, H.signature);
  if (key === undefined || ts === undefined || nonce === undefined || sig === undefined) {
    return { ok: false, reason: 'unsigned', message: 'staff request is not signed (tipline-key, -timestamp, -nonce, -signature headers required)' };
  }
  const bad = (message: string): StaffVerdict<K> => ({ ok: false, reason: 'malformed', message });
  if (key === null || !KEY_RE.test(key)) return bad('tipline-key: expected a base64 Ed25519 public key');
  if (ts === null || !TIMESTAMP_RE.test(ts)) return bad('tipline-timestamp: expected unix seconds');
  if (nonce === null || !NONCE_RE.test(nonce)) return bad('tipline-nonce: expected 16 bytes in base64url');
  if (sig === null || !SIGNATURE_RE.test(sig)) return bad('tipline-signature: expected a base64 Ed25519 signature');
  const sentType = target.contentType === undefined ? header(headers, 'content-type') : target.contentType;
  if (sentType === null) return bad('content-type: repeated'); // (`?? ''` first would turn null into '')
  const ct = sentType ?? '';
  if (target.body.length > STAFF_BODY_MAX) return bad(`body: longer than ${STAFF_BODY_MAX} bytes`);
  let publicKey: Uint8Array, nonceBytes: Uint8Array, signature: Uint8Array;
  try {
    publicKey = fromBase64(key);
    nonceBytes = fromBase64Url(nonce);
    signature = fromBase64(sig);
  } catch {
    return bad('staff request headers are not canonical base64'); // e.g. non-zero trailing bits
  }
  const fields: StaffSigningFields = { ...target, contentType: ct, publicKey, timestamp: Number(ts), nonce: nonceBytes };
  try {
    canonicalTarget(fields); // before the lookup and the body hash: no work for a request that cannot verify
  } catch (e) {
    // The host, request line or content type cannot be part of any v2 signature (over-long, characters outside
    // the rules). Answered, not thrown: a caller that passes the Host header must not turn it into a 500.
    if (e instanceof CryptoArgumentError) return bad(`staff request cannot be signed as sent: ${e.message}`);
    throw e;
  }
  const signer = lookupKey(key);
  if (signer === undefined) return { ok: false, reason: 'unknown_key', message: 'signing key is not in the current directory' };
  const input = staffSigningInput(fields);
  if (!verify(signature, input, publicKey)) {
    return { ok: false, reason: 'bad_signature', message: 'bad signature (signed for another request, server or key?)' };
  }
  return { ok: true, signer, publicKey, timestamp: Number(ts), nonce };
}

/** The time window: |timestamp − now| ≤ skew. */
export function staffRequestFresh(timestamp: number, now: Date, skewSeconds = STAFF_CLOCK_SKEW_SECONDS): boolean {
  return Number.isFinite(timestamp) && Math.abs(timestamp - now.getTime() / 1000) <= skewSeconds;
}
