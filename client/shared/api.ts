// The tip line's HTTP API as a source's client speaks it, the same for the command line and the page: every
// answer is checked against the wire schemas (schema/wire.ts) and against what was asked before anything is
// done with it, and every error answer becomes an ApiError carrying the server's code. Only the transport
// differs (undici on one pipelined connection in Node, fetch in the page).
import * as z from 'zod';
import { ErrorBody } from '../../schema/errors.js';
import {
  ChunkAccepted,
  MAX_LIVE_REPLIES,
  POW_HEADERS,
  PowChallenge,
  REPLY_FETCH_SLOTS,
  REPLY_LIST_PATH,
  Receipt,
  ReplyDeleted,
  UploadCreated,
  UploadStatus,
  replySlotBytes,
} from '../../schema/wire.js';
import { REPLY_TAG_BYTES } from '../../crypto/reply-tags.js';
import { REPLY_ENVELOPE_LENGTH } from '../../crypto/reply.js';
import { toBase64Url, utf8Encode } from '../../crypto/bytes.js';
import { POW_FREE_BYTES, POW_MAX_BASE_DIFFICULTY, POW_MAX_LOAD_BITS, powSizeBits } from '../../crypto/pow.js';
import { ApiError, MalformedAnswer } from './errors.js';

export interface WireRequest {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Absolute path with query, e.g. /api/v1/pow. */
  path: string;
  headers?: Record<string, string>;
  body?: Uint8Array;
  /** Safe to send twice, so it may be pipelined behind other requests (default: GET and PUT). */
  idempotent?: boolean;
}

export interface WireAnswer {
  status: number;
  body: Uint8Array;
  /** The Retry-After header of a refusal (429/503), as sent. */
  retryAfter?: string | undefined;
}

export interface Transport {
  /** Sends one request and reads its whole answer (at most `limit` bytes); throws NetworkError when the
   * exchange fails, whatever the reason. */
  send(req: WireRequest, limit: number): Promise<WireAnswer>;
}

/** Bounds on what an answer may weigh: a hostile server must not make a client buffer without end. */
const JSON_LIMIT = 64 * 1024;
const DIRECTORY_LIMIT = 1024 * 1024;
/** The base difficulty a server may ask before its challenges are refused: the default is 11 (about 1.5 s of
 * hashing at Tor Browser's Safer level), so an operator may double the work twice. */
export const POW_BASE_CAP = POW_MAX_BASE_DIFFICULTY;
/** The most leading zero bits a source attempts for an envelope of `size` bytes: the capped base, the size's
 * bits and the most a busy server may add. For a one-chunk tip 17 bits, 2^28 PBKDF2 iterations: about 90 s at
 * Safer; for 2.5 GiB 23 bits, about 95 minutes, a little longer than the bytes take over Tor. */
export function maxPowDifficulty(size: number): number {
  return POW_BASE_CAP + powSizeBits(size) + POW_MAX_LOAD_BITS;
}
/** The cap for a challenge asked without a size (priced for one chunk). */
export const MAX_POW_DIFFICULTY = maxPowDifficulty(POW_FREE_BYTES);

const printableText = (s: string, max = 300) => s.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, ' ').slice(0, max);

function parseJson(a: WireAnswer): unknown {
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(a.body));
  } catch {
    return undefined;
  }
}

/** Retry-After in delay-seconds form (the only one this server sends), bounded: a hostile server must not park a
 * client for a day. Dates and junk are ignored (the client's own backoff applies). */
export function retryAfterMs(h: string | undefined): number | undefined {
  if (h === undefined || !/^\s*\d{1,6}\s*$/.test(h)) return undefined;
  return Math.min(Number(h), 3600) * 1000;
}

/** The error an answer with an error status stands for. */
export function apiError(a: WireAnswer, what: string): ApiError {
  const e = ErrorBody.safeParse(parseJson(a));
  // An error without the wire's error body (a proxy's page, a crash) still has a status to act on.
  const code = e.success ? e.data.error.code : 'unknown';
  const message = e.success ? printableText(e.data.error.message, 500) : `HTTP ${a.status}`;
  return new ApiError(a.status, code, `${what}: ${message} (${a.status})`, retryAfterMs(a.retryAfter));
}

