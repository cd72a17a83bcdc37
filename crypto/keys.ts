// Key pairs, fingerprints and detached signatures (Ed25519 for signing, X25519 for desk encryption keys).
import { _abytes, _astring } from './_guard.js';
import { concatBytes, equalBytes, toBase32, utf8Encode } from './bytes.js';
import { CryptoArgumentError, FingerprintFormatError } from './errors.js';
import { sodium } from './sodium.js';

export interface SigningKeyPair {
  publicKey: Uint8Array; // Ed25519, 32 bytes
  secretKey: Uint8Array; // libsodium form: seed || publicKey, 64 bytes
}

export interface DeskKeyPair {
  boxPublic: Uint8Array; // X25519, 32 bytes
  boxSecret: Uint8Array; // 32 bytes
  signPublic: Uint8Array; // Ed25519, 32 bytes
  signSecret: Uint8Array; // 64 bytes
}

export const PUBLIC_KEY_LENGTH = 32;
export const SIGN_SECRET_LENGTH = 64;
export const BOX_SECRET_LENGTH = 32;
export const SIGNATURE_LENGTH = 64;

export function generateSigningKey(): SigningKeyPair {
  const kp = sodium().crypto_sign_keypair();
  return { publicKey: kp.publicKey, secretKey: kp.privateKey };
}

export function generateDeskKey(): DeskKeyPair {
  const box = sodium().crypto_box_keypair();
  const sig = sodium().crypto_sign_keypair();
  return { boxPublic: box.publicKey, boxSecret: box.privateKey, signPublic: sig.publicKey, signSecret: sig.privateKey };
}

const FP_CONTEXT = utf8Encode('tipline fingerprint v1');
/** 20 bytes = 160 bits = exactly 32 base32 characters. A second-preimage needs ~2^160 work. */
const FP_BYTES = 20;
const FP_CHARS = 32;

/**
 * Human-checkable fingerprint of a public key, e.g. "abcd efgh ... " (8 groups of 4). Domain-separated so a
 * fingerprint can never be confused with a hash of the same key computed for another purpose.
 */
export function fingerprint(publicKey: Uint8Array): string {
  _abytes('publicKey', publicKey, PUBLIC_KEY_LENGTH);
  const h = sodium().crypto_generichash(32, concatBytes(FP_CONTEXT, publicKey), null);
  const b32 = toBase32(h.subarray(0, FP_BYTES));
  return b32.match(/.{4}/g)!.join(' ');
}

/** Accepts a fingerprint as printed, typed or read aloud ("ABCD-efgh …"); returns the compact 32-char form. */
export function normalizeFingerprint(s: string): string {
  _astring('fingerprint', s);
  const compact = s.replace(/[\s-]/g, '').toLowerCase();
  if (compact.length !== FP_CHARS) {
    throw new FingerprintFormatError(`fingerprint must have ${FP_CHARS} base32 characters, got ${compact.length}`);
  }
  if (!/^[a-z2-7]+$/.test(compact)) {
    throw new FingerprintFormatError('fingerprint may contain only the letters a-z and digits 2-7');
  }
  return compact;
}

/** The display form (8 groups of 4) of a fingerprint in any accepted spelling: what people compare. */
export function displayFingerprint(s: string): string {
  return normalizeFingerprint(s).match(/.{4}/g)!.join(' ');
}

/** True when both fingerprints denote the same key, whatever their spacing or case. */
export function sameFingerprint(a: string, b: string): boolean {
  return equalBytes(utf8Encode(normalizeFingerprint(a)), utf8Encode(normalizeFingerprint(b)));
}

export function sign(message: Uint8Array, secretKey: Uint8Array): Uint8Array {
  _abytes('message', message);
  _abytes('secretKey', secretKey, SIGN_SECRET_LENGTH);
  return sodium().crypto_sign_detached(message, secretKey);
}

/**
 * A signature of the wrong length is `false`, not an exception: signatures arrive from untrusted callers (staff
 * request headers), and an invalid signature is the answer, not a programming error. The public key, which
 * comes from a trusted directory, is guarded strictly.
 */
export function verify(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean {
  _abytes('signature', signature);
  _abytes('message', message);
  _abytes('publicKey', publicKey, PUBLIC_KEY_LENGTH);
  if (signature.length !== SIGNATURE_LENGTH) return false;
  try {
    return sodium().crypto_sign_verify_detached(signature, message, publicKey);
  } catch {
    return false; // libsodium.js throws on some malformed public keys; for a verifier that is just "invalid"
  }
}

/**
 * True when an Ed25519 secret key (libsodium's seed || public) is whole: the public key derived from its seed
 * equals its second half and `publicKey`. libsodium signs with the stored half as it is; a wrong half gives
 * signatures no one can verify, and signatures of one message under two different halves reveal the secret
 * scalar (the Ed25519 "double public key" misuse).
 */
export function _signingPairMatches(publicKey: Uint8Array, secretKey: Uint8Array): boolean {
  _abytes('publicKey', publicKey, PUBLIC_KEY_LENGTH);
  _abytes('secretKey', secretKey, SIGN_SECRET_LENGTH);
  const derived = sodium().crypto_sign_seed_keypair(secretKey.subarray(0, 32));
  derived.privateKey.fill(0);
  return equalBytes(derived.publicKey, secretKey.subarray(32)) && equalBytes(derived.publicKey, publicKey);
}

/** Throws unless the secret key belongs to the public key (see _signingPairMatches). */
export function _assertSigningPair(publicKey: Uint8Array, secretKey: Uint8Array): void {
  if (!_signingPairMatches(publicKey, secretKey)) throw new CryptoArgumentError('secretKey does not belong to publicKey');
}
