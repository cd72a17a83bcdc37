// A staff DELETE of a tip as `tipline delete` sends it: signed, with a deletion statement signed by the same desk
// key in its JSON body (crypto/deletion-statement.ts). Options make the statement wrong in one way at a time.
import { randomBytes } from 'node:crypto';
import { signDeletionStatement, type DeletionStatement } from '../../crypto/deletion-statement.js';
import { utf8Encode } from '../../crypto/bytes.js';
import type { DeskKeyPair } from '../../crypto/keys.js';
import { signStaffRequest } from '../../crypto/staff-request.js';
import { staffHeaders } from './fixtures.js';

export interface DeleteOptions {
  /** The staff host the statement is made for (the request's own host by default). */
  statementHost?: string;
  by?: string;
  day?: string;
  /** Sign the statement with this key instead of the request's. */
  statementKey?: DeskKeyPair;
  /** Send this body instead (undefined: none at all, as a tipline before statements did). */
  body?: unknown;
}

export function deletionStatementFor(who: DeskKeyPair & { name: string }, host: string, o: DeleteOptions = {}): DeletionStatement {
  const by = o.by ?? who.name;
  const day = o.day ?? new Date().toISOString().slice(0, 10);
  return signDeletionStatement({ host: o.statementHost ?? host, by, day, nonce: new Uint8Array(randomBytes(16)) }, (o.statementKey ?? who).signSecret);
}

/** fetch() init for DELETE `path` at `staffUrl`, signed by `who`. */
export function signedDelete(who: DeskKeyPair & { name: string }, staffUrl: string, path: string, o: DeleteOptions = {}): RequestInit {
  const host = new URL(staffUrl).host;
  const body = 'body' in o ? o.body : { statement: deletionStatementFor(who, host, o) };
  if (body === undefined) return { method: 'DELETE', headers: staffHeaders(who, 'DELETE', path, { host }) };
  const bytes = utf8Encode(JSON.stringify(body));
  const headers = signStaffRequest({ host, method: 'DELETE', pathAndQuery: path, timestamp: Math.floor(Date.now() / 1000), nonce: new Uint8Array(randomBytes(16)), body: bytes, contentType: 'application/json' }, who.signSecret);
  return { method: 'DELETE', headers, body: Buffer.from(bytes) };
}