/** Turns an answer into its checked value, or throws: ApiError for an error status, MalformedAnswer for anything
 * the schema does not describe. */
export function checked<S extends z.ZodType>(a: WireAnswer, schema: S, what: string, ok: readonly number[] = [200, 201]): z.infer<S> {
  if (!ok.includes(a.status)) throw apiError(a, what);
  const json = parseJson(a);
  const r = schema.safeParse(json);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new MalformedAnswer(`${what}: the server's answer is malformed${issue ? ` (${printableText(issue.path.join('.'), 60) || 'body'}: ${printableText(issue.message, 120)})` : ''}`);
  }
  return r.data;
}

/** How many chunks an envelope of `size` bytes makes at `chunkSize`. */
export function chunkCount(size: number, chunkSize: number): number {
  return Math.ceil(size / chunkSize);
}

const idPath = (id: string) => encodeURIComponent(id);

export class SourceApi {
  constructor(readonly transport: Transport) {}

  private async call<S extends z.ZodType>(req: WireRequest, schema: S, what: string, limit = JSON_LIMIT): Promise<z.infer<S>> {
    return checked(await this.transport.send(req, limit), schema, what);
  }

  /** The signed directory, unverified: the caller verifies it against the fingerprint it trusts. */
  async directory(): Promise<unknown> {
    return this.call({ method: 'GET', path: '/.well-known/tipline/directory' }, z.record(z.string(), z.unknown()), 'fetching the directory', DIRECTORY_LIMIT);
  }

  /** A proof-of-work challenge priced for an envelope of `size` bytes (without one: a one-chunk envelope). */
  async pow(size?: number): Promise<PowChallenge> {
    if (size !== undefined && (!Number.isSafeInteger(size) || size < 1)) throw new RangeError(`envelope size must be a positive integer, got ${size}`);
    const path = size === undefined ? '/api/v1/pow' : `/api/v1/pow?size=${size}`;
    const c = await this.call({ method: 'GET', path }, PowChallenge, 'fetching a proof-of-work challenge');
    // A hostile server could ask a source's device to hash for hours (32 bits: about ten hours at Tor Browser's
    // Safer level), heating it and keeping the page open: more than the size and a busy server justify is
    // refused, not attempted. The cap follows the size asked for, never the size the answer claims.
    const cap = maxPowDifficulty(size ?? POW_FREE_BYTES);
    if (c.difficulty > cap) {
      throw new MalformedAnswer(`the server asks for a proof-of-work of ${c.difficulty} bits, more than a source's device should do (at most ${cap} for ${size ?? 'a one-chunk'}${size === undefined ? '' : '-byte'} envelope); try again later`);
    }
    if (size !== undefined && c.size < size) throw new MalformedAnswer(`fetching a proof-of-work challenge: the server priced it for ${c.size} bytes, not the ${size} asked for`);
    return c;
  }

  /**
   * Opens an upload with its first chunk (exactly min(size, chunk size) bytes). The answer is the upload to
   * continue or, when the chunk is the whole envelope, the receipt. The same request sent again after its
   * answer was lost finds the same upload (the server derives its id from the solution), so it is idempotent.
   */
  async open(pow: { token: string; nonce: string }, size: number, chunk0: Uint8Array, chunkSize: number): Promise<UploadCreated | Receipt> {
    const whole = chunk0.length === size;
    const req: WireRequest = {
      method: 'POST',
      path: `/api/v1/uploads?size=${size}${whole ? '&finish=1' : ''}`,
      headers: { 'content-type': 'application/octet-stream', [POW_HEADERS.token]: pow.token, [POW_HEADERS.nonce]: pow.nonce },
      body: chunk0,
      idempotent: true,
    };
    if (whole) return this.call(req, Receipt, 'sending the tip');
    const u = await this.call(req, UploadCreated, 'opening the upload');
    // An answer that contradicts the request would have the client loop or send chunks the server refuses.
    if (u.chunk_size !== chunkSize || u.chunk_count !== chunkCount(size, chunkSize)) {
      throw new MalformedAnswer(`opening the upload: the server's answer is malformed (chunk_size ${u.chunk_size}, chunk_count ${u.chunk_count} for ${size} bytes in chunks of ${chunkSize})`);
    }
    return u;
  }

