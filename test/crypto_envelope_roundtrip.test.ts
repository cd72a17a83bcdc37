// Round trips through encryptEnvelope / decryptEnvelope: exact bytes back, exact predicted lengths, lengths the
// server's keyless framing check accepts, both AES backends interoperating, and flat memory for a large file.
import t from 'tap';
import { initCrypto } from '../crypto/node.js';
import { generateDeskKey, type DeskKeyPair } from '../crypto/keys.js';
import {
  CHUNK_SIZE,
  checkFraming,
  contentLength,
  decryptEnvelope,
  encryptEnvelope,
  envelopeLength,
  MIN_ENVELOPE_LENGTH,
  MIN_PADDED_LENGTH,
  paddedLength,
  sentDay,
  sentDayMismatch,
  type AesBackend,
  type Manifest,
} from '../crypto/envelope/index.js';
import { padme } from '../crypto/padme.js';
import { collect, fromBytes, prngStream, sha256Stream, TestPrng } from './vectors/helpers.js';

await initCrypto();

const desk = (): DeskKeyPair => generateDeskKey();
const id = (k: DeskKeyPair) => ({ boxPublic: k.boxPublic, boxSecret: k.boxSecret });

function manifestFor(sizes: number[], message = 'hello'): Manifest {
  return { v: 2, sent_day: '2025-06-01', message, files: sizes.map((size, i) => ({ name: `file-${i}.bin`, type: 'application/octet-stream', size })) };
}

/** Decrypts fully; returns manifest and each file's bytes, checking the event order as it goes. */
async function decryptAll(input: AsyncIterable<Uint8Array>, k: DeskKeyPair, aes?: AesBackend) {
  let manifest: Manifest | undefined;
  const files: Uint8Array[][] = [];
  const ended: number[] = [];
  let end = false;
  for await (const ev of decryptEnvelope(input, id(k), { aes })) {
    if (end) throw new Error('event after end');
    if (ev.kind === 'manifest') manifest = ev.manifest;
    else if (ev.kind === 'data') (files[ev.file] ??= []).push(ev.bytes.slice());
    else if (ev.kind === 'file-end') ended.push(ev.file);
    else end = true;
  }
  if (!end) throw new Error('no end event');
  const joined = (manifest?.files ?? []).map((f, i) => {
    const out = new Uint8Array(f.size);
    let off = 0;
    for (const p of files[i] ?? []) {
      out.set(p, off);
      off += p.length;
    }
    return out;
  });
  return { manifest: manifest!, files: joined, ended };
}

const CASES: { name: string; sizes: number[]; message?: string }[] = [
  { name: 'message only (0 files)', sizes: [], message: '' },
  { name: 'one 1-byte file', sizes: [1] },
  { name: 'one empty file', sizes: [0] },
  { name: '65535-byte file', sizes: [65535] },
  { name: '65536-byte file', sizes: [65536] },
  { name: '65537-byte file', sizes: [65537] },
  { name: 'several files incl. empty', sizes: [10, 0, 70000, 3, 131072] },
  { name: 'non-ASCII message', sizes: [5], message: 'Un témoin — 目撃者 — شاهد 🕵️' },
];

for (const c of CASES) {
  t.test(`round trip: ${c.name}`, async (t) => {
    const k = desk();
    const other = desk();
    const prng = new TestPrng(c.sizes.length + 7);
    const data = c.sizes.map((n) => prng.bytes(n));
    const manifest = manifestFor(c.sizes, c.message);
    const enc = encryptEnvelope({ recipients: [other.boxPublic, k.boxPublic], manifest, files: data.map((d) => fromBytes(d, 4099)) });
    const bytes = await collect(enc.stream);
    t.equal(bytes.length, enc.length, 'length announced = length streamed');
    t.equal(enc.length, envelopeLength(2, contentLength(manifest)), 'envelopeLength predicts it');
    const fr = checkFraming(bytes.subarray(0, 2 * 80 + 41), bytes.length); // exactly the header
    t.equal(fr.stanzaCount, 2);
    t.equal(fr.paddedLength, padme(Math.max(contentLength(manifest), MIN_PADDED_LENGTH)), 'Padmé of at least 64 KiB');
    t.ok(enc.length >= MIN_ENVELOPE_LENGTH + 80, 'never below the minimum envelope (two stanzas)');
    t.equal(fr.chunkCount, Math.ceil(fr.paddedLength / CHUNK_SIZE));
    for (const [who, key] of [['second recipient', k], ['first recipient', other]] as const) {
      for (const piece of [1, 777, 65552, bytes.length]) {
        const out = await decryptAll(fromBytes(bytes, piece), key);
        t.same(out.manifest, manifest, `${who}, pieces of ${piece}: manifest`);
        t.same(out.ended, c.sizes.map((_, i) => i), 'file-end for every file, in order');
        out.files.forEach((f, i) => t.ok(Buffer.from(f).equals(Buffer.from(data[i]!)), `${who}, pieces of ${piece}: file ${i} bytes`));
      }
    }
  });
}

