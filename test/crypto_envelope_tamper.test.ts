// Every way of damaging an envelope fails, and with the error class that says what happened. Envelopes a
// correct encoder cannot produce (non-zero padding, wrong flags, oversized manifests) are crafted from the
// format's internals. The server's keyless checkFraming accepts exactly the lengths an encoder can produce.
import t from 'tap';
import { initCrypto } from '../crypto/node.js';
import { generateDeskKey, type DeskKeyPair } from '../crypto/keys.js';
import { concatBytes, utf8Encode } from '../crypto/bytes.js';
import { isPadme, padme } from '../crypto/padme.js';
import {
  checkFraming,
  decryptEnvelope,
  encryptEnvelope,
  envelopeLength,
  headerLength,
  MIN_ENVELOPE_LENGTH,
  paddedLength,
  type Manifest,
} from '../crypto/envelope/index.js';
import { MAGIC, VERSION } from '../crypto/envelope/format.js';
import { _keyCommitment, _sealStanza } from '../crypto/envelope/seal.js';
import { _chunkCipher, _headerDigest, _payloadKey } from '../crypto/envelope/stream.js';
import { FramingError } from '../crypto/errors.js';
import { collect, fromBytes, TestPrng } from './vectors/helpers.js';

await initCrypto();

const CT = 65552; // ciphertext size of a full chunk
const k = generateDeskKey();
const id = (d: DeskKeyPair) => ({ boxPublic: d.boxPublic, boxSecret: d.boxSecret });
const prng = new TestPrng(5);

async function seal(sizes: number[], recipients = [k.boxPublic]): Promise<Uint8Array> {
  const manifest: Manifest = { v: 2, sent_day: '2025-06-01', message: 'tip', files: sizes.map((size, i) => ({ name: `f${i}`, type: '', size })) };
  return collect(encryptEnvelope({ recipients, manifest, files: sizes.map((n) => fromBytes(prng.bytes(n), 8192)) }).stream);
}

/** Resolves to the error code decryption fails with, or 'ok' when it reaches 'end'. */
async function outcome(bytes: Uint8Array, who: DeskKeyPair = k, piece = 9000): Promise<string> {
  try {
    for await (const ev of decryptEnvelope(fromBytes(bytes, piece), id(who))) if (ev.kind === 'end') return 'ok';
    return 'no end event';
  } catch (e) {
    return (e as { code?: string }).code ?? String(e);
  }
}

const flip = (b: Uint8Array, at: number): Uint8Array => {
  const c = b.slice();
  c[at]! ^= 0x01;
  return c;
};

const TAMPERED = 'TIPLINE_ERR_TAMPERED';
const TRUNCATED = 'TIPLINE_ERR_TRUNCATED';
const MALFORMED = 'TIPLINE_ERR_MALFORMED_ENVELOPE';
const NOT_FOR_YOU = 'TIPLINE_ERR_NOT_FOR_YOU';
const COMMITMENT = 'TIPLINE_ERR_KEY_COMMITMENT';

// Three chunks: the manifest is in chunk 0, the file spans all three.
const env = await seal([150_000]);
const h1 = headerLength(1);
const chunks = [0, 1, 2].map((i) => env.subarray(h1 + i * CT, Math.min(h1 + (i + 1) * CT, env.length)));
const header = env.subarray(0, h1);

t.test('the reference envelope decrypts and has three chunks', async (t) => {
  t.equal(await outcome(env), 'ok');
  t.equal(checkFraming(env, env.length).chunkCount, 3);
});

t.test('a flipped bit in the header is detected', async (t) => {
  t.equal(await outcome(flip(env, 0)), MALFORMED, 'magic');
  t.equal(await outcome(flip(env, 7)), MALFORMED, 'version 2 -> 3');
  t.equal(await outcome(flip(env, 8)), MALFORMED, 'stanza count 1 -> 0');
  for (const at of [9, 9 + 31, 9 + 32, 9 + 79]) {
    t.equal(await outcome(flip(env, at)), NOT_FOR_YOU, `our only stanza, byte ${at - 9}`);
  }
  // The commitment is checked against the opened key before any chunk: an altered one is not "tampered chunk".
  for (const at of [89, 89 + 31]) t.equal(await outcome(flip(env, at)), COMMITMENT, `key commitment, byte ${at - 89}`);
});

