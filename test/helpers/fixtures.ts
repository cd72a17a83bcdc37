// A newsroom's keys and envelopes made in-process, for tests that talk to the HTTP API directly.
import { randomBytes } from 'node:crypto';
import { generateDeskKey, generateSigningKey, fingerprint, type DeskKeyPair, type SigningKeyPair } from '../../crypto/keys.js';
import { certifySigner, signDirectory, type Directory, type Recipient } from '../../crypto/directory.js';
import type { SignedDocument } from '../../crypto/signed.js';
import { encryptEnvelope, sentDay, type Manifest } from '../../crypto/envelope/index.js';
import { toBase64, fromBase64Url, concatBytes } from '../../crypto/bytes.js';
import { solvePow } from '../../crypto/pow.js';
import { POW_HEADERS } from '../../schema/wire.js';
import { signStaffRequest } from '../../crypto/staff-request.js';
import { initCrypto } from '../../crypto/node.js';

await initCrypto();

const DAY = 86_400_000;

/** The host:port staff requests are signed for; tests set it once their server listens. */
let currentHost = '';
export function signFor(url: string): void {
  currentHost = new URL(url).host;
}

export interface Newsroom {
  root: SigningKeyPair;
  /** The directory signing key the root certified, and its certificate. */
  signer: SigningKeyPair;
  certificate: SignedDocument;
  desk: DeskKeyPair & { name: string };
  auditor: DeskKeyPair & { name: string };
  outsider: DeskKeyPair & { name: string };
  doc: SignedDocument;
  fingerprint: string;
}

function recipient(name: string, role: 'desk' | 'auditor', k: DeskKeyPair, now: Date, days: number): Recipient {
  return { name, role, box_key: toBase64(k.boxPublic), sign_key: toBase64(k.signPublic), not_before: new Date(now.getTime() - DAY).toISOString(), not_after: new Date(now.getTime() + days * DAY).toISOString() };
}

/** A desk or auditor entry for `k`, valid from a day before `now` for `days` days. */
export function recipientOf(name: string, role: 'desk' | 'auditor', k: DeskKeyPair, now = new Date(), days = 365): Recipient {
  return recipient(name, role, k, now, days);
}

// Serials grow within a test run whatever the clock says (two directories in one second).
let lastSerial = 0;

/**
 * A version 2 directory of `recipients`, signed by the newsroom's certified signing key: issued two days
 * before `now` (a server whose clock is a day behind accepts it), expiring `days` (at most 29) after `now`.
 */
export function signNewsroomDirectory(n: Pick<Newsroom, 'signer' | 'certificate'>, recipients: Recipient[], opts: { now?: Date; serial?: number; days?: number } = {}): SignedDocument {
  const now = opts.now ?? new Date();
  const serial = opts.serial ?? ++lastSerial;
  lastSerial = Math.max(lastSerial, serial);
  const dir: Directory = { v: 2, serial, issued: new Date(now.getTime() - 2 * DAY).toISOString(), expires: new Date(now.getTime() + Math.min(opts.days ?? 7, 29) * DAY).toISOString(), recipients };
  return signDirectory(dir, n.certificate, n.signer);
}

export function makeNewsroom(now = new Date(), days = 365): Newsroom {
  const root = generateSigningKey();
  const signer = generateSigningKey();
  const certificate = certifySigner(signer.publicKey, new Date(now.getTime() - 3 * DAY), new Date(now.getTime() + 87 * DAY), root);
  const desk = { ...generateDeskKey(), name: 'desk-a' };
  const auditor = { ...generateDeskKey(), name: 'auditor-a' };
  const outsider = { ...generateDeskKey(), name: 'outsider' };
  const doc = signNewsroomDirectory({ signer, certificate }, [recipient(desk.name, 'desk', desk, now, days), recipient(auditor.name, 'auditor', auditor, now, days)], { now, days: Math.min(days, 7) });
  return { root, signer, certificate, desk, auditor, outsider, doc, fingerprint: fingerprint(root.publicKey) };
}

async function* once(bytes: Uint8Array): AsyncIterable<Uint8Array> {
  yield bytes;
}

export async function collect(stream: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const p of stream) parts.push(p);
  return concatBytes(...parts);
}

export async function makeEnvelope(n: Newsroom, message: string, files: { name: string; bytes: Uint8Array }[] = []): Promise<Uint8Array> {
  const manifest: Manifest = { v: 2, sent_day: sentDay(new Date()), message, files: files.map((f) => ({ name: f.name, type: 'application/octet-stream', size: f.bytes.length })) };
  const env = encryptEnvelope({ recipients: [n.desk.boxPublic], manifest, files: files.map((f) => once(f.bytes)) });
  const bytes = await collect(env.stream);
  if (bytes.length !== env.length) throw new Error('envelope length mismatch');
  return bytes;
}

