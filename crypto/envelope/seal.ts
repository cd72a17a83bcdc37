// Recipient stanzas: the content key K sealed to each recipient's X25519 key, and the header's commitment to K
// (FORMAT.md §Stanzas, §Key commitment).
// Byte-compatible with libsodium's crypto_box_seal, rebuilt here so the ephemeral key can come from injected
// randomness (deterministic test vectors). No recipient identifiers: a stanza says nothing about who can open it,
// so the server cannot tell which desks a tip was for.
import { _abytes } from '../_guard.js';
import { concatBytes, equalBytes, utf8Encode } from '../bytes.js';
import { CryptoArgumentError, KeyCommitmentError, NotForYouError } from '../errors.js';
import { sodium } from '../sodium.js';
import { COMMITMENT_LENGTH, STANZA_LENGTH } from './format.js';

export const FILE_KEY_LENGTH = 32;
const NONCE_LENGTH = 24; // crypto_box_NONCEBYTES

/** epk || crypto_box_easy(K, nonce = BLAKE2b-192(epk || rpk), rpk, esk): crypto_box_seal's layout. */
export function _sealStanza(fileKey: Uint8Array, recipient: Uint8Array, seed: Uint8Array): Uint8Array {
  _abytes('fileKey', fileKey, FILE_KEY_LENGTH);
  _abytes('recipient', recipient, 32);
  _abytes('seed', seed, 32);
  const s = sodium();
  const eph = s.crypto_box_seed_keypair(seed);
  const nonce = s.crypto_generichash(NONCE_LENGTH, concatBytes(eph.publicKey, recipient), null);
  let boxed: Uint8Array;
  try {
    boxed = s.crypto_box_easy(fileKey, nonce, recipient, eph.privateKey);
  } catch {
    // libsodium refuses low-order points (the shared secret would be all zeros, readable by anyone).
    throw new CryptoArgumentError('recipient is not a valid X25519 public key');
  } finally {
    eph.privateKey.fill(0);
  }
  const stanza = concatBytes(eph.publicKey, boxed);
  if (stanza.length !== STANZA_LENGTH) throw new Error('internal: stanza length');
  return stanza;
}

const COMMITMENT_INFO = utf8Encode('tipline v2 key commitment');

/**
 * commitment = BLAKE2b-256(key = K, "tipline v2 key commitment"). Threat: a sender sealing different content keys
 * to different desks, so that one envelope means one thing to one desk and another (or "tampered") to the next.
 * Two keys with one commitment would be a BLAKE2b collision; the header digest (every chunk's AAD) covers it.
 */
export function _keyCommitment(fileKey: Uint8Array): Uint8Array {
  _abytes('fileKey', fileKey, FILE_KEY_LENGTH);
  return sodium().crypto_generichash(COMMITMENT_LENGTH, COMMITMENT_INFO, fileKey);
}

/**
 * Tries every stanza with libsodium's own crypto_box_seal_open and returns the committed K. Every stanza that
 * opens for this identity must hold the key the header commits to (KeyCommitmentError otherwise); none opening
 * is NotForYouError. All stanzas are tried even after a success, so timing does not reveal which stanza is ours.
 */
export function _openStanzas(
  stanzas: Uint8Array,
  commitment: Uint8Array,
  identity: { boxPublic: Uint8Array; boxSecret: Uint8Array },
): Uint8Array {
  _abytes('commitment', commitment, COMMITMENT_LENGTH);
  const s = sodium();
  let found: Uint8Array | undefined;
  let mismatched = false;
  for (let off = 0; off + STANZA_LENGTH <= stanzas.length; off += STANZA_LENGTH) {
    let k: Uint8Array;
    try {
      k = s.crypto_box_seal_open(stanzas.subarray(off, off + STANZA_LENGTH), identity.boxPublic, identity.boxSecret);
    } catch {
      continue; // not for this identity
    }
    if (k.length !== FILE_KEY_LENGTH) continue;
    if (equalBytes(_keyCommitment(k), commitment)) found ??= k;
    else mismatched = true;
  }
  if (mismatched) {
    found?.fill(0);
    throw new KeyCommitmentError(
      'this envelope does not give every desk the same contents: the content key sealed to you is not the one its header commits to (the sender did this, or someone altered the header after sending)',
    );
  }
  if (!found) throw new NotForYouError('no recipient stanza opens with this key');
  return found;
}

/** The identity's secret key must match its public key: a mismatch would silently open nothing. */
export function _checkIdentity(identity: { boxPublic: Uint8Array; boxSecret: Uint8Array }): void {
  if (typeof identity !== 'object' || identity === null) throw new CryptoArgumentError('identity: expected an object');
  _abytes('identity.boxPublic', identity.boxPublic, 32);
  _abytes('identity.boxSecret', identity.boxSecret, 32);
  if (!equalBytes(sodium().crypto_scalarmult_base(identity.boxSecret), identity.boxPublic)) {
    throw new CryptoArgumentError('identity.boxSecret does not belong to identity.boxPublic');
  }
}
