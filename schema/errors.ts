// Every error the server answers with: a code a client can act on, and a message for people. Clients decide by
// the code (and the HTTP status), never by the message, which may change.
import * as z from 'zod';

export const ErrorCode = z.enum([
  'TIPLINE_ERR_BAD_REQUEST',
  'TIPLINE_ERR_NOT_FOUND',
  'TIPLINE_ERR_BODY_TOO_LARGE',
  'TIPLINE_ERR_UNSUPPORTED_MEDIA_TYPE',
  /** The proof-of-work token cannot be parsed (not base64url, wrong length or version). */
  'TIPLINE_ERR_POW_MALFORMED',
  /** The token's MAC does not verify: it was not issued by this server (or its secret changed). */
  'TIPLINE_ERR_POW_FOREIGN',
  /** The challenge has expired: fetch a new one. */
  'TIPLINE_ERR_POW_EXPIRED',
  /** The challenge asks for fewer bits than the server now requires: fetch a new one. */
  'TIPLINE_ERR_POW_TOO_EASY',
  /** The challenge was priced for fewer bytes than the upload claims: fetch one for this size. */
  'TIPLINE_ERR_POW_TOO_SMALL',
  /** The nonce does not meet the challenge's difficulty. */
  'TIPLINE_ERR_POW_WRONG',
  /** The solution was already spent on another upload: fetch a new challenge. */
  'TIPLINE_ERR_POW_REUSED',
  'TIPLINE_ERR_ENVELOPE_TOO_LARGE',
  'TIPLINE_ERR_FRAMING',
  'TIPLINE_ERR_UPLOAD_UNKNOWN',
  'TIPLINE_ERR_CHUNK_OUT_OF_RANGE',
  'TIPLINE_ERR_CHUNK_SIZE',
  'TIPLINE_ERR_UPLOAD_INCOMPLETE',
  'TIPLINE_ERR_NO_DIRECTORY',
  /** This tip line publishes no such signed document (policy, canary, client manifest, audit head) yet. */
  'TIPLINE_ERR_NO_DOCUMENT',
  'TIPLINE_ERR_UNAUTHENTICATED',
  'TIPLINE_ERR_FORBIDDEN',
  'TIPLINE_ERR_REPLAYED',
  'TIPLINE_ERR_STALE_REQUEST',
  'TIPLINE_ERR_TIP_UNKNOWN',
  'TIPLINE_ERR_BUSY',
  /** Too many requests at once for one upload: wait Retry-After seconds, then send again. */
  'TIPLINE_ERR_RATE_LIMITED',
  /** No live reply has this tag (never posted, expired or already deleted). */
  'TIPLINE_ERR_REPLY_UNKNOWN',
  /** The deletion token does not match the reply's: only the source who opened the reply holds it. */
  'TIPLINE_ERR_REPLY_FORBIDDEN',
  /** A posted reply is not one: tag, hash or envelope not canonical, or not exactly one stanza and one chunk. */
  'TIPLINE_ERR_REPLY_MALFORMED',
  /** A reply with this tag is already stored: tags are fresh per reply, so make a new one. */
  'TIPLINE_ERR_REPLY_EXISTS',
  /** A staff deletion without a valid deletion statement signed by the desk's key (an old client: update tipline). */
  'TIPLINE_ERR_DELETION_STATEMENT',
  /** A posted desk note is not one: its envelope is not canonical standard base64, empty or too large. */
  'TIPLINE_ERR_NOTE_MALFORMED',
  /** A desk note's expiry day is outside what the policy allows (today to today + the tips' retention). */
  'TIPLINE_ERR_NOTE_EXPIRY',
  'TIPLINE_ERR_INTERNAL',
]);
export type ErrorCode = z.infer<typeof ErrorCode>;

/** The HTTP status that comes with each code: part of the contract, so a client may rely on either. */
export const ERROR_STATUS: Readonly<Record<ErrorCode, number>> = {
  TIPLINE_ERR_BAD_REQUEST: 400,
  TIPLINE_ERR_NOT_FOUND: 404,
  TIPLINE_ERR_BODY_TOO_LARGE: 413,
  TIPLINE_ERR_UNSUPPORTED_MEDIA_TYPE: 415,
  TIPLINE_ERR_POW_MALFORMED: 403,
  TIPLINE_ERR_POW_FOREIGN: 403,
  TIPLINE_ERR_POW_EXPIRED: 403,
  TIPLINE_ERR_POW_TOO_EASY: 403,
  TIPLINE_ERR_POW_TOO_SMALL: 403,
  TIPLINE_ERR_POW_WRONG: 403,
  TIPLINE_ERR_POW_REUSED: 403,
  TIPLINE_ERR_ENVELOPE_TOO_LARGE: 413,
  TIPLINE_ERR_FRAMING: 400,
  TIPLINE_ERR_UPLOAD_UNKNOWN: 404,
  TIPLINE_ERR_CHUNK_OUT_OF_RANGE: 400,
  TIPLINE_ERR_CHUNK_SIZE: 400,
  TIPLINE_ERR_UPLOAD_INCOMPLETE: 409,
  TIPLINE_ERR_NO_DIRECTORY: 503,
  TIPLINE_ERR_NO_DOCUMENT: 404,
  TIPLINE_ERR_UNAUTHENTICATED: 401,
  TIPLINE_ERR_FORBIDDEN: 403,
  TIPLINE_ERR_REPLAYED: 401,
  TIPLINE_ERR_STALE_REQUEST: 401,
  TIPLINE_ERR_TIP_UNKNOWN: 404,
  TIPLINE_ERR_BUSY: 503,
  TIPLINE_ERR_RATE_LIMITED: 429,
  TIPLINE_ERR_REPLY_UNKNOWN: 404,
  TIPLINE_ERR_REPLY_FORBIDDEN: 403,
  TIPLINE_ERR_REPLY_MALFORMED: 400,
  TIPLINE_ERR_REPLY_EXISTS: 409,
  TIPLINE_ERR_DELETION_STATEMENT: 400,
  TIPLINE_ERR_NOTE_MALFORMED: 400,
  TIPLINE_ERR_NOTE_EXPIRY: 400,
  TIPLINE_ERR_INTERNAL: 500,
};

/** Every 4xx and 5xx answer of the API (framework errors and malformed HTTP included). */
export const ErrorBody = z.object({
  error: z.object({ code: ErrorCode, message: z.string().max(1000) }),
});
export type ErrorBody = z.infer<typeof ErrorBody>;
