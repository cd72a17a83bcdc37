// Proof-of-work hashing, shared by the server (checking) and the clients (solving).
import { sodium } from './sodium.js';
import { utf8Encode } from './bytes.js';

export function powHash(token: string, nonce: string): Uint8Array {
  return sodium().crypto_generichash(32, utf8Encode(`tipline pow v1\n${token}\n${nonce}`), null);
}

export function leadingZeroBits(h: Uint8Array): number {
  let bits = 0;
  for (const byte of h) {
    if (byte !== 0) return bits + Math.clz32(byte) - 24;
    bits += 8;
  }
  return bits;
}

/** Finds the smallest decimal counter whose hash has `difficulty` leading zero bits. */
export function solvePow(token: string, difficulty: number): string {
  for (let n = 0; ; n++) {
    const nonce = String(n);
    if (leadingZeroBits(powHash(token, nonce)) >= difficulty) return nonce;
  }
}
