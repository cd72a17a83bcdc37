// The inputs of the known-answer vectors and the code that turns them into expected outputs. Shared by
// generate.ts (writes the JSON files) and test/crypto_vectors.test.ts (regenerates and compares).
import { concatBytes, fromHex, toBase64, toHex, utf8Encode } from '../../crypto/bytes.js';
import { encryptEnvelope, envelopeLength, headerLength, paddedLength, type Manifest } from '../../crypto/envelope/index.js';
import { CHUNK_SIZE, MAGIC, VERSION } from '../../crypto/envelope/format.js';
import { _keyCommitment, _sealStanza } from '../../crypto/envelope/seal.js';
import { _chunkCipher, _headerDigest, _payloadKey } from '../../crypto/envelope/stream.js';
import { MIN_KDF, sealKeyFile, type KdfParams, type KeyFile, type KeyRole } from '../../crypto/keyfile.js';
import { fingerprint } from '../../crypto/keys.js';
import { padme } from '../../crypto/padme.js';
import { signDocument } from '../../crypto/signed.js';
import { sodium, sumo } from '../../crypto/sodium.js';
import { collect, fixedRandom, fromBytes, TestPrng } from './helpers.js';

/** Deterministic bytes named by a label, so every input is reproducible from this file alone. */
export function labelled(label: string, n = 32): Uint8Array {
  return sodium().crypto_generichash(n, utf8Encode(`tipline test vector: ${label}`), null);
}

export function recipient(i: number) {
  const boxSecret = labelled(`recipient ${i}`);
  return { boxSecret, boxPublic: sodium().crypto_scalarmult_base(boxSecret) };
}

interface EnvelopeDef {
  name: string;
  recipients: number[];
  manifest: Manifest;
  fileSeeds: number[]; // file i is TestPrng(fileSeeds[i]).bytes(manifest.files[i].size)
}

/** A function, not a constant: the inputs need libsodium, which is loaded asynchronously. */
export const envelopeDefs = (): EnvelopeDef[] => [
  {
    name: 'message only, one recipient (padded to the 64 KiB minimum)',
    recipients: [0],
    manifest: { v: 2, sent_day: '2025-03-14', message: 'Hello, newsroom.', files: [] },
    fileSeeds: [],
  },
  {
    name: 'message, reply, small file, two recipients',
    recipients: [0, 1],
    manifest: {
      v: 2,
      sent_day: '2025-03-14',
      message: 'Voir le fichier joint — 見てください.',
      files: [{ name: 'memo.txt', type: 'text/plain', size: 300 }],
      reply: { box_key: toBase64(labelled('reply key')), mailbox: 'mbx-test-vector' },
    },
    fileSeeds: [1],
  },
  {
    name: 'one file spanning two chunks',
    recipients: [1],
    manifest: { v: 2, sent_day: '2025-12-31', message: '', files: [{ name: 'scan.pdf', type: 'application/pdf', size: 70000 }] },
    fileSeeds: [2],
  },
  {
    name: 'three recipients, an empty file and a second file',
    recipients: [0, 1, 2],
    manifest: {
      v: 2,
      sent_day: '2024-02-29',
      message: 'two files',
      files: [
        { name: 'empty', type: '', size: 0 },
        { name: 'data.bin', type: 'application/octet-stream', size: 4096 },
      ],
    },
    fileSeeds: [3, 4],
  },
];

export interface EnvelopeVector {
  name: string;
  recipients: { box_secret: string; box_public: string }[];
  random: string;
  manifest: Manifest;
  files: string[];
  length: number;
  envelope: string;
  commitment: string;
  aad: string;
  payload_key: string;
}

export function vectorFiles(d: EnvelopeDef): Uint8Array[] {
  return d.manifest.files.map((f, i) => new TestPrng(d.fileSeeds[i]!).bytes(f.size));
}

