// A newsroom's keys and envelopes made in-process, for tests that talk to the HTTP API directly.
import { randomBytes } from 'node:crypto';
import { generateDeskKey, generateSigningKey, fingerprint, sign, type DeskKeyPair, type SigningKeyPair } from '../../crypto/keys.js';
import { signDirectory, type Recipient } from '../../crypto/directory.js';
import type { SignedDocument } from '../../crypto/signed.js';
import { encryptEnvelope, sentDay, type Manifest } from '../../crypto/envelope/index.js';
import { toBase64, toBase64Url, utf8Encode, concatBytes } from '../../crypto/bytes.js';
import { sodium } from '../../crypto/sodium.js';
import { solvePow } from '../../crypto/pow.js';
import { STAFF_HEADERS, staffSigningString } from '../../schema/wire.js';
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
  desk: DeskKeyPair & { name: string };
  auditor: DeskKeyPair & { name: string };
  outsider: DeskKeyPair & { name: string };
  doc: SignedDocument;
  fingerprint: string;
}

function recipient(name: string, role: 'desk' | 'auditor', k: DeskKeyPair, now: Date, days: number): Recipient {
  return { name, role, box_key: toBase64(k.boxPublic), sign_key: toBase64(k.signPublic), not_before: new Date(now.getTime() - DAY).toISOString(), not_after: new Date(now.getTime() + days * DAY).toISOString() };
}

export function makeNewsroom(now = new Date(), days = 365): Newsroom {
  const root = generateSigningKey();
  const desk = { ...generateDeskKey(), name: 'desk-a' };
  const auditor = { ...generateDeskKey(), name: 'auditor-a' };
  const outsider = { ...generateDeskKey(), name: 'outsider' };
  const doc = signDirectory(
    { v: 1, issued: now.toISOString(), expires: new Date(now.getTime() + days * DAY).toISOString(), recipients: [recipient(desk.name, 'desk', desk, now, days), recipient(auditor.name, 'auditor', auditor, now, days)] },
    root,
  );
  return { root, desk, auditor, outsider, doc, fingerprint: fingerprint(root.publicKey) };
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
  const timestamp = String(opts.timestamp ?? Math.floor(Date.now() / 1000));
  const nonce = opts.nonce ?? toBase64Url(new Uint8Array(randomBytes(16)));
  const bodyHash = toBase64(sodium().crypto_generichash(32, opts.body ?? new Uint8Array(0), null));
  const sig = sign(utf8Encode(staffSigningString(opts.host ?? currentHost, method, path, timestamp, nonce, bodyHash)), who.signSecret);
  return { [STAFF_HEADERS.key]: toBase64(who.signPublic), [STAFF_HEADERS.timestamp]: timestamp, [STAFF_HEADERS.nonce]: nonce, [STAFF_HEADERS.signature]: toBase64(sig) };
}

/** Fetches a challenge from the server and solves it. */
export async function solvedPow(url: string, headers: Record<string, string> = {}): Promise<{ token: string; nonce: string }> {
  const c = (await (await fetch(`${url}/api/v1/pow`, { headers })).json()) as { token: string; difficulty: number };
  return { token: c.token, nonce: solvePow(c.token, c.difficulty) };
}

/** Uploads a whole envelope through the API: create, chunks (optionally in a given order), finish. */
export async function uploadEnvelope(url: string, envelope: Uint8Array, opts: { order?: (count: number) => number[]; headers?: Record<string, string> } = {}): Promise<{ tip_id: string; size: number; received_day: string }> {
  const created = await fetch(`${url}/api/v1/uploads`, { method: 'POST', headers: { ...opts.headers, 'content-type': 'application/json' }, body: JSON.stringify({ pow: await solvedPow(url, opts.headers), size: envelope.length }) });
  if (created.status !== 201) throw new Error(`create: ${created.status} ${await created.text()}`);
  const u = (await created.json()) as { id: string; chunk_size: number; chunk_count: number };
  const order = opts.order?.(u.chunk_count) ?? [...Array(u.chunk_count).keys()];
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
