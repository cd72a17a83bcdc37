// The Tipline HTTP API as the command-line clients use it: the source's side from client/shared/api.ts, the
// staff's side here, all over one connection per run (client/cli/http.ts).
import { randomBytes } from 'node:crypto';
import type { z } from 'zod';
import { Id, TipList, Deleted, SignedDocumentBody, ReplyPosted, NoteList, NotePosted, NotesFetched, NotesDeleted, MAX_NOTES_PER_REQUEST, MAX_NOTE_ENVELOPE_BYTES, type ReplyPost } from '../../schema/wire.js';
import { fromBase64, toBase64, utf8Encode } from '../../crypto/bytes.js';
import { signStaffRequest } from '../../crypto/staff-request.js';
import { DELETION_NONCE_BYTES, signDeletionStatement } from '../../crypto/deletion-statement.js';
import { SourceApi, apiError, checked, type WireRequest } from '../shared/api.js';
import { CliError } from './errors.js';
import { printable } from './printable.js';
import { Connection, type Proxy, type StreamedAnswer } from './http.js';
import type { StaffIdentity } from './keyfiles.js';

const STAFF_TIMEOUT_MS = 600_000;
const LIST_LIMIT = 16 * 1024 * 1024;
/** MAX_NOTES_PER_REQUEST of the largest envelopes, in base64 and JSON: 32 MiB and some. */
const FETCH_NOTES_LIMIT = 40 * 1024 * 1024;

function idOf(id: string): string {
  if (!Id.safeParse(id).success) throw new CliError(`"${printable(id, 40)}" is not a tip id (26 characters a-z, 2-7)`, 2);
  return id;
}

function noteIdOf(id: string): string {
  if (!Id.safeParse(id).success) throw new CliError(`"${printable(id, 40)}" is not a note id (26 characters a-z, 2-7)`, 2);
  return id;
}

export class Api {
  readonly proxy: Proxy | undefined;
  readonly connection: Connection;
  readonly source: SourceApi;

  constructor(
    readonly base: URL,
    proxy?: Proxy,
  ) {
    // One Tor circuit per run, not shared with the user's other Tor traffic.
    this.proxy = proxy ? { ...proxy, isolation: randomBytes(12).toString('hex') } : undefined;
    this.connection = new Connection(base, this.proxy);
    this.source = new SourceApi(this.connection);
  }

  close(): Promise<void> {
    return this.connection.close();
  }

  // Staff requests: signed, so the server needs no password or session (design: "staff authenticate with
  // signing keys, never passwords").
  // Signed with crypto/staff-request.ts (PROTOCOL.md §Staff requests), the one implementation the server checks.
  // A body is signed with its content type (the header sent is the value signed): the server checks the raw bytes
  // it received, so a body rewritten on the way, or relabelled as another type, does not verify.
  private staffHeaders(who: StaffIdentity, method: string, host: string, pathAndQuery: string, body: Uint8Array, contentType?: string): Record<string, string> {
    return signStaffRequest({ host, method, pathAndQuery, timestamp: Math.floor(Date.now() / 1000), nonce: new Uint8Array(randomBytes(16)), body, ...(contentType ? { contentType } : {}) }, who.signSecret);
  }

  private staffRequest(who: StaffIdentity, method: WireRequest['method'], path: string, body?: { bytes: Uint8Array; contentType: string }): WireRequest {
    const url = new URL(path, this.base);
    const target = url.pathname + url.search;
    const headers = this.staffHeaders(who, method, url.host, target, body?.bytes ?? new Uint8Array(0), body?.contentType);
    return { method, path: target, headers, ...(body ? { body: body.bytes } : {}) };
  }

  /** The sources' address answers the staff API with a plain 404: it is served on the staff listener only. */
  private notStaff(): CliError {
    return new CliError(`${this.base.host} does not serve the staff API: --server must be the tip line's staff address (its staff onion; http://127.0.0.1:8081 for a local tipline serve), not the sources' one`);
  }

  /** The published directory, read through the staff listener (signed, like every staff request). */
  async staffDirectory(who: StaffIdentity): Promise<unknown> {
    const answer = await this.connection.send(this.staffRequest(who, 'GET', '/api/v1/staff/directory'), 1024 * 1024, STAFF_TIMEOUT_MS);
    if (answer.status === 404 && apiError(answer, '').code === 'TIPLINE_ERR_NOT_FOUND') throw this.notStaff();
    return checked(answer, SignedDocumentBody, 'the directory');
  }

  async listTips(who: StaffIdentity): Promise<TipList> {
    const answer = await this.connection.send(this.staffRequest(who, 'GET', '/api/v1/staff/tips'), LIST_LIMIT, STAFF_TIMEOUT_MS);
    if (answer.status === 404) throw this.notStaff();
    return checked(answer, TipList, 'tip list');
  }

  /** Deletes a tip with a deletion statement signed by the desk's key (crypto/deletion-statement.ts): the audit
   * entry the server writes holds it, so no one without this key can write a deletion in the desk's name. The
   * statement names the staff address and day, never the tip. */
  async deleteTip(who: StaffIdentity, id: string): Promise<void> {
    const path = `/api/v1/staff/tips/${idOf(id)}`;
    const host = new URL(path, this.base).host; // the host the request itself is signed for (staffRequest)
    const day = new Date().toISOString().slice(0, 10);
    const statement = signDeletionStatement({ host, by: who.name, day, nonce: new Uint8Array(randomBytes(DELETION_NONCE_BYTES)) }, who.signSecret);
    const bytes = utf8Encode(JSON.stringify({ statement }));
    const req = { ...this.staffRequest(who, 'DELETE', path, { bytes, contentType: 'application/json' }), idempotent: false };
    const answer = await this.connection.send(req, 64 * 1024, STAFF_TIMEOUT_MS);
    if (answer.status === 404 && apiError(answer, '').code === 'TIPLINE_ERR_NOT_FOUND') throw this.notStaff();
    checked(answer, Deleted, `deleting tip ${id}`);
  }

