// The inputs of the known-answer vectors and the code that turns them into expected outputs. Shared by
// generate.ts (writes the JSON files) and test/crypto_vectors.test.ts (regenerates and compares).
import { concatBytes, fromHex, toBase64, toHex, utf8Encode } from '../../crypto/bytes.js';
import { encryptEnvelope, type Manifest } from '../../crypto/envelope/index.js';
import { _headerDigest, _payloadKey } from '../../crypto/envelope/stream.js';
import { fingerprint } from '../../crypto/keys.js';
import { padme } from '../../crypto/padme.js';
import { signDocument } from '../../crypto/signed.js';
import { sodium } from '../../crypto/sodium.js';
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
  { name: 'message only, one recipient', recipients: [0], manifest: { v: 1, message: 'Hello, newsroom.', files: [] }, fileSeeds: [] },
  {
    name: 'message, reply, small file, two recipients',
    recipients: [0, 1],
    manifest: {
      v: 1,
      message: 'Voir le fichier joint — 見てください.',
      files: [{ name: 'memo.txt', type: 'text/plain', size: 300 }],
      reply: { box_key: toBase64(labelled('reply key')), mailbox: 'mbx-test-vector' },
    },
    fileSeeds: [1],
  },
  {
    name: 'one file spanning two chunks',
    recipients: [1],
    manifest: { v: 1, message: '', files: [{ name: 'scan.pdf', type: 'application/pdf', size: 70000 }] },
    fileSeeds: [2],
  },
  {
    name: 'three recipients, an empty file and a second file',
    recipients: [0, 1, 2],
    manifest: {
      v: 1,
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
  const header = envelope.subarray(0, 9 + 80 * keys.length);
  return {
    name: d.name,
    recipients: keys.map((k) => ({ box_secret: toHex(k.boxSecret), box_public: toHex(k.boxPublic) })),
    random: toHex(random),
    manifest: d.manifest,
    files: files.map(toHex),
    length: enc.length,
    envelope: toHex(envelope),
    aad: toHex(_headerDigest(header)),
    payload_key: toHex(_payloadKey(random.subarray(0, 32))),
  };
}

export async function buildEnvelopeFile() {
  const vectors: EnvelopeVector[] = [];
  for (const d of envelopeDefs()) vectors.push(await buildEnvelope(d));
  return { version: 1, vectors };
}

export function buildKeysFile() {
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