t.test('reply fields survive the round trip', async (t) => {
  const k = desk();
  const manifest: Manifest = { v: 2, sent_day: '2025-06-01', message: 'm', files: [], reply: { box_key: Buffer.alloc(32, 1).toString('base64'), mailbox: 'abc' } };
  const enc = encryptEnvelope({ recipients: [k.boxPublic], manifest, files: [] });
  t.same((await decryptAll(enc.stream, k)).manifest, manifest);
});

t.test('WebCrypto and noble produce identical ciphertext and decrypt each other', async (t) => {
  const k = desk();
  const prng = new TestPrng(99);
  const data = prng.bytes(200_000);
  const seedBytes = prng.bytes(64);
  const manifest = manifestFor([data.length]);
  const run = (aes: AesBackend) => {
    let off = 0;
    const random = (n: number) => seedBytes.slice(off, (off += n));
    return collect(encryptEnvelope({ recipients: [k.boxPublic], manifest, files: [fromBytes(data, 10000)], aes, random }).stream);
  };
  const web = await run('webcrypto');
  const noble = await run('noble');
  t.ok(Buffer.from(web).equals(Buffer.from(noble)), 'byte-identical envelopes');
  for (const [made, read] of [['webcrypto', 'noble'], ['noble', 'webcrypto']] as const) {
    const out = await decryptAll(fromBytes(made === 'webcrypto' ? web : noble, 5000), k, read);
    t.ok(Buffer.from(out.files[0]!).equals(Buffer.from(data)), `${made} → ${read}`);
  }
});

t.test('a file over 64 MiB streams through with flat memory', async (t) => {
  const k = desk();
  const size = 64 * 1024 * 1024 + 12345;
  const manifest = manifestFor([size], 'big');
  const enc = encryptEnvelope({ recipients: [k.boxPublic], manifest, files: [prngStream(size, 1)] });
  t.equal(enc.length, envelopeLength(1, contentLength(manifest)));

  const base = process.memoryUsage();
  let peak = 0;
  const sample = () => {
    const m = process.memoryUsage();
    peak = Math.max(peak, m.heapUsed + m.arrayBuffers - base.heapUsed - base.arrayBuffers);
  };
  let total = 0;
  let prefix: Uint8Array | undefined;
  // Pass the ciphertext straight from the encryptor to the decryptor, counting it on the way.
  async function* tee(): AsyncGenerator<Uint8Array> {
    for await (const p of enc.stream) {
      prefix ??= p.slice();
      total += p.length;
      sample();
      yield p;
    }
  }
  const expected = await sha256Stream(prngStream(size, 1));
  async function* plain(): AsyncGenerator<Uint8Array> {
    for await (const ev of decryptEnvelope(tee(), id(k))) {
      if (ev.kind === 'data') yield ev.bytes;
      if (ev.kind === 'end') t.pass('end event');
    }
  }
  const started = Date.now();
  const got = await sha256Stream(plain());
  const secs = (Date.now() - started) / 1000;
  t.equal(got, expected, 'decrypted bytes hash to the generated bytes');
  t.equal(total, enc.length, 'streamed length = announced length');
  t.equal(checkFraming(prefix!, total).paddedLength, paddedLength(contentLength(manifest)), 'checkFraming accepts it');
  t.ok(peak < 48 * 1024 * 1024, `memory stays flat: peak growth ${(peak / 1048576).toFixed(1)} MiB for a ${(size / 1048576).toFixed(0)} MiB file`);
  t.comment(`encrypt+decrypt ${(size / 1048576).toFixed(0)} MiB in ${secs.toFixed(1)} s (WebCrypto)`);
});

t.test('encryptEnvelope refuses a file that yields more or fewer bytes than declared', async (t) => {
  const k = desk();
  for (const [declared, actual] of [[10, 11], [10, 9]] as const) {
    const enc = encryptEnvelope({ recipients: [k.boxPublic], manifest: manifestFor([declared]), files: [fromBytes(new Uint8Array(actual))] });
    await t.rejects(collect(enc.stream), { code: 'TIPLINE_ERR_FILE_SIZE_MISMATCH' }, `declared ${declared}, yielded ${actual}`);
  }
});

t.test('encryptEnvelope guards its arguments', async (t) => {
  const k = desk();
  const m = manifestFor([]);
  t.throws(() => encryptEnvelope({ recipients: [], manifest: m, files: [] }), { code: 'TIPLINE_ERR_CRYPTO_ARGUMENT' });
  t.throws(() => encryptEnvelope({ recipients: [k.boxPublic.subarray(1)], manifest: m, files: [] }), {
    message: 'recipients[0]: expected Uint8Array of length 32, got length=31',
  });
  t.throws(() => encryptEnvelope({ recipients: [k.boxPublic, k.boxPublic], manifest: m, files: [] }), /repeats/);
  t.throws(() => encryptEnvelope({ recipients: [k.boxPublic], manifest: manifestFor([1]), files: [] }), /one per manifest file/);
  t.throws(() => encryptEnvelope({ recipients: [new Uint8Array(32)], manifest: m, files: [] }), /not a valid X25519/);
  t.throws(
    () => encryptEnvelope({ recipients: [k.boxPublic], manifest: { ...m, extra: 1 } as unknown as Manifest, files: [] }),
    /manifest: expected/,
  );
  t.throws(
    () => encryptEnvelope({ recipients: [k.boxPublic], manifest: { ...m, message: 'x'.repeat(1024 * 1024) }, files: [] }),
    /over the 1048576-byte limit/,
  );
  t.throws(() => encryptEnvelope({ recipients: Array.from({ length: 65 }, () => desk().boxPublic), manifest: m, files: [] }), /1\.\.64/);
});

