// Replies from a desk to a source (PROTOCOL.md §Replies). A reply is an ordinary envelope (FORMAT.md) sealed to
// the source's reply key alone, text only, padded to one size for every reply; inside, the desk's Ed25519
// signature over the text, the day and the source's reply key (so it cannot be passed off as written to another
// source), and a random token whose hash the server keeps: presenting the token deletes the reply, and only the
// source, who can open the envelope, learns it. Pure: no I/O, no clock (the caller gives the day).
import { _frame } from './_frame.js';
import { _abytes } from './_guard.js';
import { equalBytes, fromBase64, toBase32, toBase64, utf8Encode } from './bytes.js';
import { BadSignatureError, CryptoArgumentError, MalformedEnvelopeError } from './errors.js';
import { _assertSigningPair, sign, verify } from './keys.js';
import { sodium } from './sodium.js';
import { decryptEnvelope, encryptEnvelope, envelopeLength, contentLength, sentDay, type Identity, type Manifest } from './envelope/index.js';
import type { Directory, Recipient } from './directory.js';

/** One stanza and one padded chunk: every reply envelope has exactly this length. */
export const REPLY_ENVELOPE_LENGTH = envelopeLength(1, 65_536);
export const REPLY_DELETE_TOKEN_BYTES = 32;
export const REPLY_DELETE_HASH_BYTES = 32;

const SIGN_DOMAIN = utf8Encode('tipline reply v1');
const DELETE_DOMAIN = utf8Encode('tipline reply delete v1');
const THREAD_DOMAIN = utf8Encode('tipline thread v1');

/** The text a reply can carry: the manifest and its text must fit one padded chunk (64 KiB). */
export function replyFits(message: string): boolean {
  return contentLength({ v: 2, sent_day: '2000-01-01', message, files: [], answer: { desk_key: 'A'.repeat(43) + '=', delete_token: 'A'.repeat(43) + '=', signature: 'A'.repeat(86) + '==' } }) <= 65_536;
}

/** True for an X25519 public key that gives every sender the same shared secret (a point of small order). */
export function isWeakBoxKey(publicKey: Uint8Array): boolean {
  _abytes('publicKey', publicKey, 32);
  try {
    // libsodium refuses a scalar multiplication whose result is all zeros: exactly the small-order points.
    sodium().crypto_scalarmult(sodium().randombytes_buf(32), publicKey);
    return false;
  } catch {
    return true;
  }
}

function signedBytes(toBoxKey: Uint8Array, day: string, message: string, deskKey: Uint8Array): Uint8Array {
  return _frame(SIGN_DOMAIN, toBoxKey, utf8Encode(day), utf8Encode(message), deskKey);
}

/** The hash of a deletion token, as the server stores it. */
export function deleteHash(token: Uint8Array): Uint8Array {
  _abytes('token', token, REPLY_DELETE_TOKEN_BYTES);
  return sodium().crypto_generichash(REPLY_DELETE_HASH_BYTES, _frame(DELETE_DOMAIN, token), null);
}

export interface SealedReply {
  envelope: Uint8Array;
  /** What the server stores to check a deletion: never the token itself. */
  deleteHash: Uint8Array;
}

export interface ReplyDesk {
  signPublic: Uint8Array;
  signSecret: Uint8Array;
}

