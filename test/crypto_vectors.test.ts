// Known-answer vectors (test/vectors/*.json, format in crypto/FORMAT.md §Test vectors): regenerated here and
// compared byte for byte, decrypted with every recipient and both AES backends, and cross-checked against
// independent implementations (libsodium's crypto_box_seal_open for stanzas, Node's OpenSSL AES-GCM for chunks).
import t from 'tap';
import { readFileSync } from 'node:fs';
import { createDecipheriv } from 'node:crypto';
import { initCrypto } from '../crypto/node.js';
import { fromHex, toHex } from '../crypto/bytes.js';
import { checkFraming, decryptEnvelope, type Manifest } from '../crypto/envelope/index.js';
import { _chunkNonce } from '../crypto/envelope/stream.js';
import { fingerprint } from '../crypto/keys.js';
import { padme } from '../crypto/padme.js';
import { verifyDocument } from '../crypto/signed.js';
import { sodium } from '../crypto/sodium.js';
import { buildEnvelope, buildKeysFile, envelopeDefs, type EnvelopeVector } from './vectors/definitions.js';
import { fromBytes } from './vectors/helpers.js';

await initCrypto();

// Compiled to dist/test/, so the sources are two levels up.
const load = (name: string): unknown => JSON.parse(readFileSync(new URL(`../../test/vectors/${name}`, import.meta.url), 'utf8'));
const envelopeFile = load('envelope.json') as { version: number; vectors: EnvelopeVector[] };
const keysFile = load('keys.json') as ReturnType<typeof buildKeysFile>;

t.test('envelope vectors: present, and one spans two chunks', async (t) => {
  t.equal(envelopeFile.version, 1);
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
    t.equal(checkFraming(bytes, bytes.length).stanzaCount, want.recipients.length, 'checkFraming accepts it');

    for (const [r, key] of want.recipients.entries()) {
      const identity = { boxPublic: fromHex(key.box_public), boxSecret: fromHex(key.box_secret) };
      // The stanza is a standard libsodium sealed box.
      const stanza = bytes.subarray(9 + 80 * r, 9 + 80 * (r + 1));
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
    const header = 9 + 80 * want.recipients.length;
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