export async function buildEnvelope(d: EnvelopeDef, aes: 'webcrypto' | 'noble' = 'webcrypto'): Promise<EnvelopeVector> {
  const keys = d.recipients.map(recipient);
  // K, then one stanza seed per recipient, each a labelled 32-byte value.
  const random = concatBytes(labelled(`${d.name}: K`), ...keys.map((_, i) => labelled(`${d.name}: seed ${i}`)));
  const files = vectorFiles(d);
  const enc = encryptEnvelope({
    recipients: keys.map((k) => k.boxPublic),
    manifest: d.manifest,
    files: files.map((f) => fromBytes(f, 1000)),
    aes,
    random: fixedRandom(random),
  });
  const envelope = await collect(enc.stream);
  const header = envelope.subarray(0, headerLength(keys.length));
  return {
    name: d.name,
    recipients: keys.map((k) => ({ box_secret: toHex(k.boxSecret), box_public: toHex(k.boxPublic) })),
    random: toHex(random),
    manifest: d.manifest,
    files: files.map(toHex),
    length: enc.length,
    envelope: toHex(envelope),
    commitment: toHex(_keyCommitment(random.subarray(0, 32))),
    aad: toHex(_headerDigest(header)),
    payload_key: toHex(_payloadKey(random.subarray(0, 32))),
  };
}

// ---- negative vectors: envelopes a correct encoder cannot produce, built from the format's parts ----

/** What a decoder or checkFraming does with an input: 'ok' or the error code. */
export type Outcome = 'ok' | string;

export interface NegativeVector {
  name: string;
  recipients: { box_secret: string; box_public: string }[];
  envelope: string;
  framing: Outcome; // checkFraming(envelope, length)
  decrypt: Outcome[]; // decryptEnvelope with each recipient's key, either AES backend
  message: string; // a substring of every error's message
}

/** u32 BE manifest length || manifest || files || zeros up to `padded`. */
function plaintext(manifest: Manifest, files: Uint8Array[], padded: number): Uint8Array {
  const m = utf8Encode(JSON.stringify(manifest));
  const len = new Uint8Array(4);
  new DataView(len.buffer).setUint32(0, m.length, false);
  const body = concatBytes(len, m, ...files);
  return concatBytes(body, new Uint8Array(padded - body.length));
}

/** A v2 envelope from its parts: each recipient's stanza seals its own key; the header commits to `committed`. */
async function craftEnvelope(stanzaKeys: Uint8Array[], committed: Uint8Array, recipients: Uint8Array[], seeds: Uint8Array[], p: Uint8Array) {
  const stanzas = recipients.map((r, i) => _sealStanza(stanzaKeys[i]!, r, seeds[i]!));
  const header = concatBytes(MAGIC, Uint8Array.of(VERSION, recipients.length), ...stanzas, _keyCommitment(committed));
  const cipher = await _chunkCipher(_payloadKey(committed), _headerDigest(header), 'noble');
  const out = [header];
  const n = Math.ceil(p.length / CHUNK_SIZE);
  for (let i = 0; i < n; i++) out.push(await cipher.seal(i, i === n - 1, p.subarray(i * CHUNK_SIZE, (i + 1) * CHUNK_SIZE)));
  return concatBytes(...out);
}

/** Vector 0 of the version 1 file (commit 35699d3), kept verbatim: a decoder must refuse it by its version byte. */
const V1_ENVELOPE =
  '7469706c696e65010115f3e4c013353939b394dd645636a2402122f8f0f30c878efb16996c24916c2b01aeec5fb7340663a8d237a954b977baf7d4197a579939a371d5d3f28c8fc610a0ba40fdcd1b4e82e1861c542b347a93b912e18c7884b9c7d238c4cf8f2206cdd690bd3a890f4742ba970175ffc353f1a5155934b90a4d2ab592f2eea53177ddd6d9a9835a530ef8f725179b986f8062347298b9';

