// The Tipline HTTP API as the command-line clients use it.
import { randomBytes } from 'node:crypto';
import type { SignedDocument } from '../../crypto/signed.js';
import { sign } from '../../crypto/keys.js';
import { toBase64, toBase64Url, utf8Encode } from '../../crypto/bytes.js';
import { sodium } from '../../crypto/sodium.js';
import { STAFF_HEADERS, staffSigningString, type PowChallenge, type Receipt, type UploadCreated, type UploadStatus, type TipList } from '../../schema/wire.js';
import { request, json, readAll, type Proxy, type Response, HttpError } from './http.js';
import type { StaffIdentity } from './keyfiles.js';

export class Api {
  constructor(
    readonly base: URL,
    readonly proxy?: Proxy,
  ) {}

  url(path: string): URL {
    return new URL(path, this.base);
  }

  async directory(): Promise<SignedDocument> {
    const res = await request(this.url('/.well-known/tipline/directory'), { method: 'GET', proxy: this.proxy });
    return json<SignedDocument>(res, 'fetching the directory');
  }

  async pow(): Promise<PowChallenge> {
    return json<PowChallenge>(await request(this.url('/api/v1/pow'), { method: 'GET', proxy: this.proxy }), 'fetching a proof-of-work challenge');
  }

  async createUpload(pow: { token: string; nonce: string }, size: number): Promise<UploadCreated> {
    const body = utf8Encode(JSON.stringify({ pow, size }));
    const res = await request(this.url('/api/v1/uploads'), { method: 'POST', headers: { 'content-type': 'application/json' }, body, proxy: this.proxy });
    return json<UploadCreated>(res, 'opening the upload');
  }

  async uploadStatus(id: string): Promise<UploadStatus> {
    return json<UploadStatus>(await request(this.url(`/api/v1/uploads/${id}`), { method: 'GET', proxy: this.proxy }), 'checking the upload');
  }

  async putChunk(id: string, n: number, data: Uint8Array, finish: boolean): Promise<Receipt | { received: number }> {
    const res = await request(this.url(`/api/v1/uploads/${id}/chunks/${n}${finish ? '?finish=1' : ''}`), {
      method: 'PUT',
      headers: { 'content-type': 'application/octet-stream' },
      body: data,
      proxy: this.proxy,
    });
    return json(res, `sending chunk ${n}`);
  }

  async finish(id: string): Promise<Receipt> {
    return json<Receipt>(await request(this.url(`/api/v1/uploads/${id}/finish`), { method: 'POST', proxy: this.proxy }), 'finishing the upload');
  }

  // Staff requests: signed, so the server needs no password or session (design: "staff authenticate with
  // signing keys, never passwords").
  private staffHeaders(who: StaffIdentity, method: string, pathAndQuery: string, body: Uint8Array): Record<string, string> {
    const timestamp = String(Math.floor(Date.now() / 1000));
    const nonce = toBase64Url(new Uint8Array(randomBytes(16)));
    const bodyHash = toBase64(sodium().crypto_generichash(32, body, null));
    const sig = sign(utf8Encode(staffSigningString(method, pathAndQuery, timestamp, nonce, bodyHash)), who.signSecret);
    return {
      [STAFF_HEADERS.key]: toBase64(who.signPublic),
      [STAFF_HEADERS.timestamp]: timestamp,
      [STAFF_HEADERS.nonce]: nonce,
      [STAFF_HEADERS.signature]: toBase64(sig),
    };
  }

  async staff(who: StaffIdentity, method: string, path: string): Promise<Response> {
    const url = this.url(path);
    return request(url, { method, headers: this.staffHeaders(who, method, url.pathname + url.search, new Uint8Array(0)), proxy: this.proxy, timeoutMs: 600_000 });
  }

  async listTips(who: StaffIdentity): Promise<TipList> {
    return json<TipList>(await this.staff(who, 'GET', '/api/v1/staff/tips'), 'listing tips');
  }

  async deleteTip(who: StaffIdentity, id: string): Promise<void> {
    await json(await this.staff(who, 'DELETE', `/api/v1/staff/tips/${id}`), `deleting tip ${id}`);
  }

  /** Streams a tip's envelope; the caller consumes `body`. */
  async downloadTip(who: StaffIdentity, id: string): Promise<Response> {
    const res = await this.staff(who, 'GET', `/api/v1/staff/tips/${id}`);
    if (res.status !== 200) {
      await json(res, `downloading tip ${id}`);
      throw new HttpError(res.status, 'unknown', `downloading tip ${id}: HTTP ${res.status}`);
    }
    return res;
  }
}

export { readAll };