t.test("a flipped bit in another recipient's stanza fails every chunk (header is the AAD)", async (t) => {
  const other = generateDeskKey();
  const two = await seal([10], [other.boxPublic, k.boxPublic]);
  t.equal(await outcome(two), 'ok');
  t.equal(await outcome(flip(two, 9 + 40)), TAMPERED, 'first stanza modified, second still opens');
  // Removing the other stanza (and fixing the count) is also caught.
  const removed = concatBytes(MAGIC, Uint8Array.of(VERSION, 1), two.subarray(9 + 80));
  t.equal(await outcome(removed), TAMPERED, 'stanza removed');
});

t.test('a flipped bit in any chunk region is TamperedError', async (t) => {
  chunks.forEach((c, i) => t.comment(`chunk ${i}: ${c.length} bytes`));
  for (let i = 0; i < 3; i++) {
    const start = h1 + i * CT;
    const len = chunks[i]!.length;
    for (const [where, off] of [['first byte', 0], ['middle', len >> 1], ['tag', len - 1]] as const) {
      t.equal(await outcome(flip(env, start + off)), TAMPERED, `chunk ${i}, ${where}`);
    }
  }
});

t.test('truncation', async (t) => {
  for (const n of [0, 5, 9, h1 - 1]) t.equal(await outcome(env.subarray(0, n)), TRUNCATED, `inside the header (${n} bytes)`);
  t.equal(await outcome(env.subarray(0, h1)), TRUNCATED, 'header only');
  t.equal(await outcome(env.subarray(0, h1 + CT)), TRUNCATED, 'after chunk 0 (boundary)');
  t.equal(await outcome(env.subarray(0, h1 + 2 * CT)), TRUNCATED, 'after chunk 1 (final chunk dropped)');
  t.equal(await outcome(env.subarray(0, h1 + CT + 100)), TRUNCATED, 'mid chunk 1');
  t.equal(await outcome(env.subarray(0, h1 + 2 * CT + 17)), TRUNCATED, 'mid final chunk');
  t.equal(await outcome(env.subarray(0, env.length - 1)), TRUNCATED, 'one byte short');
  // Before the manifest is read the decoder cannot know the length: a cut inside chunk 0 is an auth failure.
  t.equal(await outcome(env.subarray(0, h1 + 1000)), TAMPERED, 'mid chunk 0 (length not yet known)');
  for (const piece of [1, 65552, 1 << 20]) {
    t.equal(await outcome(env.subarray(0, h1 + CT), k, piece), TRUNCATED, `boundary cut, input pieces of ${piece}`);
  }
});

t.test('reordered, duplicated and spliced chunks are TamperedError', async (t) => {
  t.equal(await outcome(concatBytes(header, chunks[1]!, chunks[0]!, chunks[2]!)), TAMPERED, 'chunks 0 and 1 swapped');
  t.equal(await outcome(concatBytes(header, chunks[0]!, chunks[2]!, chunks[1]!)), TAMPERED, 'chunks 1 and 2 swapped');
  t.equal(await outcome(concatBytes(header, chunks[0]!, chunks[0]!, chunks[2]!)), TAMPERED, 'chunk 0 duplicated');
  const other = await seal([150_000]); // same recipient, same sizes, different content key
  const oc = (i: number) => other.subarray(h1 + i * CT, Math.min(h1 + (i + 1) * CT, other.length));
  t.equal(await outcome(concatBytes(header, chunks[0]!, oc(1), chunks[2]!)), TAMPERED, 'chunk 1 from another envelope');
  t.equal(await outcome(concatBytes(header, chunks[0]!, chunks[1]!, oc(2))), TAMPERED, 'final chunk from another envelope');
  t.equal(await outcome(concatBytes(other.subarray(0, h1), chunks[0]!, chunks[1]!, chunks[2]!)), TAMPERED, 'header from another envelope');
});