export async function buildNegativeVectors(): Promise<NegativeVector[]> {
  const keys = [recipient(0), recipient(1)];
  const hexKeys = (ks: typeof keys) => ks.map((k) => ({ box_secret: toHex(k.boxSecret), box_public: toHex(k.boxPublic) }));
  const manifest: Manifest = { v: 2, sent_day: '2025-03-14', message: 'Hello, newsroom.', files: [] };
  const content = 4 + utf8Encode(JSON.stringify(manifest)).length;
  const k = labelled('negative: K');
  const k2 = labelled("negative: K' (a different content key)");
  const seeds = [labelled('negative: seed 0'), labelled('negative: seed 1')];
  const pubs = keys.map((r) => r.boxPublic);

  const split = await craftEnvelope([k, k2], k, pubs, seeds, plaintext(manifest, [], paddedLength(content)));
  const short = await craftEnvelope([k], k, pubs.slice(0, 1), seeds, plaintext(manifest, [], padme(content)));
  return [
    {
      name: "key commitment: K sealed to recipient 0, K' to recipient 1, the header commits to K",
      recipients: hexKeys(keys),
      envelope: toHex(split),
      framing: 'ok',
      decrypt: ['ok', 'TIPLINE_ERR_KEY_COMMITMENT'],
      message: 'does not give every desk the same contents',
    },
    {
      name: 'below the minimum size: padded to padme(content) only, not to 64 KiB first',
      recipients: hexKeys(keys.slice(0, 1)),
      envelope: toHex(short),
      framing: 'TIPLINE_ERR_FRAMING',
      decrypt: ['TIPLINE_ERR_MALFORMED_ENVELOPE'],
      message: '',
    },
    {
      name: 'version 1 envelope',
      recipients: hexKeys(keys.slice(0, 1)),
      envelope: V1_ENVELOPE,
      framing: 'TIPLINE_ERR_FRAMING',
      decrypt: ['TIPLINE_ERR_MALFORMED_ENVELOPE'],
      message: 'version 1',
    },
  ];
}

/** Sizes an implementation must agree on: |P| and the envelope length for a content length and stanza count. */
export function buildSizes() {
  const cases: [number, number][] = [[4, 1], [150, 1], [65536, 1], [65537, 1], [100_000, 3], [1_000_000, 64], [2 ** 31 + 1, 2]];
  return cases.map(([content, stanzas]) => ({
    content,
    stanzas,
    header: headerLength(stanzas),
    padded: paddedLength(content),
    length: envelopeLength(stanzas, content),
  }));
}

export async function buildEnvelopeFile() {
  const vectors: EnvelopeVector[] = [];
  for (const d of envelopeDefs()) vectors.push(await buildEnvelope(d));
  return { version: 2, vectors, negative: await buildNegativeVectors(), sizes: buildSizes() };
}

/** Key files are opened only by the CLI (with libsodium's sumo build, for Argon2id); the page never loads them,
 * so the browser checks leave them out. */
export function buildKeysFileCore() {
  const fingerprints = [0, 1, 2].map((i) => {
    const pk = sodium().crypto_sign_seed_keypair(labelled(`signing ${i}`)).publicKey;
    return { public: toHex(pk), fingerprint: fingerprint(pk) };
  });
  const seed = labelled('root');
  const kp = sodium().crypto_sign_seed_keypair(seed);
  const root = { publicKey: kp.publicKey, secretKey: kp.privateKey };
  const payload = {
    v: 1,
    issued: '2025-01-01T00:00:00Z',
    expires: '2025-04-01T00:00:00Z',
    recipients: [
      {
        name: 'Desk 0',
        role: 'desk',
        box_key: toBase64(recipient(0).boxPublic),
        sign_key: toBase64(fromHex(fingerprints[0]!.public)),
        not_before: '2025-01-01T00:00:00Z',
        not_after: '2025-07-01T00:00:00Z',
      },
    ],
  };
  const signed_documents = [
    { seed: toHex(seed), type: 'directory', payload, document: signDocument('directory', payload, root) },
    { seed: toHex(seed), type: 'policy', payload: { v: 1, retention_days: 30 }, document: signDocument('policy', { v: 1, retention_days: 30 }, root) },
  ];
  const padmeValues = [0, 1, 9, 1000, 65537, 2 ** 31 + 1, 2 ** 32 + 1, 2 ** 40 + 1].map((n) => [n, padme(n)]);
  return { version: 1, fingerprints, signed_documents, padme: padmeValues };
}

