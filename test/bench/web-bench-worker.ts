// Browser-side half of the in-browser crypto benchmark (test/bench/browser.ts bundles this file with esbuild and
// runs it as a dedicated Worker, as the real page runs its crypto). Never run by Node: tsc only type-checks it.
// Each command is time-capped, so interpreted JavaScript (Tor Browser at "Safer") cannot stall the run; the
// answer says how many bytes were actually processed.
import { gcm } from '@noble/ciphers/aes.js';
import { loadSodium } from '../../client/web/sodium-browser.js';
import { encryptEnvelope, CHUNK_SIZE, type AesBackend } from '../../crypto/envelope/index.js';
import { sodium } from '../../crypto/sodium.js';
import { solvePow } from '../../crypto/pow.js';

export type BenchCommand =
  | { cmd: 'init' }
  | { cmd: 'aes'; bytes: number; capMs: number }
  | { cmd: 'noble'; bytes: number; capMs: number }
  | { cmd: 'envelope'; aes: AesBackend; bytes: number; capMs: number }
  | { cmd: 'pow'; difficulty: number; capMs: number };

export interface InitAnswer {
  sodiumMs: number;
  wasm: boolean;
  subtle: boolean;
  userAgent: string;
}
export interface SpeedAnswer {
  bytes: number; // plaintext bytes processed before the end or the cap
  ms: number;
  capped: boolean;
}
export interface PowAnswer {
  hashes: number;
  solves: number;
  ms: number;
}

const scope = globalThis as unknown as { postMessage(m: unknown): void; onmessage: ((e: MessageEvent<BenchCommand>) => void) | null };
const MiB = 1024 * 1024;

function randomBlock(n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let off = 0; off < n; off += 65536) crypto.getRandomValues(b.subarray(off, Math.min(n, off + 65536)));
  return b;
}

function nonce(i: number): Uint8Array<ArrayBuffer> {
  const n = new Uint8Array(12);
  new DataView(n.buffer).setUint32(7, i);
  return n;
}

/** Raw WebCrypto AES-256-GCM, sequential awaits over 64 KiB chunks: how the envelope drives it. */
async function aes(bytes: number, capMs: number): Promise<SpeedAnswer> {
  const s = crypto.subtle;
  const key = await s.importKey('raw', randomBlock(32) as Uint8Array<ArrayBuffer>, { name: 'AES-GCM' }, false, ['encrypt']);
  const aad = new Uint8Array(32);
  const pt = randomBlock(CHUNK_SIZE) as Uint8Array<ArrayBuffer>;
  for (let i = 0; i < 32; i++) await s.encrypt({ name: 'AES-GCM', iv: nonce(i), additionalData: aad }, key, pt); // warm-up
  const t = performance.now();
  let done = 0;
  let i = 0;
  while (done < bytes && performance.now() - t < capMs) {
    await s.encrypt({ name: 'AES-GCM', iv: nonce(i++), additionalData: aad }, key, pt);
    done += CHUNK_SIZE;
  }
  return { bytes: done, ms: performance.now() - t, capped: done < bytes };
}

/** Raw @noble/ciphers AES-256-GCM over 64 KiB chunks (a fresh instance per chunk, as the envelope does). */
async function noble(bytes: number, capMs: number): Promise<SpeedAnswer> {
  const key = randomBlock(32);
  const aad = new Uint8Array(32);
  const pt = randomBlock(CHUNK_SIZE);
  gcm(key, nonce(0), aad).encrypt(pt); // warm-up
  const t = performance.now();
  let done = 0;
  let i = 0;
  while (done < bytes && performance.now() - t < capMs) {
    gcm(key, nonce(i++), aad).encrypt(pt);
    done += CHUNK_SIZE;
  }
  return { bytes: done, ms: performance.now() - t, capped: done < bytes };
}

/** encryptEnvelope for one desk key and one file of `bytes` generated here (1 MiB random block repeated); output discarded. */
async function envelope(backend: AesBackend, bytes: number, capMs: number): Promise<SpeedAnswer> {
  const desk = sodium().crypto_box_keypair();
  const block = randomBlock(MiB);
  let fed = 0;
  let stop = false;
  async function* file(): AsyncIterable<Uint8Array> {
    while (fed < bytes) {
      const n = Math.min(MiB, bytes - fed);
      fed += n;
      yield n === MiB ? block : block.subarray(0, n);
    }
  }
  const t = performance.now();
  const env = encryptEnvelope({
    recipients: [desk.publicKey],
    manifest: { v: 2, sent_day: '2025-01-01', message: 'bench', files: [{ name: 'bench.bin', type: 'application/octet-stream', size: bytes }] },
    files: [file()],
    aes: backend,
  });
  let sealed = 0;
  let first = true;
  for await (const piece of env.stream) {
    if (first) first = false; // the header
    else sealed += piece.length - 16; // plaintext of the chunk (a 16-byte tag each)
    if (performance.now() - t >= capMs) {
      stop = true;
      break;
    }
  }
  const ms = performance.now() - t;
  // Count file bytes only (not the manifest or Padmé padding), capped at what was sealed.
  return { bytes: Math.min(fed, sealed), ms, capped: stop };
}

/** Proof-of-work solving as the page does it (crypto/pow.ts), on fresh tokens until the cap; `hashes` counts
 * attempts (one PBKDF2 of POW_ITERATIONS iterations each). */
async function pow(difficulty: number, capMs: number): Promise<PowAnswer> {
  const t = performance.now();
  let hashes = 0;
  let solves = 0;
  while (performance.now() - t < capMs) {
    const token = Array.from(randomBlock(32), (b) => b.toString(16).padStart(2, '0')).join('');
    await solvePow(token, difficulty, { onAttempt: () => hashes++ });
    solves++;
  }
  return { hashes, solves, ms: performance.now() - t };
}

/** Whether WebAssembly can be compiled here: the global exists under a CSP without 'wasm-unsafe-eval' too, but
 * compiling throws, and libsodium falls back to its asm.js build. */
function wasmUsable(): boolean {
  if (typeof WebAssembly === 'undefined') return false;
  try {
    new WebAssembly.Module(new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]));
    return true;
  } catch {
    return false;
  }
}

async function run(c: BenchCommand): Promise<unknown> {
  switch (c.cmd) {
    case 'init': {
      const t = performance.now();
      await loadSodium();
      const a: InitAnswer = {
        sodiumMs: performance.now() - t,
        wasm: wasmUsable(),
        subtle: typeof crypto !== 'undefined' && !!crypto.subtle,
        userAgent: navigator.userAgent,
      };
      return a;
    }
    case 'aes':
      return aes(c.bytes, c.capMs);
    case 'noble':
      return noble(c.bytes, c.capMs);
    case 'envelope':
      return envelope(c.aes, c.bytes, c.capMs);
    case 'pow':
      return pow(c.difficulty, c.capMs);
  }
}

scope.onmessage = (e) => {
  run(e.data).then(
    (result) => scope.postMessage({ ok: true, result }),
    (err: unknown) => scope.postMessage({ ok: false, error: String((err as Error)?.stack ?? err) }),
  );
};