t.test('appended bytes', async (t) => {
  t.equal(await outcome(concatBytes(env, Uint8Array.of(0))), MALFORMED, 'one byte');
  t.equal(await outcome(concatBytes(env, env.subarray(h1))), MALFORMED, 'a copy of all chunks');
  t.equal(await outcome(concatBytes(env, Uint8Array.of(0)), k, 1), MALFORMED, 'one byte, input byte by byte');
  // Version 1 could not tell this from a damaged chunk (a short only chunk); with the 64 KiB minimum the only
  // chunk is always full, so a byte after it is known to be trailing data.
  const small = await seal([]);
  t.equal(small.length, MIN_ENVELOPE_LENGTH);
  t.equal(await outcome(concatBytes(small, Uint8Array.of(0))), MALFORMED, 'single-chunk envelope: trailing data');
});

t.test('wrong key is NotForYouError', async (t) => {
  t.equal(await outcome(env, generateDeskKey()), NOT_FOR_YOU);
});

// ---- crafted envelopes: what a key holder (a malicious sender) could build ----

async function craft(plain: Uint8Array, flag: (i: number, n: number) => boolean = (i, n) => i === n - 1, chunkLens?: number[]) {
  const fileKey = prng.bytes(32);
  const hdr = concatBytes(MAGIC, Uint8Array.of(VERSION, 1), _sealStanza(fileKey, k.boxPublic, prng.bytes(32)), _keyCommitment(fileKey));
  const c = await _chunkCipher(_payloadKey(fileKey), _headerDigest(hdr), 'noble');
  const lens = chunkLens ?? [];
  if (!chunkLens) for (let off = 0; off < plain.length || lens.length === 0; off += 65536) lens.push(Math.min(65536, plain.length - off));
  const out: Uint8Array[] = [hdr];
  let off = 0;
  for (let i = 0; i < lens.length; i++) {
    out.push(await c.seal(i, flag(i, lens.length), plain.subarray(off, off + lens[i]!)));
    off += lens[i]!;
  }
  return concatBytes(...out);
}

function payload(manifest: unknown, files: Uint8Array, padding: number | Uint8Array, rawManifest?: Uint8Array): Uint8Array {
  const m = rawManifest ?? utf8Encode(JSON.stringify(manifest));
  const len = new Uint8Array(4);
  new DataView(len.buffer).setUint32(0, m.length);
  const body = concatBytes(len, m, files);
  const pad = typeof padding === 'number' ? new Uint8Array(Math.max(0, paddedLength(body.length) - body.length + padding)) : padding;
  return concatBytes(body, pad);
}

const M = (size: number): Manifest => ({ v: 2, sent_day: '2025-06-01', message: 'x', files: [{ name: 'a', type: '', size }] });

t.test('crafted: a correct hand-built envelope decrypts (the crafting is sound)', async (t) => {
  t.equal(await outcome(await craft(payload(M(1000), prng.bytes(1000), 0))), 'ok');
});

t.test('crafted: padding rules', async (t) => {
  const p = payload(M(1000), prng.bytes(1000), 0);
  t.ok(p.length > 4 + 1000 + 10, 'this payload has padding');
  const bad = p.slice();
  bad[bad.length - 1] = 1;
  t.equal(await outcome(await craft(bad)), MALFORMED, 'non-zero padding byte');
  t.equal(await outcome(await craft(payload(M(1000), prng.bytes(1000), 1))), MALFORMED, 'one zero too many');
  t.equal(await outcome(await craft(payload(M(1000), prng.bytes(1000), -1))), MALFORMED, 'one zero too few');
  t.equal(await outcome(await craft(payload(M(1000), prng.bytes(1000), new Uint8Array(0)))), MALFORMED, 'no padding');
});