  putChunk(id: string, n: number, data: Uint8Array, finish: boolean): Promise<Receipt | z.infer<typeof ChunkAccepted>> {
    const req: WireRequest = { method: 'PUT', path: `/api/v1/uploads/${idPath(id)}/chunks/${n}${finish ? '?finish=1' : ''}`, headers: { 'content-type': 'application/octet-stream' }, body: data };
    return finish ? this.call(req, Receipt, 'sending the last chunk') : this.call(req, ChunkAccepted, `sending chunk ${n}`);
  }

  finish(id: string): Promise<Receipt> {
    return this.call({ method: 'POST', path: `/api/v1/uploads/${idPath(id)}/finish`, idempotent: true }, Receipt, 'finishing the upload');
  }

  status(id: string): Promise<UploadStatus> {
    return this.call({ method: 'GET', path: `/api/v1/uploads/${idPath(id)}` }, UploadStatus, 'checking the upload');
  }

  /** Every live reply tag (16 bytes each, laid end to end): the same list for every visitor. */
  async replyTags(): Promise<Uint8Array> {
    const a = await this.transport.send({ method: 'GET', path: REPLY_LIST_PATH }, MAX_LIVE_REPLIES * REPLY_TAG_BYTES);
    if (a.status !== 200) throw apiError(a, 'fetching the reply list');
    if (a.body.length % REPLY_TAG_BYTES !== 0) throw new MalformedAnswer(`fetching the reply list: ${a.body.length} bytes is not a list of ${REPLY_TAG_BYTES}-byte tags`);
    return a.body;
  }

  /** The envelopes of exactly REPLY_FETCH_SLOTS tags, in the order asked: undefined where the server had none. */
  async replyEnvelopes(tags: Uint8Array[]): Promise<(Uint8Array | undefined)[]> {
    if (tags.length !== REPLY_FETCH_SLOTS || tags.some((t) => t.length !== REPLY_TAG_BYTES)) throw new RangeError(`expected ${REPLY_FETCH_SLOTS} tags of ${REPLY_TAG_BYTES} bytes`);
    const slot = replySlotBytes(REPLY_ENVELOPE_LENGTH);
    const body = utf8Encode(JSON.stringify({ tags: tags.map((t) => toBase64Url(t)) }));
    const a = await this.transport.send({ method: 'POST', path: `${REPLY_LIST_PATH}/fetch`, headers: { 'content-type': 'application/json' }, body, idempotent: true }, slot * REPLY_FETCH_SLOTS);
    if (a.status !== 200) throw apiError(a, 'fetching replies');
    if (a.body.length !== slot * REPLY_FETCH_SLOTS) throw new MalformedAnswer(`fetching replies: ${a.body.length} bytes, not ${slot * REPLY_FETCH_SLOTS}`);
    return tags.map((_, i) => {
      const flag = a.body[i * slot];
      if (flag !== 0 && flag !== 1) throw new MalformedAnswer('fetching replies: the server\'s answer is malformed');
      return flag === 1 ? a.body.slice(i * slot + 1, (i + 1) * slot) : undefined;
    });
  }

  /** Deletes one reply with the token from inside it. */
  async deleteReply(tag: Uint8Array, token: Uint8Array): Promise<void> {
    const body = utf8Encode(JSON.stringify({ tag: toBase64Url(tag), token: toBase64Url(token) }));
    await this.call({ method: 'POST', path: `${REPLY_LIST_PATH}/delete`, headers: { 'content-type': 'application/json' }, body, idempotent: true }, ReplyDeleted, 'deleting a reply');
  }
}