/** Seals a reply to a source's reply key (from the tip's manifest), signed by the desk. */
export async function sealReply(o: { toBoxKey: Uint8Array; message: string; desk: ReplyDesk; now: Date; random?: (n: number) => Uint8Array }): Promise<SealedReply> {
  _abytes('toBoxKey', o.toBoxKey, 32);
  _abytes('desk.signPublic', o.desk.signPublic, 32);
  // A secret key that is not the named key's would sign a reply every source refuses (BadSignatureError), found
  // only on the source's side: refuse it here, where the desk sees the error.
  _assertSigningPair(o.desk.signPublic, o.desk.signSecret);
  if (typeof o.message !== 'string') throw new CryptoArgumentError('message: expected a string');
  // Threat: a tip carrying a small-order "reply key" would make the reply readable by anyone.
  if (isWeakBoxKey(o.toBoxKey)) throw new CryptoArgumentError('the reply key is a weak (small-order) key: refusing to seal a reply to it');
  if (!replyFits(o.message)) throw new CryptoArgumentError('message: too long for a reply (at most about 64 KB of text)');
  const random = o.random ?? ((n: number) => sodium().randombytes_buf(n));
  const token = _abytes('random(32)', random(REPLY_DELETE_TOKEN_BYTES), REPLY_DELETE_TOKEN_BYTES).slice();
  const day = sentDay(o.now);
  const signature = sign(signedBytes(o.toBoxKey, day, o.message, o.desk.signPublic), o.desk.signSecret);
  const manifest: Manifest = {
    v: 2,
    sent_day: day,
    message: o.message,
    files: [],
    answer: { desk_key: toBase64(o.desk.signPublic), delete_token: toBase64(token), signature: toBase64(signature) },
  };
  const sealed = encryptEnvelope({ recipients: [o.toBoxKey], manifest, files: [], ...(o.random ? { random: o.random } : {}) });
  if (sealed.length !== REPLY_ENVELOPE_LENGTH) throw new Error('internal: a reply envelope of an unexpected length');
  const parts: Uint8Array[] = [];
  for await (const p of sealed.stream) parts.push(p.slice());
  const envelope = new Uint8Array(sealed.length);
  let off = 0;
  for (const p of parts) {
    envelope.set(p, off);
    off += p.length;
  }
  return { envelope, deleteHash: deleteHash(token) };
}

export interface OpenedReply {
  message: string;
  sentDay: string;
  /** The desk's Ed25519 key (base64), as signed. */
  deskKey: string;
  /** Presented to the server to delete this reply. */
  deleteToken: Uint8Array;
}

/** Opens a reply with the source's codename keys and checks the desk's signature (the caller checks the desk). */
export async function openReply(envelope: Uint8Array, identity: Identity): Promise<OpenedReply> {
  _abytes('envelope', envelope);
  let manifest: Manifest | undefined;
  async function* one() {
    yield envelope;
  }
  for await (const ev of decryptEnvelope(one(), identity)) if (ev.kind === 'manifest') manifest = ev.manifest;
  if (!manifest?.answer) throw new MalformedEnvelopeError('not a reply: the envelope carries no desk signature');
  const a = manifest.answer;
  const deskKey = fromBase64(a.desk_key);
  if (!verify(fromBase64(a.signature), signedBytes(identity.boxPublic, manifest.sent_day, manifest.message, deskKey), deskKey)) {
    throw new BadSignatureError('the reply is not signed by the desk it names');
  }
  return { message: manifest.message, sentDay: manifest.sent_day, deskKey: a.desk_key, deleteToken: fromBase64(a.delete_token) };
}

/**
 * Who wrote a reply, from the tip line's verified directory: a desk listed now, a desk listed once (its name,
 * with `current: false`), or undefined when no desk of this newsroom ever had that key (do not trust the reply).
 */
export function replyAuthor(dir: Directory, deskKey: string, now: Date): { name: string; current: boolean } | undefined {
  const t = now.getTime();
  const desks = dir.recipients.filter((r: Recipient) => r.role === 'desk' && r.sign_key === deskKey);
  if (desks.length === 0) return undefined;
  const current = desks.find((r) => Date.parse(r.not_before) <= t && t < Date.parse(r.not_after));
  return { name: (current ?? desks[0]!).name, current: current !== undefined };
}

/** The thread a tip or follow-up belongs to, from its reply key: the same on every desk's machine. */
export function threadId(boxKeyB64: string): string {
  const key = fromBase64(boxKeyB64);
  _abytes('reply.box_key', key, 32);
  return toBase32(sodium().crypto_generichash(32, _frame(THREAD_DOMAIN, key), null).subarray(0, 10));
}

/** Constant-time comparison of a presented token's hash with the stored one (for the server). */
export function deleteTokenMatches(token: Uint8Array, stored: Uint8Array): boolean {
  if (!(token instanceof Uint8Array) || token.length !== REPLY_DELETE_TOKEN_BYTES) return false;
  return equalBytes(deleteHash(token), stored);
}
