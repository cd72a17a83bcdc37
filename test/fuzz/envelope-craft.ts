// Envelopes a hostile sender could make: authentic chunks (anyone can encrypt to a desk's public key) around a
// plaintext of the sender's choosing: a lying manifest length, a manifest that is not one, file sizes that do not
// add up, non-zero padding, last-chunk flags in the wrong place. Built from the envelope's own sealing pieces, so
// every chunk authenticates and only the decoder's checks stand between the bytes and the desk.
import fc from 'fast-check';
import { concatBytes, utf8Encode } from '../../crypto/bytes.js';
import { sodium } from '../../crypto/sodium.js';
import { MAGIC, VERSION, CHUNK_SIZE } from '../../crypto/envelope/format.js';
import { _keyCommitment, _sealStanza } from '../../crypto/envelope/seal.js';
import { _chunkCipher, _headerDigest, _payloadKey } from '../../crypto/envelope/stream.js';
import { hostileJson, applyJson, jsonOp, type JsonOp } from './mutate.js';

export interface CraftPlan {
  /** The u32 manifest length as written: the true length, or a lie. */
  lengthPrefix: { kind: 'true' } | { kind: 'value'; value: number };
  manifest: { kind: 'mutated'; ops: JsonOp[] } | { kind: 'json'; value: unknown } | { kind: 'bytes'; bytes: Uint8Array };
  /** Bytes after the manifest: file contents and padding as the sender pleases. */
  tail: { length: number; fill: number };
  /** How the plaintext is cut into chunks, and which chunk claims to be the last. */
  chunking: { kind: 'honest' } | { kind: 'sizes'; sizes: number[]; lastAt: number };
}

const validManifest = (day: string) => ({ v: 2, sent_day: day, message: 'a tip', files: [{ name: 'a.txt', type: 'text/plain', size: 10 }] });

export const craftPlan: fc.Arbitrary<CraftPlan> = fc.record({
  lengthPrefix: fc.oneof(
    { weight: 3, arbitrary: fc.constant({ kind: 'true' as const }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('value' as const), value: fc.oneof(fc.constantFrom(0, 1, 0xffffffff, 1024 * 1024, 1024 * 1024 + 1, CHUNK_SIZE, CHUNK_SIZE * 3), fc.nat({ max: 0xffffffff })) }) },
  ),
  manifest: fc.oneof(
    { weight: 4, arbitrary: fc.record({ kind: fc.constant('mutated' as const), ops: fc.array(jsonOp, { maxLength: 3 }) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('json' as const), value: hostileJson }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('bytes' as const), bytes: fc.uint8Array({ maxLength: 200 }) }) },
  ),
  tail: fc.record({ length: fc.oneof(fc.constantFrom(0, 10, CHUNK_SIZE), fc.nat({ max: 3 * CHUNK_SIZE })), fill: fc.constantFrom(0, 0, 0, 1, 0x41) }),
  chunking: fc.oneof(
    { weight: 3, arbitrary: fc.constant({ kind: 'honest' as const }) },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant('sizes' as const),
        sizes: fc.array(fc.oneof(fc.constant(CHUNK_SIZE), fc.integer({ min: 0, max: CHUNK_SIZE + 1 })), { minLength: 1, maxLength: 4 }),
        lastAt: fc.nat({ max: 5 }),
      }),
    },
  ),
});

/** The plaintext the plan describes (before chunking). */
export function craftPlaintext(p: CraftPlan, day: string): Uint8Array {
  let manifest: Uint8Array;
  if (p.manifest.kind === 'bytes') manifest = p.manifest.bytes;
  else {
    const value = p.manifest.kind === 'json' ? p.manifest.value : applyJson(validManifest(day), p.manifest.ops);
    manifest = utf8Encode(JSON.stringify(value) ?? 'null');
  }
  const prefix = new Uint8Array(4);
  new DataView(prefix.buffer).setUint32(0, p.lengthPrefix.kind === 'true' ? manifest.length : p.lengthPrefix.value >>> 0);
  // An honest sender pads to at least one full chunk; the plan's tail decides what follows the manifest.
  const tail = new Uint8Array(p.tail.length).fill(p.tail.fill);
  return concatBytes(prefix, manifest, tail);
}

/** Encrypts `plaintext` to `recipient` with authentic chunks cut as the plan says. */
export async function craftEnvelope(recipient: Uint8Array, plaintext: Uint8Array, chunking: CraftPlan['chunking']): Promise<Uint8Array> {
  const s = sodium();
  const fileKey = s.randombytes_buf(32);
  const header = concatBytes(MAGIC, Uint8Array.of(VERSION, 1), _sealStanza(fileKey, recipient, s.randombytes_buf(32)), _keyCommitment(fileKey));
  const cipher = await _chunkCipher(_payloadKey(fileKey), _headerDigest(header));
  const parts: Uint8Array[] = [header];
  if (chunking.kind === 'honest') {
    const n = Math.max(1, Math.ceil(plaintext.length / CHUNK_SIZE));
    for (let i = 0; i < n; i++) parts.push(await cipher.seal(i, i === n - 1, plaintext.subarray(i * CHUNK_SIZE, (i + 1) * CHUNK_SIZE)));
  } else {
    let off = 0;
    for (let i = 0; off < plaintext.length || i === 0; i++) {
      const size = chunking.sizes[i % chunking.sizes.length]!;
      const last = i === chunking.lastAt || off + size >= plaintext.length;
      parts.push(await cipher.seal(i, last, plaintext.subarray(off, off + size)));
      off += Math.max(size, 1);
      if (last || i > 8) break;
    }
  }
  return concatBytes(...parts);
}
