// Reads a stored tip back as a desk would (signed download, decryption in-process).
import { decryptEnvelope } from '../../crypto/envelope/index.js';
import type { DeskKeyPair } from '../../crypto/keys.js';
import { staffHeaders } from './fixtures.js';

export interface OpenedTip {
  message: string;
  files: { name: string; type: string; bytes: Buffer }[];
}

export async function readTip(url: string, desk: DeskKeyPair, id: string): Promise<OpenedTip> {
  const path = `/api/v1/staff/tips/${id}`;
  const res = await fetch(url + path, { headers: staffHeaders(desk, 'GET', path) });
  if (res.status !== 200) throw new Error(`download ${id}: ${res.status}`);
  const bytes = new Uint8Array(await res.arrayBuffer());
  async function* one() {
    yield bytes;
  }
  const tip: OpenedTip = { message: '', files: [] };
  const parts: Buffer[][] = [];
  for await (const ev of decryptEnvelope(one(), desk)) {
    if (ev.kind === 'manifest') {
      tip.message = ev.manifest.message;
      tip.files = ev.manifest.files.map((f) => ({ name: f.name, type: f.type, bytes: Buffer.alloc(0) }));
      ev.manifest.files.forEach(() => parts.push([]));
    } else if (ev.kind === 'data') parts[ev.file]!.push(Buffer.from(ev.bytes));
  }
  tip.files.forEach((f, i) => (f.bytes = Buffer.concat(parts[i]!)));
  return tip;
}

export async function listTips(url: string, desk: DeskKeyPair): Promise<string[]> {
  const path = '/api/v1/staff/tips';
  const res = await fetch(url + path, { headers: staffHeaders(desk, 'GET', path) });
  return ((await res.json()) as { tips: { id: string }[] }).tips.map((t) => t.id);
}