t.test('crafted: manifest rules', async (t) => {
  const big = new Uint8Array(4);
  new DataView(big.buffer).setUint32(0, 1024 * 1024 + 1);
  t.equal(await outcome(await craft(concatBytes(big, new Uint8Array(60)))), MALFORMED, 'manifest length over 1 MiB (refused before buffering)');
  t.equal(await outcome(await craft(payload(null, new Uint8Array(0), 0, utf8Encode('{"v":1,')))), MALFORMED, 'not JSON');
  t.equal(await outcome(await craft(payload(null, new Uint8Array(0), 0, Uint8Array.of(0x7b, 0xff, 0x7d)))), MALFORMED, 'not UTF-8');
  t.equal(await outcome(await craft(payload({ ...M(0), extra: 1 }, new Uint8Array(0), 0))), MALFORMED, 'unknown field');
  t.equal(await outcome(await craft(payload({ v: 1, message: '', files: [] }, new Uint8Array(0), 0))), MALFORMED, 'manifest version 1');
  t.equal(await outcome(await craft(payload({ ...M(0), v: 3 }, new Uint8Array(0), 0))), MALFORMED, 'manifest version 3');
  t.equal(await outcome(await craft(payload({ ...M(0), sent_day: '2025-02-30' }, new Uint8Array(0), 0))), MALFORMED, 'sent_day not a day');
  const { sent_day: _, ...noDay } = M(0);
  t.equal(await outcome(await craft(payload(noDay, new Uint8Array(0), 0))), MALFORMED, 'sent_day missing');
  t.equal(await outcome(await craft(payload(M(-1), new Uint8Array(0), 0))), MALFORMED, 'negative size');
  t.equal(await outcome(await craft(payload(M(1.5), new Uint8Array(0), 0))), MALFORMED, 'fractional size');
  t.equal(await outcome(await craft(payload(null, new Uint8Array(0), 0, new Uint8Array(0)))), MALFORMED, 'empty manifest');
  t.equal(await outcome(await craft(Uint8Array.of(0, 0))), MALFORMED, 'final chunk ends inside the length prefix');
  const huge = { v: 2, sent_day: '2025-06-01', message: '', files: [{ name: 'a', type: '', size: 2 ** 53 - 1 }, { name: 'b', type: '', size: 5 }] };
  t.equal(await outcome(await craft(payload(huge, new Uint8Array(0), 0))), MALFORMED, 'sizes that overflow');
});

t.test('crafted: last-chunk flag rules', async (t) => {
  const one = payload(M(10), prng.bytes(10), 0);
  t.equal(await outcome(await craft(one, () => false)), TRUNCATED, 'no chunk flagged final looks truncated');
  const two = payload(M(100_000), prng.bytes(100_000), 0);
  t.equal(await outcome(await craft(two, (i) => i === 0)), MALFORMED, 'first of two chunks flagged final: trailing data');
  t.equal(await outcome(await craft(two, () => true)), MALFORMED, 'every chunk flagged final: trailing data');
  // Exactly 65536 bytes of payload, then an empty final chunk: the final chunk MUST NOT be empty.
  const fileSize = 65536 - 4 - (JSON.stringify(M(0)).length + 4); // a 5-digit size replaces "0"
  const full = payload(M(fileSize), prng.bytes(fileSize), 0);
  t.equal(full.length, 65536, 'payload is exactly one full chunk, no padding');
  t.equal(await outcome(await craft(full, (i) => i === 1, [65536, 0])), MALFORMED, 'empty final chunk after a full one');
  t.equal(await outcome(await craft(full, (i) => i === 0, [65536])), 'ok', 'the canonical form of the same payload');
  t.equal(await outcome(await craft(two, (i) => i === 1, [65535, two.length - 65535])), TAMPERED, 'short non-final chunk (framing no longer lines up)');
});

// ---- checkFraming ----

