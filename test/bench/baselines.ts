// Baselines measured in the same run: raw AES-256-GCM (WebCrypto, 64 KiB chunks, as the envelope uses it),
// envelope encryption into nowhere, disk write (with fsync) and read, and PoW solving at the default difficulty.
import { closeSync, createReadStream, fsyncSync, openSync, writeSync } from 'node:fs';
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { encryptEnvelope, CHUNK_SIZE } from '../../crypto/envelope/index.js';
import { generateDeskKey } from '../../crypto/keys.js';
import { solvePow } from '../../crypto/pow.js';
import { MiB, mbps, now } from './util.js';

/** Deterministic pseudo-random bytes, 1 MiB at a time: AES-256-CTR of zeros under a fixed key. */
export function* deterministicBlocks(total: number, block = MiB): Generator<Buffer> {
  const ctr = createCipheriv('aes-256-ctr', Buffer.alloc(32, 7), Buffer.alloc(16, 0));
  const zeros = Buffer.alloc(block);
  for (let done = 0; done < total; ) {
    const n = Math.min(block, total - done);
    yield ctr.update(n === block ? zeros : zeros.subarray(0, n));
    done += n;
  }
}

export async function aesGcm(totalBytes: number): Promise<{ encryptMBps: number; decryptMBps: number }> {
  const s = globalThis.crypto.subtle;
  const key = await s.importKey('raw', randomBytes(32), { name: 'AES-GCM' }, false, ['encrypt', 'decrypt']);
  const aad = new Uint8Array(32);
  const pt = new Uint8Array(randomBytes(CHUNK_SIZE));
  const chunks = Math.floor(totalBytes / CHUNK_SIZE);
  const iv = (i: number) => {
    const n = new Uint8Array(12);
    new DataView(n.buffer).setUint32(7, i);
    return n;
  };
  // Sequential awaits, one 64 KiB chunk at a time: exactly how the envelope drives WebCrypto.
  for (let i = 0; i < 64; i++) await s.encrypt({ name: 'AES-GCM', iv: iv(i), additionalData: aad }, key, pt); // warm-up
  let t = now();
  let ct = new ArrayBuffer(0);
  for (let i = 0; i < chunks; i++) ct = await s.encrypt({ name: 'AES-GCM', iv: iv(i), additionalData: aad }, key, pt);
  const encMs = now() - t;
  // Decrypt the same ciphertext repeatedly (same nonce each time: this is a speed test, not a protocol).
  const last = chunks - 1;
  t = now();
  for (let i = 0; i < chunks; i++) await s.decrypt({ name: 'AES-GCM', iv: iv(last), additionalData: aad }, key, ct);
  const decMs = now() - t;
  return { encryptMBps: mbps(chunks * CHUNK_SIZE, encMs), decryptMBps: mbps(chunks * CHUNK_SIZE, decMs) };
}

/** encryptEnvelope for one desk, one file of `totalBytes`, output discarded. */
export async function envelopeEncrypt(totalBytes: number): Promise<{ MBps: number; envelopeBytes: number }> {
  const desk = generateDeskKey();
  const block = new Uint8Array(randomBytes(MiB));
  async function* file(): AsyncIterable<Uint8Array> {
    for (let done = 0; done < totalBytes; done += MiB) yield done + MiB <= totalBytes ? block : block.subarray(0, totalBytes - done);
  }
  const t = now();
  const env = encryptEnvelope({ recipients: [desk.boxPublic], manifest: { v: 2, sent_day: '2025-01-01', message: 'bench', files: [{ name: 'bench.bin', type: 'application/octet-stream', size: totalBytes }] }, files: [file()] });
  let seen = 0;
  for await (const piece of env.stream) seen += piece.length;
  const ms = now() - t;
  if (seen !== env.length) throw new Error(`envelope length ${seen} != ${env.length}`);
  return { MBps: mbps(totalBytes, ms), envelopeBytes: env.length };
}

/**
 * Writes `totalBytes` of deterministic data to `path` in 1 MiB writes, then fsyncs. Only the write calls and the
 * fsync are timed (generating the data is not). The file becomes the 256 MiB input of the upload benchmark.
 */
export function diskWrite(path: string, totalBytes: number): { MBps: number; sha256: string } {
  const fd = openSync(path, 'w', 0o600);
  const hash = createHash('sha256');
  let ms = 0;
  try {
    for (const block of deterministicBlocks(totalBytes)) {
      hash.update(block);
      const t = now();
      for (let off = 0; off < block.length; ) off += writeSync(fd, block, off);
      ms += now() - t;
    }
    const t = now();
    fsyncSync(fd);
    ms += now() - t;
  } finally {
    closeSync(fd);
  }
  return { MBps: mbps(totalBytes, ms), sha256: hash.digest('hex') };
}

/** Reads a file back with 1 MiB reads (just written, so it is served from the page cache). */
export async function diskReadCached(path: string, totalBytes: number): Promise<number> {
  const t = now();
  let seen = 0;
  for await (const piece of createReadStream(path, { highWaterMark: MiB })) seen += (piece as Buffer).length;
  const ms = now() - t;
  if (seen !== totalBytes) throw new Error(`read ${seen} of ${totalBytes}`);
  return mbps(totalBytes, ms);
}

/** The device itself: dd with O_DIRECT bypasses the page cache. NaN when dd or O_DIRECT is unavailable. */
export function diskReadDirect(path: string, totalBytes: number): number {
  const t = now();
  const r = spawnSync('dd', [`if=${path}`, 'of=/dev/null', 'bs=1M', 'iflag=direct'], { stdio: 'ignore' });
  const ms = now() - t;
  return r.status === 0 ? mbps(totalBytes, ms) : NaN;
}

/** Hashes a file (for checking the fetched copy against the input). */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const piece of createReadStream(path, { highWaterMark: MiB })) hash.update(piece as Buffer);
  return hash.digest('hex');
}

/** Mean ms per PoW solve at `difficulty`, over fresh random tokens (bounded by count and time); hashes are
 * attempts (one PBKDF2 of POW_ITERATIONS iterations each, several in flight as the clients run them). */
export async function powSolve(difficulty: number, maxSolves: number, maxMs: number): Promise<{ meanMs: number; solves: number; hashesPerSec: number }> {
  const t = now();
  let solves = 0;
  let hashes = 0;
  while (solves < maxSolves && now() - t < maxMs) {
    const token = randomBytes(48).toString('base64url');
    await solvePow(token, difficulty, { onAttempt: () => hashes++ });
    solves++;
  }
  const ms = now() - t;
  return { meanMs: ms / solves, solves, hashesPerSec: hashes / (ms / 1000) };
}