t.test('every payload is padded to at least 64 KiB: a short tip and an empty one have the same length', async (t) => {
  const k = desk();
  const lengths = new Set<number>();
  for (const message of ['', 'yes', 'x'.repeat(100), 'x'.repeat(60_000)]) {
    const enc = encryptEnvelope({ recipients: [k.boxPublic], manifest: manifestFor([], message), files: [] });
    const bytes = await collect(enc.stream);
    t.equal(bytes.length, enc.length);
    lengths.add(bytes.length);
    t.equal((await decryptAll(fromBytes(bytes, 1000), k)).manifest.message, message, `${message.length}-character message round-trips`);
  }
  t.same([...lengths], [MIN_ENVELOPE_LENGTH], `one length for all of them: ${MIN_ENVELOPE_LENGTH} bytes`);
  t.equal(MIN_ENVELOPE_LENGTH, 9 + 80 + 32 + 65536 + 16);
  t.equal(paddedLength(4), 65536);
  t.equal(paddedLength(65536), 65536);
  t.equal(paddedLength(65537), padme(65537), 'above the minimum, plain Padmé');
  t.throws(() => paddedLength(3), { code: 'TIPLINE_ERR_CRYPTO_ARGUMENT' });
});

t.test('manifest version 2: sent_day is required, a real UTC day, and version 1 is refused', async (t) => {
  const k = desk();
  const enc = (m: unknown) => () => encryptEnvelope({ recipients: [k.boxPublic], manifest: m as Manifest, files: [] });
  const base = manifestFor([]);
  t.throws(enc({ v: 1, message: 'x', files: [] }), { code: 'TIPLINE_ERR_CRYPTO_ARGUMENT', message: /unsupported version 1/ });
  const { sent_day: _, ...noDay } = base;
  t.throws(enc(noDay), /expected \{v, sent_day, message, files, reply\?, answer\?\}/, 'sent_day missing');
  for (const bad of ['2025-02-30', '2025-13-01', '2025-1-01', '2025-01-01T00:00:00Z', 20250101, '']) {
    t.throws(enc({ ...base, sent_day: bad }), /sent_day must be a UTC day/, `sent_day ${JSON.stringify(bad)}`);
  }
  for (const good of ['2024-02-29', '1999-12-31', '2100-01-01']) {
    const out = await decryptAll(encryptEnvelope({ recipients: [k.boxPublic], manifest: { ...base, sent_day: good }, files: [] }).stream, k);
    t.equal(out.manifest.sent_day, good, `${good} round-trips`);
  }
});

t.test('sentDay and sentDayMismatch', async (t) => {
  t.equal(sentDay(new Date('2025-03-14T23:59:59.999Z')), '2025-03-14', 'the UTC day, whatever the local zone');
  t.equal(sentDay(new Date('2025-03-15T00:00:00Z')), '2025-03-15');
  t.throws(() => sentDay(new Date(NaN)), { code: 'TIPLINE_ERR_CRYPTO_ARGUMENT' });
  t.throws(() => sentDay(new Date('+010000-01-01T00:00:00Z')), { code: 'TIPLINE_ERR_CRYPTO_ARGUMENT' });
  t.equal(sentDayMismatch('2025-03-14', '2025-03-14'), undefined, 'same day');
  t.equal(sentDayMismatch('2025-03-14', '2025-03-15'), undefined, 'sealed before midnight, received after');
  t.equal(sentDayMismatch('2025-03-15', '2025-03-14'), undefined, "one day of the sender's clock running ahead");
  t.equal(sentDayMismatch('2024-12-31', '2025-01-01'), undefined, 'across a year');
  t.match(sentDayMismatch('2025-03-14', '2025-03-16'), /sealed on 2025-03-14 .* received on 2025-03-16 \(2 days later\).*old tip sent again/);
  t.match(sentDayMismatch('2024-03-14', '2025-03-14'), /365 days later/);
  t.match(sentDayMismatch('2025-03-17', '2025-03-14'), /3 days after the server says it was received/);
  t.match(sentDayMismatch('2025-03-14', '2025-13-40'), /no valid day of receipt/, "a server's impossible day is a warning, not a crash");
  t.throws(() => sentDayMismatch('yesterday', '2025-03-14'), { code: 'TIPLINE_ERR_CRYPTO_ARGUMENT' });
});
