// Recipient stanzas: the content key K sealed to each recipient's X25519 key (FORMAT.md §Stanzas).
// Byte-compatible with libsodium's crypto_box_seal, rebuilt here so the ephemeral key can come from injected
// randomness (deterministic test vectors). No recipient identifiers: a stanza says nothing about who can open it,
// so the server cannot tell which desks a tip was for.
import { _abytes } from '../_guard.js';
import { concatBytes, equalBytes } from '../bytes.js';
import { CryptoArgumentError } from '../errors.js';
import { sodium } from '../sodium.js';
import { STANZA_LENGTH } from './format.js';

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

/**
 * Tries every stanza with libsodium's own crypto_box_seal_open. Returns K, or undefined when none opens.
 * All stanzas are tried even after a success, so timing does not reveal which stanza is ours.
 */
export function _openStanzas(
  stanzas: Uint8Array,
  identity: { boxPublic: Uint8Array; boxSecret: Uint8Array },
): Uint8Array | undefined {
  const s = sodium();
  let found: Uint8Array | undefined;
  for (let off = 0; off + STANZA_LENGTH <= stanzas.length; off += STANZA_LENGTH) {
    try {
      const k = s.crypto_box_seal_open(stanzas.subarray(off, off + STANZA_LENGTH), identity.boxPublic, identity.boxSecret);
      if (k.length === FILE_KEY_LENGTH) found ??= k;
    } catch {
      // not for this identity
    }
  }
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
