// The Tipline HTTP API as the command-line clients use it.
import { randomBytes } from 'node:crypto';
import type { SignedDocument } from '../../crypto/signed.js';
import { sign } from '../../crypto/keys.js';
import { toBase64, toBase64Url, utf8Encode } from '../../crypto/bytes.js';
import { sodium } from '../../crypto/sodium.js';
import { STAFF_HEADERS, staffSigningString, Id, PowChallenge, Receipt, UploadCreated, UploadStatus, TipList, ChunkAccepted } from '../../schema/wire.js';
import type { z } from 'zod';
import { CliError } from './errors.js';
import { printable } from './printable.js';
import { request, json, readAll, type Proxy, type Response, HttpError } from './http.js';
import type { StaffIdentity } from './keyfiles.js';

/** Answers are checked against the wire schema: a hostile server must not steer ids into file paths. */
function checked<S extends z.ZodType>(schema: S, value: unknown, what: string): z.infer<S> {
  const r = schema.safeParse(value);
  if (!r.success) throw new CliError(`${what}: the server's answer is malformed`);
  return r.data;
}

function idOf(id: string): string {
  if (!Id.safeParse(id).success) throw new CliError(`"${printable(id, 40)}" is not a tip id (26 characters a-z, 2-7)`, 2);
  return id;
}

export class Api {
  readonly proxy: Proxy | undefined;

  constructor(
    readonly base: URL,
    proxy?: Proxy,
  ) {
    // One Tor circuit per run, not shared with the user's other Tor traffic.
    this.proxy = proxy ? { ...proxy, isolation: randomBytes(12).toString('hex') } : undefined;
  }

  url(path: string): URL {
    return new URL(path, this.base);
  }

  async directory(): Promise<SignedDocument> {
    const res = await request(this.url('/.well-known/tipline/directory'), { method: 'GET', proxy: this.proxy });
    return json<SignedDocument>(res, 'fetching the directory');
  }

  async pow(): Promise<PowChallenge> {
    return checked(PowChallenge, await json(await request(this.url('/api/v1/pow'), { method: 'GET', proxy: this.proxy }), 'fetching a proof-of-work challenge'), 'proof-of-work challenge');
  }

  async createUpload(pow: { token: string; nonce: string }, size: number): Promise<UploadCreated> {
    const body = utf8Encode(JSON.stringify({ pow, size }));
    const res = await request(this.url('/api/v1/uploads'), { method: 'POST', headers: { 'content-type': 'application/json' }, body, proxy: this.proxy });
    return checked(UploadCreated, await json(res, 'opening the upload'), 'opening the upload');
  }

  async uploadStatus(id: string): Promise<UploadStatus> {
    return checked(UploadStatus, await json(await request(this.url(`/api/v1/uploads/${idOf(id)}`), { method: 'GET', proxy: this.proxy }), 'checking the upload'), 'upload status');
  }

  async putChunk(id: string, n: number, data: Uint8Array, finish: boolean): Promise<Receipt | { received: number }> {
    const res = await request(this.url(`/api/v1/uploads/${idOf(id)}/chunks/${n}${finish ? '?finish=1' : ''}`), {
      method: 'PUT',
      headers: { 'content-type': 'application/octet-stream' },
      body: data,
      proxy: this.proxy,
    });
    const answer = await json(res, `sending chunk ${n}`);
    return finish ? checked(Receipt, answer, 'receipt') : checked(ChunkAccepted, answer, `chunk ${n}`);
  }

  async finish(id: string): Promise<Receipt> {
    return checked(Receipt, await json(await request(this.url(`/api/v1/uploads/${idOf(id)}/finish`), { method: 'POST', proxy: this.proxy }), 'finishing the upload'), 'receipt');
  }

  // Staff requests: signed, so the server needs no password or session (design: "staff authenticate with
  // signing keys, never passwords").
  private staffHeaders(who: StaffIdentity, method: string, host: string, pathAndQuery: string, body: Uint8Array): Record<string, string> {
    const timestamp = String(Math.floor(Date.now() / 1000));
    const nonce = toBase64Url(new Uint8Array(randomBytes(16)));
    const bodyHash = toBase64(sodium().crypto_generichash(32, body, null));
    const sig = sign(utf8Encode(staffSigningString(host, method, pathAndQuery, timestamp, nonce, bodyHash)), who.signSecret);
    return {
      [STAFF_HEADERS.key]: toBase64(who.signPublic),
      [STAFF_HEADERS.timestamp]: timestamp,
      [STAFF_HEADERS.nonce]: nonce,
      [STAFF_HEADERS.signature]: toBase64(sig),
    };
  }

  async staff(who: StaffIdentity, method: string, path: string): Promise<Response> {
    const url = this.url(path);
    return request(url, { method, headers: this.staffHeaders(who, method, url.host, url.pathname + url.search, new Uint8Array(0)), proxy: this.proxy, timeoutMs: 600_000 });
  }

  async listTips(who: StaffIdentity): Promise<TipList> {
    return checked(TipList, await json(await this.staff(who, 'GET', '/api/v1/staff/tips'), 'listing tips'), 'tip list');
  }

  async deleteTip(who: StaffIdentity, id: string): Promise<void> {
    await json(await this.staff(who, 'DELETE', `/api/v1/staff/tips/${idOf(id)}`), `deleting tip ${id}`);
  }

  /** Streams a tip's envelope; the caller consumes `body`. */
  async downloadTip(who: StaffIdentity, id: string): Promise<Response> {
    const res = await this.staff(who, 'GET', `/api/v1/staff/tips/${idOf(id)}`);
    if (res.status !== 200) {
      await json(res, `downloading tip ${id}`);
      throw new HttpError(res.status, 'unknown', `downloading tip ${id}: HTTP ${res.status}`);
    }
    return res;
  }
}

export { readAll };
