// Known-answer vectors (test/vectors/*.json, format in crypto/FORMAT.md §Test vectors): regenerated here and
// compared byte for byte, decrypted with every recipient and both AES backends, and cross-checked against
// independent implementations (libsodium's crypto_box_seal_open for stanzas, Node's OpenSSL AES-GCM for chunks).
import t from 'tap';
import { readFileSync } from 'node:fs';
import { createDecipheriv } from 'node:crypto';
import { initCrypto } from '../crypto/node.js';
import { fromHex, toHex } from '../crypto/bytes.js';
import { checkFraming, decryptEnvelope, envelopeLength, headerLength, paddedLength, type AesBackend, type Manifest } from '../crypto/envelope/index.js';
import { _keyCommitment } from '../crypto/envelope/seal.js';
import { _chunkNonce } from '../crypto/envelope/stream.js';
import { openKeyFile } from '../crypto/keyfile.js';
import { fingerprint } from '../crypto/keys.js';
import { padme } from '../crypto/padme.js';
import { verifyDocument } from '../crypto/signed.js';
import { sodium } from '../crypto/sodium.js';
import {
  buildEnvelope,
  buildKeysFile,
  buildNegativeVectors,
  buildSizes,
  envelopeDefs,
  type EnvelopeVector,
  type NegativeVector,
  type Outcome,
} from './vectors/definitions.js';
import { fromBytes } from './vectors/helpers.js';

await initCrypto();

// Compiled to dist/test/, so the sources are two levels up.
const load = (name: string): unknown => JSON.parse(readFileSync(new URL(`../../test/vectors/${name}`, import.meta.url), 'utf8'));
const envelopeFile = load('envelope.json') as {
  version: number;
  vectors: EnvelopeVector[];
  negative: NegativeVector[];
  sizes: ReturnType<typeof buildSizes>;
};
const keysFile = load('keys.json') as ReturnType<typeof buildKeysFile>;

/** What decrypting to the end yields: 'ok', or the error's code (and its message, for the vector's substring). */
async function decryptOutcome(bytes: Uint8Array, identity: { boxPublic: Uint8Array; boxSecret: Uint8Array }, aes: AesBackend): Promise<{ code: Outcome; message: string }> {
  try {
    for await (const ev of decryptEnvelope(fromBytes(bytes, 4096), identity, { aes })) if (ev.kind === 'end') return { code: 'ok', message: '' };
    return { code: 'no end event', message: '' };
  } catch (e) {
    return { code: (e as { code?: string }).code ?? String(e), message: (e as Error).message };
  }
}

function framingOutcome(bytes: Uint8Array): { code: Outcome; message: string } {
  try {
    checkFraming(bytes, bytes.length);
    return { code: 'ok', message: '' };
  } catch (e) {
    return { code: (e as { code?: string }).code ?? String(e), message: (e as Error).message };
  }
}

t.test('envelope vectors: present, and one spans two chunks', async (t) => {
  t.equal(envelopeFile.version, 2);
  t.equal(envelopeFile.vectors.length, envelopeDefs().length);
  t.ok(envelopeFile.vectors.some((v) => checkFraming(fromHex(v.envelope), v.length).chunkCount === 2));
});

for (const [i, def] of envelopeDefs().entries()) {
  t.test(`envelope vector: ${def.name}`, async (t) => {
    const want = envelopeFile.vectors[i]!;
    for (const aes of ['webcrypto', 'noble'] as const) {
      const got = await buildEnvelope(def, aes);
      t.equal(got.envelope, want.envelope, `${aes}: regenerated envelope is byte-identical`);
      t.same(got, want, `${aes}: every field matches`);
    }
    const bytes = fromHex(want.envelope);
    t.equal(bytes.length, want.length);
    t.ok(bytes.length >= headerLength(want.recipients.length) + 65536 + 16, 'at least one full chunk');
    t.equal(bytes[7], 2, 'version byte 0x02');
    t.equal(checkFraming(bytes, bytes.length).stanzaCount, want.recipients.length, 'checkFraming accepts it');
    const hl = headerLength(want.recipients.length);
    t.equal(toHex(bytes.subarray(hl - 32, hl)), want.commitment, 'the header ends with the key commitment');
    t.equal(toHex(_keyCommitment(fromHex(want.random.slice(0, 64)))), want.commitment, 'commitment = BLAKE2b-256(key=K, "tipline v2 key commitment")');
    t.equal(toHex(sodium().crypto_generichash(32, bytes.subarray(0, hl), null)), want.aad, 'aad = BLAKE2b-256 of the whole header, commitment included');

    for (const [r, key] of want.recipients.entries()) {
      const identity = { boxPublic: fromHex(key.box_public), boxSecret: fromHex(key.box_secret) };
      // The stanza is a standard libsodium sealed box.
      const stanza = bytes.subarray(9 + 80 * r, 9 + 80 * (r + 1)); // stanzas start after magic, version, count
      t.equal(toHex(sodium().crypto_box_seal_open(stanza, identity.boxPublic, identity.boxSecret)), want.random.slice(0, 64), `recipient ${r}: crypto_box_seal_open yields K`);
      for (const aes of ['webcrypto', 'noble'] as const) {
        let manifest: Manifest | undefined;
        const files: string[] = want.manifest.files.map(() => '');
        let ended = false;
        for await (const ev of decryptEnvelope(fromBytes(bytes, 4096), identity, { aes })) {
          if (ev.kind === 'manifest') manifest = ev.manifest;
          if (ev.kind === 'data') files[ev.file] += toHex(ev.bytes);
          if (ev.kind === 'end') ended = true;
        }
        t.ok(ended, `recipient ${r}, ${aes}: decrypts to the end`);
        t.same(manifest, want.manifest, `recipient ${r}, ${aes}: manifest`);
        t.same(files, want.files, `recipient ${r}, ${aes}: files`);
      }
    }

    // Chunk 0 decrypts with OpenSSL's AES-256-GCM given the vector's payload key and AAD.
    const header = headerLength(want.recipients.length);
    const chunkCount = checkFraming(bytes, bytes.length).chunkCount;
    const c0 = bytes.subarray(header, Math.min(header + 65552, bytes.length));
    const d = createDecipheriv('aes-256-gcm', fromHex(want.payload_key), _chunkNonce(0, chunkCount === 1));
    d.setAAD(fromHex(want.aad));
    d.setAuthTag(c0.subarray(c0.length - 16));
    const p0 = Buffer.concat([d.update(c0.subarray(0, c0.length - 16)), d.final()]);
    const mlen = p0.readUInt32BE(0);
    t.same(JSON.parse(p0.subarray(4, 4 + mlen).toString('utf8')), want.manifest, 'OpenSSL decrypts chunk 0 to the manifest');
  });
}

