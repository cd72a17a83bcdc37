// Every error crypto/ throws on purpose. Each has a stable `code` so the server, the CLI and the browser can map
// it (to an HTTP status, an exit message, a translated string) without matching on message text.

export abstract class TiplineCryptoError extends Error {
  abstract readonly code: string;
}

/** A caller passed a value of the wrong type or length: a programming error, not hostile input. */
export class CryptoArgumentError extends TiplineCryptoError {
  override readonly name = 'CryptoArgumentError';
  readonly code = 'TIPLINE_ERR_CRYPTO_ARGUMENT';
}

/** Text that should be base64 / base64url / hex / base32 / UTF-8 is not, or is not in canonical form. */
export class EncodingError extends TiplineCryptoError {
  override readonly name = 'EncodingError';
  readonly code = 'TIPLINE_ERR_ENCODING';
}

// ---- keys, key files ----

export class FingerprintFormatError extends TiplineCryptoError {
  override readonly name = 'FingerprintFormatError';
  readonly code = 'TIPLINE_ERR_FINGERPRINT_FORMAT';
}

/** The key file did not decrypt. Also what a modified ciphertext looks like: secretbox cannot tell them apart. */
export class WrongPassphraseError extends TiplineCryptoError {
  override readonly name = 'WrongPassphraseError';
  readonly code = 'TIPLINE_ERR_WRONG_PASSPHRASE';
}

export class KeyFileFormatError extends TiplineCryptoError {
  override readonly name = 'KeyFileFormatError';
  readonly code = 'TIPLINE_ERR_KEYFILE_FORMAT';
}

// ---- signed documents, directory ----

export class FingerprintMismatchError extends TiplineCryptoError {
  override readonly name = 'FingerprintMismatchError';
  readonly code = 'TIPLINE_ERR_FINGERPRINT_MISMATCH';
  constructor(
    readonly expected: string,
    readonly actual: string,
  ) {
    super(`document is signed by root key ${actual}, expected ${expected}`);
  }
}

export class BadSignatureError extends TiplineCryptoError {
  override readonly name = 'BadSignatureError';
  readonly code = 'TIPLINE_ERR_BAD_SIGNATURE';
}

export class DocumentFormatError extends TiplineCryptoError {
  override readonly name = 'DocumentFormatError';
  readonly code = 'TIPLINE_ERR_DOCUMENT_FORMAT';
}

export class DirectoryExpiredError extends TiplineCryptoError {
  override readonly name = 'DirectoryExpiredError';
  readonly code = 'TIPLINE_ERR_DIRECTORY_EXPIRED';
  constructor(readonly expires: string, readonly now: string, what = 'directory') {
    super(`${what} expired at ${expires} (now ${now})`);
  }
}

/**
 * A directory older than one already accepted for the same root (a lower serial), or one with the serial of an
 * accepted directory but other contents. Threat: an operator replaying an old directory that still lists a
 * desk since removed.
 */
export class DirectoryRollbackError extends TiplineCryptoError {
  override readonly name = 'DirectoryRollbackError';
  readonly code = 'TIPLINE_ERR_DIRECTORY_ROLLBACK';
}

// ---- envelope ----

/** Server-side length/header check failed (no key involved). */
export class FramingError extends TiplineCryptoError {
  override readonly name = 'FramingError';
  readonly code = 'TIPLINE_ERR_FRAMING';
}

/** No stanza opens with this identity. Says nothing about whether the envelope is intact. */
export class NotForYouError extends TiplineCryptoError {
  override readonly name = 'NotForYouError';
  readonly code = 'TIPLINE_ERR_NOT_FOR_YOU';
}

/**
 * A stanza opened for this desk, but to a content key other than the one the header commits to: the envelope
 * does not mean the same thing to every desk it names (a sender sealing different keys to different desks, or a
 * header altered after sending). Distinct from TamperedError so that it is never blamed on a chunk.
 */
export class KeyCommitmentError extends TiplineCryptoError {
  override readonly name = 'KeyCommitmentError';
  readonly code = 'TIPLINE_ERR_KEY_COMMITMENT';
}

/** A chunk failed authentication: modified, reordered, spliced, or a header that is not the one sealed. */
export class TamperedError extends TiplineCryptoError {
  override readonly name = 'TamperedError';
  readonly code = 'TIPLINE_ERR_TAMPERED';
}

/** The input ended before the final chunk, provably (see FORMAT.md §Decoding for when it is provable). */
export class TruncatedError extends TiplineCryptoError {
  override readonly name = 'TruncatedError';
  readonly code = 'TIPLINE_ERR_TRUNCATED';
}

/** Authentic or unauthenticated bytes that break a format rule: magic, version, manifest, padding, trailing data. */
export class MalformedEnvelopeError extends TiplineCryptoError {
  override readonly name = 'MalformedEnvelopeError';
  readonly code = 'TIPLINE_ERR_MALFORMED_ENVELOPE';
}

/** encryptEnvelope: a file stream yielded more or fewer bytes than its manifest entry declares. */
export class FileSizeMismatchError extends TiplineCryptoError {
  override readonly name = 'FileSizeMismatchError';
  readonly code = 'TIPLINE_ERR_FILE_SIZE_MISMATCH';
}