  /** Streams a tip's envelope; the caller consumes or destroys `body`. Signed when called: a caller that sends
   * it ahead of time (pipelined) keeps that time short, so the signature is fresh when the server reads it. */
  async downloadTip(who: StaffIdentity, id: string): Promise<StreamedAnswer> {
    const res = await this.connection.stream(this.staffRequest(who, 'GET', `/api/v1/staff/tips/${idOf(id)}`), STAFF_TIMEOUT_MS);
    if (res.status !== 200) {
      const parts: Uint8Array[] = [];
      let n = 0;
      for await (const p of res.body) {
        n += p.length;
        if (n > 64 * 1024) break;
        parts.push(p);
      }
      res.body.destroy();
      throw apiError({ status: res.status, body: new Uint8Array(Buffer.concat(parts)) }, `downloading tip ${id}`);
    }
    return res;
  }

  /** Posts a reply sealed and tagged on this machine. 'tag-taken' when the server already holds a reply with this
   * tag (409): the caller draws another tag. Not pipelined: a POST is not sent twice. */
  async postReply(who: StaffIdentity, post: ReplyPost): Promise<ReplyPosted | 'tag-taken'> {
    const bytes = utf8Encode(JSON.stringify(post));
    const req = { ...this.staffRequest(who, 'POST', '/api/v1/staff/replies', { bytes, contentType: 'application/json' }), idempotent: false };
    const answer = await this.connection.send(req, 64 * 1024, STAFF_TIMEOUT_MS);
    if (answer.status === 404 && apiError(answer, '').code === 'TIPLINE_ERR_NOT_FOUND') throw this.notStaff();
    if (answer.status === 409) return 'tag-taken';
    return checked(answer, ReplyPosted, 'posting the reply');
  }

  // ---- Shared desk notes (PROTOCOL.md §Desk notes). ----

  private async notesCall<S extends z.ZodType>(who: StaffIdentity, method: 'GET' | 'POST', path: string, body: unknown, limit: number, what: string, schema: S): Promise<z.infer<S>> {
    const req =
      body === undefined
        ? this.staffRequest(who, method, path)
        : // Not sent twice on a dropped connection: a POST that changes state is not idempotent.
          { ...this.staffRequest(who, method, path, { bytes: utf8Encode(JSON.stringify(body)), contentType: 'application/json' }), idempotent: false };
    const answer = await this.connection.send(req, limit, STAFF_TIMEOUT_MS);
    if (answer.status === 404 && apiError(answer, '').code === 'TIPLINE_ERR_NOT_FOUND') throw this.notStaff();
    return checked(answer, schema, what);
  }

  /** Every live note's metadata. */
  async listNotes(who: StaffIdentity): Promise<NoteList> {
    return this.notesCall(who, 'GET', '/api/v1/staff/notes', undefined, LIST_LIMIT, 'the list of desk notes', NoteList);
  }

  /** The envelopes of up to MAX_NOTES_PER_REQUEST notes (ids no longer there are left out). */
  async fetchNotes(who: StaffIdentity, ids: string[]): Promise<{ id: string; envelope: Uint8Array }[]> {
    if (ids.length === 0) return [];
    if (ids.length > MAX_NOTES_PER_REQUEST) throw new CliError(`at most ${MAX_NOTES_PER_REQUEST} notes are fetched at once, not ${ids.length}`);
    ids.forEach(noteIdOf);
    const asked = new Set(ids);
    // Fetching changes nothing, but it is a POST: sent once all the same (the answer can be 32 MiB).
    const got = await this.notesCall(who, 'POST', '/api/v1/staff/notes/fetch', { ids }, FETCH_NOTES_LIMIT, 'fetching desk notes', NotesFetched);
    return got.notes.map((n) => {
      // Threat: a server answering with notes not asked for, or not base64: refused here, not handed to the desk.
      if (!asked.has(n.id)) throw new CliError(`the server answered with a note that was not asked for (${printable(n.id, 40)})`);
      let envelope: Uint8Array;
      try {
        envelope = fromBase64(n.envelope);
      } catch {
        throw new CliError(`the server answered note ${n.id} with an envelope that is not base64`);
      }
      if (toBase64(envelope) !== n.envelope || envelope.length === 0 || envelope.length > MAX_NOTE_ENVELOPE_BYTES) throw new CliError(`the server answered note ${n.id} with a malformed envelope`);
      return { id: n.id, envelope };
    });
  }

  /** Stores one sealed note until `expiresDay`. */
  async postNote(who: StaffIdentity, envelope: Uint8Array, expiresDay: string): Promise<NotePosted> {
    return this.notesCall(who, 'POST', '/api/v1/staff/notes', { envelope: toBase64(envelope), expires_day: expiresDay }, 64 * 1024, 'posting a desk note', NotePosted);
  }

  /** Deletes notes (a deleted thread's); answers how many were there. */
  async deleteNotes(who: StaffIdentity, ids: string[]): Promise<number> {
    if (ids.length === 0) return 0;
    if (ids.length > MAX_NOTES_PER_REQUEST) throw new CliError(`at most ${MAX_NOTES_PER_REQUEST} notes are deleted at once, not ${ids.length}`);
    ids.forEach(noteIdOf);
    return (await this.notesCall(who, 'POST', '/api/v1/staff/notes/delete', { ids }, 64 * 1024, 'deleting desk notes', NotesDeleted)).deleted;
  }
}