t.test('checkFraming refuses bad headers', async (t) => {
  const f = (b: Uint8Array, len = env.length) => () => checkFraming(b, len);
  const withByte = (at: number, v: number) => {
    const c = env.slice(0, 200);
    c[at] = v;
    return c;
  };
  t.throws(f(withByte(0, 0x54)), FramingError, 'wrong magic');
  t.throws(f(withByte(7, 3)), { name: 'FramingError', message: /unsupported envelope version 3/ }, 'version 3');
  t.throws(f(withByte(7, 1)), { name: 'FramingError', message: /version 1 is no longer accepted/ }, 'version 1');
  t.throws(f(withByte(8, 0)), { message: /stanza count 0/ }, 'stanza count 0');
  t.throws(f(withByte(8, 65)), { message: /stanza count 65/ }, 'stanza count 65');
  t.throws(f(env.subarray(0, 8)), FramingError, 'prefix shorter than the fixed header');
  t.throws(f(env.subarray(0, h1 - 1)), { message: /prefix holds 120 bytes/ }, 'prefix shorter than the stanzas and commitment');
  t.throws(f(withByte(8, 2)), FramingError, 'count 2 with a 1-stanza length');
});

t.test('checkFraming: lengths off by one are refused', async (t) => {
  for (const content of [4, 100, 1000, 65500, 65536, 65537, 150_000, 10_000_000, 2 ** 31 + 5]) {
    for (const n of [1, 3, 64]) {
      const prefix = concatBytes(MAGIC, Uint8Array.of(VERSION, n), new Uint8Array(80 * n + 32));
      const L = envelopeLength(n, content);
      t.equal(checkFraming(prefix, L).paddedLength, paddedLength(content), `content ${content}, ${n} stanzas: exact length accepted`);
      t.throws(() => checkFraming(prefix, L + 1), FramingError, `+1 refused`);
      t.throws(() => checkFraming(prefix, L - 1), FramingError, `-1 refused`);
    }
  }
});

t.test('checkFraming accepts exactly the lengths envelopeLength produces (exhaustive to 300 000)', async (t) => {
  const prefix = env.subarray(0, h1);
  const valid = new Set<number>();
  for (let p = 4; p < 300_000; p++) if (isPadme(p)) valid.add(envelopeLength(1, p));
  let wrong = 0;
  for (let total = 0; total < h1 + 300_000; total++) {
    let ok = true;
    try {
      checkFraming(prefix, total);
    } catch {
      ok = false;
    }
    if (ok !== valid.has(total)) wrong++;
  }
  t.equal(wrong, 0, `${valid.size} valid lengths, no disagreement`);
  t.notOk(valid.has(MIN_ENVELOPE_LENGTH - 1));
  t.ok(valid.has(MIN_ENVELOPE_LENGTH));
});

t.test('checkFraming refuses every length below the 64 KiB minimum, including the Padmé sizes version 1 allowed', async (t) => {
  const prefix = env.subarray(0, h1);
  t.equal(MIN_ENVELOPE_LENGTH, h1 + 65536 + 16);
  t.equal(checkFraming(prefix, MIN_ENVELOPE_LENGTH).paddedLength, 65536, 'the minimum itself: one full chunk');
  let accepted = 0;
  for (let total = 0; total < MIN_ENVELOPE_LENGTH; total++) {
    try {
      checkFraming(prefix, total);
      accepted++;
    } catch (e) {
      if (!(e instanceof FramingError)) throw e;
    }
  }
  t.equal(accepted, 0, `no length below ${MIN_ENVELOPE_LENGTH} is accepted`);
  for (const p of [4, 144, 1024, 61440]) {
    t.throws(() => checkFraming(prefix, h1 + p + 16), { name: 'FramingError', message: /below the minimum envelope size/ }, `padded ${p} (a Padmé size)`);
  }
});

// ---- key commitment ----

/** A header sealing keys[i] to recipients[i] and committing to `committed`, with chunks under `committed`. */
async function splitKeys(keys: Uint8Array[], committed: Uint8Array, recipients: Uint8Array[], chunkKey = committed) {
  const stanzas = recipients.map((r, i) => _sealStanza(keys[i]!, r, prng.bytes(32)));
  const hdr = concatBytes(MAGIC, Uint8Array.of(VERSION, recipients.length), ...stanzas, _keyCommitment(committed));
  const c = await _chunkCipher(_payloadKey(chunkKey), _headerDigest(hdr), 'noble');
  return concatBytes(hdr, await c.seal(0, true, payload(M(10), prng.bytes(10), 0)));
}