export function buildKeysFile() {
  return { ...buildKeysFileCore(), key_files: buildKeyFileVectors() };
}

// ---- key files ----

export interface KeyFileVector {
  name: string;
  passphrase: string;
  file: KeyFile;
  /** 'ok' with the keys it opens to (hex), or the error code openKeyFile throws. */
  outcome: Outcome;
  keys?: { public: Record<string, string>; secret: Record<string, string> };
}

/** secretbox(inner JSON) under Argon2id, as sealKeyFile does, but with no check: for files it would refuse. */
function craftKeyFile(role: KeyRole, name: string, pub: Record<string, Uint8Array>, sec: Record<string, Uint8Array>, passphrase: string, kdf: KdfParams, label: string): KeyFile {
  const b64 = (m: Record<string, Uint8Array>) => Object.fromEntries(Object.keys(m).sort().map((k) => [k, toBase64(m[k]!)]));
  const salt = labelled(`${label}: salt`, 16);
  const nonce = labelled(`${label}: nonce`, 24);
  const s = sumo();
  const key = s.crypto_pwhash(32, utf8Encode(passphrase.normalize('NFC')), salt, kdf.opslimit, kdf.memlimit, s.crypto_pwhash_ALG_ARGON2ID13);
  const inner = { v: 1, role, name, public: b64(pub), secret: b64(sec) };
  return {
    v: 1,
    kind: 'tipline-key',
    role,
    name,
    public: b64(pub),
    kdf: { alg: 'argon2id13', opslimit: kdf.opslimit, memlimit: kdf.memlimit, salt: toBase64(salt) },
    nonce: toBase64(nonce),
    ciphertext: toBase64(s.crypto_secretbox_easy(utf8Encode(JSON.stringify(inner)), nonce, key)),
  };
}

export function buildKeyFileVectors(): KeyFileVector[] {
  // Typed in decomposed form (e + U+0301): the key is derived from the NFC form, "café".
  const passphrase = 'key file vector: cafe\u0301';
  const box = labelled('key file: desk box');
  const boxPublic = sodium().crypto_scalarmult_base(box);
  const sign = sodium().crypto_sign_seed_keypair(labelled('key file: desk sign seed'));
  const other = sodium().crypto_sign_seed_keypair(labelled('key file: another sign seed'));
  const pub = { box: boxPublic, sign: sign.publicKey };
  const sec = { box, sign: sign.privateKey };
  const hex = (m: Record<string, Uint8Array>) => Object.fromEntries(Object.keys(m).sort().map((k) => [k, toHex(m[k]!)]));
  const label = 'key file: desk at the floor';
  const salt = labelled(`${label}: salt`, 16);
  const nonce = labelled(`${label}: nonce`, 24);
  const good = sealKeyFile({ role: 'desk', name: 'Desk A', public: pub, secret: sec, passphrase, kdf: MIN_KDF, random: fixedRandom(concatBytes(salt, nonce)) });
  // Another key's seed with this key's public half: its signatures would not verify under the public key shown.
  const spliced = { box, sign: concatBytes(other.privateKey.subarray(0, 32), sign.publicKey) };
  return [
    { name: 'desk key sealed at the Argon2id floor (2 passes, 64 MiB)', passphrase, file: good, outcome: 'ok', keys: { public: hex(pub), secret: hex(sec) } },
    {
      name: "Ed25519 secret key whose seed does not derive its public half",
      passphrase,
      file: craftKeyFile('desk', 'Desk A', pub, spliced, passphrase, MIN_KDF, 'key file: spliced seed'),
      outcome: 'TIPLINE_ERR_KEYFILE_FORMAT',
    },
    {
      name: 'sealed below the floor (1 pass, 8 MiB): refused before deriving',
      passphrase,
      file: craftKeyFile('desk', 'Desk A', pub, sec, passphrase, { opslimit: 1, memlimit: 8 * 1024 * 1024 }, 'key file: below floor'),
      outcome: 'TIPLINE_ERR_KEYFILE_FORMAT',
    },
  ];
}
