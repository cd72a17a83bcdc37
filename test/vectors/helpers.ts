// Shared by the crypto tests and the vector generator: deterministic data and small stream utilities.
import { createHash } from 'node:crypto';

/** xorshift128+-style PRNG (not cryptographic): deterministic bytes for test inputs, fast enough for 100 MiB. */
export class TestPrng {
  private a: number;
  private b: number;
  constructor(seed: number) {
    this.a = (seed ^ 0x9e3779b9) >>> 0 || 1;
    this.b = (seed * 0x85ebca6b) >>> 0 || 2;
  }
  /** The next 32-bit output. */
  private next(): number {
    let x = this.a;
    x ^= x << 11;
    x ^= x >>> 8;
    this.a = this.b;
    this.b = (this.b ^ (this.b >>> 19) ^ x) >>> 0;
    return this.b;
  }
  fill(out: Uint8Array): Uint8Array {
    let i = 0;
    for (; i + 4 <= out.length; i += 4) {
      const v = this.next();
      out[i] = v & 255;
      out[i + 1] = (v >>> 8) & 255;
      out[i + 2] = (v >>> 16) & 255;
      out[i + 3] = v >>> 24;
    }
    for (; i < out.length; i++) out[i] = this.next() & 255;
    return out;
  }
  bytes(n: number): Uint8Array {
    return this.fill(new Uint8Array(n));
  }
}

/** `size` pseudo-random bytes from `seed`, yielded in pieces of varying sizes (fresh arrays, never retained). */
export async function* prngStream(size: number, seed: number, piece = 100_003): AsyncGenerator<Uint8Array> {
  const prng = new TestPrng(seed);
  let k = 0;
  for (let left = size; left > 0; ) {
    // Vary the piece size so chunk boundaries fall everywhere inside pieces.
    const n = Math.min(left, piece - (k++ % 7) * 997);
    yield prng.bytes(n);
    left -= n;
  }
}

export async function* fromBytes(b: Uint8Array, piece = b.length || 1): AsyncGenerator<Uint8Array> {
  for (let off = 0; off < b.length; off += piece) yield b.subarray(off, Math.min(off + piece, b.length));
}

export async function collect(s: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let n = 0;
  for await (const p of s) {
    parts.push(p.slice());
    n += p.length;
  }
  const out = new Uint8Array(n);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

export async function sha256Stream(s: AsyncIterable<Uint8Array>): Promise<string> {
  const h = createHash('sha256');
  for await (const p of s) h.update(p);
  return h.digest('hex');
}

/** Randomness that replays a fixed byte string, for known-answer vectors; throws if over-consumed. */
export function fixedRandom(bytes: Uint8Array): (n: number) => Uint8Array {
  let off = 0;
  return (n: number) => {
    if (off + n > bytes.length) throw new Error(`fixedRandom: asked for ${n} bytes at ${off}, only ${bytes.length}`);
    const out = bytes.slice(off, off + n);
    off += n;
    return out;
  };
}