t.test('key commitment: a key sealed to one desk but not committed to is KeyCommitmentError, for that desk only', async (t) => {
  const d2 = generateDeskKey();
  const K = prng.bytes(32);
  const K2 = prng.bytes(32);
  const same = await splitKeys([K, K], K, [k.boxPublic, d2.boxPublic]);
  t.equal(await outcome(same), 'ok', 'control: one key for both desks, desk 1');
  t.equal(await outcome(same, d2), 'ok', 'control: desk 2');
  const split = await splitKeys([K, K2], K, [k.boxPublic, d2.boxPublic]);
  t.equal(await outcome(split), 'ok', 'desk 1 holds the committed key and reads the tip');
  t.equal(await outcome(split, d2), COMMITMENT, "desk 2 holds another key: KeyCommitmentError, not TamperedError");
  t.equal(checkFraming(split, split.length).stanzaCount, 2, 'the server cannot tell (it holds no key)');
  // Desk 2's chunks were even sealed for it: a sender cannot make the commitment pass with chunks that decrypt.
  t.equal(await outcome(await splitKeys([K, K2], K, [k.boxPublic, d2.boxPublic], K2), d2), COMMITMENT, 'chunks under the uncommitted key');
  // Two stanzas for the same desk, one with the committed key and one without, are refused as well.
  t.equal(await outcome(await splitKeys([K, K2], K, [k.boxPublic, k.boxPublic])), COMMITMENT, 'two stanzas for one desk, different keys');
  t.equal(await outcome(await splitKeys([K, K], K, [d2.boxPublic, d2.boxPublic])), NOT_FOR_YOU, 'no stanza for this desk: NotForYouError');
});

t.test('key commitment is checked before any chunk is read, with a message that says what it means', async (t) => {
  const d2 = generateDeskKey();
  const split = await splitKeys([prng.bytes(32), prng.bytes(32)], prng.bytes(32), [k.boxPublic, d2.boxPublic]);
  const headerOnly = split.subarray(0, headerLength(2));
  t.equal(await outcome(headerOnly), COMMITMENT, 'header alone: no chunk needed to refuse');
  await t.rejects(
    (async () => {
      for await (const _ of decryptEnvelope(fromBytes(split), id(k))) void _;
    })(),
    { name: 'KeyCommitmentError', message: /does not give every desk the same contents/ },
  );
});

t.test('below the minimum: an envelope padded by Padmé alone is refused by the decoder and by checkFraming', async (t) => {
  const fileKey = prng.bytes(32);
  const hdr = concatBytes(MAGIC, Uint8Array.of(VERSION, 1), _sealStanza(fileKey, k.boxPublic, prng.bytes(32)), _keyCommitment(fileKey));
  const c = await _chunkCipher(_payloadKey(fileKey), _headerDigest(hdr), 'noble');
  const body = payload(M(10), prng.bytes(10), new Uint8Array(0));
  const p = concatBytes(body, new Uint8Array(padme(body.length) - body.length));
  const short = concatBytes(hdr, await c.seal(0, true, p));
  t.ok(short.length < MIN_ENVELOPE_LENGTH);
  t.equal(await outcome(short), MALFORMED, 'decoder: payload shorter than its manifest implies');
  t.throws(() => checkFraming(short, short.length), { name: 'FramingError', message: /below the minimum/ });
});

t.test('a version 1 envelope is refused with a message naming the version', async (t) => {
  const v1 = env.slice();
  v1[7] = 1;
  await t.rejects(
    (async () => {
      for await (const _ of decryptEnvelope(fromBytes(v1), id(k))) void _;
    })(),
    { name: 'MalformedEnvelopeError', message: /envelope version 1 is no longer accepted/ },
  );
});