export function staffHeaders(who: DeskKeyPair, method: string, path: string, opts: { timestamp?: number; nonce?: string; body?: Uint8Array; host?: string } = {}): Record<string, string> {
  return signStaffRequest(
    {
      host: opts.host ?? currentHost,
      method,
      pathAndQuery: path,
      timestamp: opts.timestamp ?? Math.floor(Date.now() / 1000),
      nonce: opts.nonce ? fromBase64Url(opts.nonce) : new Uint8Array(randomBytes(16)),
      ...(opts.body ? { body: opts.body } : {}),
    },
    who.signSecret,
  );
}

export interface SolvedPow {
  token: string;
  nonce: string;
  /** The server's upload chunk size, announced with the challenge. */
  chunk_size: number;
}

/** Fetches a challenge from the server (priced for `size` envelope bytes when given) and solves it. */
export async function solvedPow(url: string, headers: Record<string, string> = {}, size?: number): Promise<SolvedPow> {
  const c = (await (await fetch(`${url}/api/v1/pow${size === undefined ? '' : `?size=${size}`}`, { headers })).json()) as { token: string; difficulty: number; chunk_size: number };
  return { token: c.token, nonce: await solvePow(c.token, c.difficulty), chunk_size: c.chunk_size };
}

export function powHeaders(pow: { token: string; nonce: string }): Record<string, string> {
  return { [POW_HEADERS.token]: pow.token, [POW_HEADERS.nonce]: pow.nonce };
}

/** The request that opens an upload: POST ?size=N[&finish=1] with the solved PoW in headers and chunk 0 as body. */
export function postUpload(url: string, o: { pow: { token: string; nonce: string }; size: number; body: Uint8Array; finish?: boolean; headers?: Record<string, string> }): Promise<Response> {
  return fetch(`${url}/api/v1/uploads?size=${o.size}${o.finish ? '&finish=1' : ''}`, {
    method: 'POST',
    headers: { ...o.headers, ...powHeaders(o.pow), 'content-type': 'application/octet-stream' },
    body: bin(o.body),
  });
}

/** Opens an upload of `envelope` (its chunk 0 stored), without finishing it. */
export async function openUpload(url: string, envelope: Uint8Array, headers: Record<string, string> = {}): Promise<{ id: string; chunk_size: number; chunk_count: number; expires_in: number }> {
  const pow = await solvedPow(url, headers, envelope.length);
  const r = await postUpload(url, { pow, size: envelope.length, body: envelope.subarray(0, pow.chunk_size), headers });
  if (r.status !== 201) throw new Error(`open: ${r.status} ${await r.text()}`);
  return (await r.json()) as { id: string; chunk_size: number; chunk_count: number; expires_in: number };
}

/** Uploads a whole envelope through the API. A one-chunk envelope goes in one request after the challenge;
 * otherwise the upload opens with chunk 0, the other chunks follow (in `order`, which may send 0 again), then
 * finish. */
export async function uploadEnvelope(url: string, envelope: Uint8Array, opts: { order?: (count: number) => number[]; headers?: Record<string, string> } = {}): Promise<{ tip_id: string; size: number; received_day: string }> {
  const pow = await solvedPow(url, opts.headers, envelope.length);
  if (envelope.length <= pow.chunk_size && !opts.order) {
    const r = await postUpload(url, { pow, size: envelope.length, body: envelope, finish: true, headers: opts.headers });
    if (r.status !== 201) throw new Error(`open and finish: ${r.status} ${await r.text()}`);
    return (await r.json()) as { tip_id: string; size: number; received_day: string };
  }
  const created = await postUpload(url, { pow, size: envelope.length, body: envelope.subarray(0, pow.chunk_size), headers: opts.headers });
  if (created.status !== 201) throw new Error(`open: ${created.status} ${await created.text()}`);
  const u = (await created.json()) as { id: string; chunk_size: number; chunk_count: number };
  const order = opts.order?.(u.chunk_count) ?? [...Array(u.chunk_count).keys()].slice(1);
  for (const i of order) {
    const r = await fetch(`${url}/api/v1/uploads/${u.id}/chunks/${i}`, { method: 'PUT', headers: { ...opts.headers, 'content-type': 'application/octet-stream' }, body: bin(envelope.subarray(i * u.chunk_size, (i + 1) * u.chunk_size)) });
    if (r.status !== 200) throw new Error(`chunk ${i}: ${r.status} ${await r.text()}`);
  }
  const fin = await fetch(`${url}/api/v1/uploads/${u.id}/finish`, { method: 'POST', headers: opts.headers ?? {} });
  if (fin.status !== 201) throw new Error(`finish: ${fin.status} ${await fin.text()}`);
  return (await fin.json()) as { tip_id: string; size: number; received_day: string };
}

/** A fetch body from bytes (TypeScript's DOM types want an ArrayBuffer-backed view). */
export const bin = (u: Uint8Array): BodyInit => u as unknown as BodyInit;
