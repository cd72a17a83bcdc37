// A signed head of the audit chain (PROTOCOL.md §Signed heads). The server signs the chain's last entry with a
// key of its own at every retention pass and publishes it at /.well-known/tipline/audit-head. An auditor keeps
// the heads it saw: a later chain that does not contain one of them (rewritten, or cut off after it) is caught,
// and the signature makes a head the server published impossible for it to deny.
import { _hasExactKeys, _isPlainObject } from './_guard.js';
import { _frame, _u64 } from './_frame.js';
import { fromBase64, fromHex, toBase64, utf8Encode } from './bytes.js';
import { BadSignatureError, CryptoArgumentError, DocumentFormatError } from './errors.js';
import { AUDIT_DAY_RE, type ChainHead } from './audit-chain.js';
import { _assertSigningPair, sign, verify, type SigningKeyPair } from './keys.js';

const DOMAIN = utf8Encode('tipline audit signed head v1');
const HASH_RE = /^[0-9a-f]{64}$/;

export interface SignedHead {
  v: 1;
  seq: number;
  hash: string;
  /** The UTC day it was signed. */
  day: string;
  /** base64 Ed25519 public key of the server's head key. */
  key: string;
  signature: string;
}

/** frame("tipline audit signed head v1", u64 seq, hash (32 bytes), day). */
function message(seq: number, hash: string, day: string): Uint8Array {
  return _frame(DOMAIN, _u64('seq', seq), fromHex(hash), utf8Encode(day));
}

export function signHead(head: ChainHead, day: string, key: SigningKeyPair): SignedHead {
  _assertSigningPair(key?.publicKey, key?.secretKey);
  if (!Number.isSafeInteger(head?.seq) || head.seq < 0 || typeof head.hash !== 'string' || !HASH_RE.test(head.hash)) throw new CryptoArgumentError('head: expected {seq ≥ 0, hash: 64 hex}');
  if (!AUDIT_DAY_RE.test(day)) throw new CryptoArgumentError('day: expected YYYY-MM-DD');
  return { v: 1, seq: head.seq, hash: head.hash, day, key: toBase64(key.publicKey), signature: toBase64(sign(message(head.seq, head.hash, day), key.secretKey)) };
}

/** Checks shape and signature (by the key it names, or by `expectedKey` when given). */
export function verifySignedHead(h: unknown, expectedKey?: string): SignedHead {
  const fail = (m: string) => new DocumentFormatError(`signed head: ${m}`);
  if (!_isPlainObject(h) || !_hasExactKeys(h, ['v', 'seq', 'hash', 'day', 'key', 'signature'])) throw fail('expected {v, seq, hash, day, key, signature}');
  if (h.v !== 1) throw fail(`unsupported version ${String(h.v)}`);
  if (typeof h.seq !== 'number' || !Number.isSafeInteger(h.seq) || h.seq < 0) throw fail('seq must be a whole number ≥ 0');
  if (typeof h.hash !== 'string' || !HASH_RE.test(h.hash)) throw fail('hash must be 64 lowercase hex digits');
  if (typeof h.day !== 'string' || !AUDIT_DAY_RE.test(h.day)) throw fail('day must be YYYY-MM-DD');
  let key: Uint8Array, sig: Uint8Array;
  try {
    key = fromBase64(String(h.key));
    sig = fromBase64(String(h.signature));
  } catch {
    throw fail('key and signature must be base64');
  }
  if (key.length !== 32 || sig.length !== 64) throw fail('key must be 32 bytes and signature 64');
  if (expectedKey !== undefined && h.key !== expectedKey) throw new BadSignatureError('signed head: signed by another key than the one pinned for this tip line');
  if (!verify(sig, message(h.seq, h.hash, h.day), key)) throw new BadSignatureError('signed head: bad signature');
  return h as unknown as SignedHead;
}
