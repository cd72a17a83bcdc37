// Replies made as a desk's machine makes them (sealed, tagged, hashed), and the requests of the reply routes:
// a desk's signed POST (over the exact body bytes and content type) and a source's list, fetch and delete.
import { randomBytes } from 'node:crypto';
import { deriveCodenameKeys, generateCodename, type CodenameKeys } from '../../crypto/codename.js';
import { makeReplyTag } from '../../crypto/reply-tags.js';
import { sealReply } from '../../crypto/reply.js';
import { signStaffRequest } from '../../crypto/staff-request.js';
import { toBase64, toBase64Url, utf8Encode } from '../../crypto/bytes.js';
import type { DeskKeyPair } from '../../crypto/keys.js';
import { bin } from './fixtures.js';

/** A source's codename keys, stretched with few iterations (the derivation is not what these tests are about). */
export async function sourceKeys(fingerprint: string): Promise<CodenameKeys> {
  return deriveCodenameKeys(generateCodename(), fingerprint, 1000);
}

export interface MadeReply {
  tag: Uint8Array;
  envelope: Uint8Array;
  deleteHash: Uint8Array;
  /** The ReplyPost body fields. */
  post: { tag: string; delete_hash: string; envelope: string };
}

export async function makeReply(desk: DeskKeyPair, to: CodenameKeys, message: string, now = new Date()): Promise<MadeReply> {
  const sealed = await sealReply({ toBoxKey: to.boxPublic, message, desk: { signPublic: desk.signPublic, signSecret: desk.signSecret }, now });
  const tag = await makeReplyTag(to.tagKey);
  return {
    tag,
    envelope: sealed.envelope,
    deleteHash: sealed.deleteHash,
    post: { tag: toBase64Url(tag), delete_hash: toBase64Url(sealed.deleteHash), envelope: toBase64(sealed.envelope) },
  };
}

/** POST /api/v1/staff/replies signed by `who` over `body` (bytes or a value sent as JSON); `send` replaces the
 * bytes sent after signing, `contentType` the type signed and sent; `now` is the server's clock. */
export async function postReply(
  staffUrl: string,
  who: DeskKeyPair,
  body: unknown,
  o: { send?: Uint8Array; contentType?: string; sentType?: string; unsigned?: boolean; now?: Date } = {},
): Promise<Response> {
  const path = '/api/v1/staff/replies';
  const bytes = body instanceof Uint8Array ? body : utf8Encode(JSON.stringify(body));
  const contentType = o.contentType ?? 'application/json';
  const signed = signStaffRequest(
    { host: new URL(staffUrl).host, method: 'POST', pathAndQuery: path, timestamp: Math.floor((o.now ?? new Date()).getTime() / 1000), nonce: new Uint8Array(randomBytes(16)), body: bytes, contentType },
    who.signSecret,
  );
  const headers = o.unsigned ? { 'content-type': contentType } : { ...signed, 'content-type': o.sentType ?? contentType };
  return fetch(`${staffUrl}${path}`, { method: 'POST', headers, body: bin(o.send ?? bytes) });
}

export async function listTags(url: string): Promise<{ status: number; type: string | null; cache: string | null; bytes: Uint8Array }> {
  const r = await fetch(`${url}/api/v1/replies`);
  return { status: r.status, type: r.headers.get('content-type'), cache: r.headers.get('cache-control'), bytes: new Uint8Array(await r.arrayBuffer()) };
}

export function fetchReplies(url: string, tags: unknown): Promise<Response> {
  return fetch(`${url}/api/v1/replies/fetch`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tags }) });
}

export function deleteReply(url: string, body: unknown): Promise<Response> {
  return fetch(`${url}/api/v1/replies/delete`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

/** Replies stored, as the table holds them (tag hex, sorted). */
export function hex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}