t.test('negative envelope vectors: regenerated identically', async (t) => {
  t.same(await buildNegativeVectors(), envelopeFile.negative);
  t.same(buildSizes(), envelopeFile.sizes);
  t.ok(envelopeFile.negative.length >= 3);
});

for (const v of envelopeFile.negative) {
  t.test(`negative envelope vector: ${v.name}`, async (t) => {
    const bytes = fromHex(v.envelope);
    const fr = framingOutcome(bytes);
    t.equal(fr.code, v.framing, `checkFraming: ${v.framing}`);
    if (v.framing !== 'ok') t.ok(fr.message.includes(v.message), `framing message mentions "${v.message}": ${fr.message}`);
    t.equal(v.decrypt.length, v.recipients.length);
    for (const [r, key] of v.recipients.entries()) {
      const identity = { boxPublic: fromHex(key.box_public), boxSecret: fromHex(key.box_secret) };
      for (const aes of ['webcrypto', 'noble'] as const) {
        const got = await decryptOutcome(bytes, identity, aes);
        t.equal(got.code, v.decrypt[r], `recipient ${r}, ${aes}: ${v.decrypt[r]}`);
        if (v.decrypt[r] !== 'ok') t.ok(got.message.includes(v.message), `message mentions "${v.message}": ${got.message}`);
      }
    }
  });
}

t.test('size vectors: header, padded length and envelope length', async (t) => {
  for (const z of envelopeFile.sizes) {
    t.equal(headerLength(z.stanzas), z.header);
    t.equal(paddedLength(z.content), z.padded, `paddedLength(${z.content})`);
    t.equal(envelopeLength(z.stanzas, z.content), z.length, `envelopeLength(${z.stanzas}, ${z.content})`);
  }
  t.equal(envelopeFile.sizes[0]!.padded, 65536, 'the smallest content pads to one full chunk');
});

t.test('keys vectors: regenerated identically', async (t) => {
  t.same(buildKeysFile(), keysFile);
});

t.test('keys vectors: fingerprints, signed documents, padme', async (t) => {
  for (const f of keysFile.fingerprints) t.equal(fingerprint(fromHex(f.public)), f.fingerprint);
  for (const s of keysFile.signed_documents) {
    const pk = sodium().crypto_sign_seed_keypair(fromHex(s.seed)).publicKey;
    t.same(verifyDocument(s.document, fingerprint(pk), s.type), s.payload, `${s.type} verifies`);
  }
  for (const [n, p] of keysFile.padme) t.equal(padme(n!), p, `padme(${n})`);
});

t.test('keys vectors: key files open, or are refused with the stated error', async (t) => {
  t.ok(keysFile.key_files.some((v) => v.outcome === 'ok') && keysFile.key_files.some((v) => v.outcome !== 'ok'));
  for (const v of keysFile.key_files) {
    if (v.outcome === 'ok') {
      const k = openKeyFile(v.file, v.passphrase);
      t.same(Object.fromEntries(Object.entries(k.public).map(([n, b]) => [n, toHex(b)])), v.keys!.public, `${v.name}: public keys`);
      t.same(Object.fromEntries(Object.entries(k.secret).map(([n, b]) => [n, toHex(b)])), v.keys!.secret, `${v.name}: secret keys`);
    } else {
      t.throws(() => openKeyFile(v.file, v.passphrase), { code: v.outcome }, v.name);
    }
  }
});
