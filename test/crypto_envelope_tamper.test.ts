// Every way of damaging an envelope fails, and with the error class that says what happened. Envelopes a
// correct encoder cannot produce (non-zero padding, wrong flags) are crafted from the format's internals.
import t from 'tap';
import { initCrypto } from '../crypto/node.js';
import { generateDeskKey, type DeskKeyPair } from '../crypto/keys.js';
import { concatBytes, utf8Encode } from '../crypto/bytes.js';
import { padme } from '../crypto/padme.js';
import { checkFraming, decryptEnvelope, encryptEnvelope, envelopeLength, headerLength, type Manifest } from '../crypto/envelope/index.js';
import { MAGIC, VERSION } from '../crypto/envelope/format.js';
import { _sealStanza } from '../crypto/envelope/seal.js';
import { _chunkCipher, _headerDigest, _payloadKey } from '../crypto/envelope/stream.js';
import { sodium } from '../crypto/sodium.js';
import { collect, fromBytes, TestPrng } from './vectors/helpers.js';

await initCrypto();

const CT = 65552;
const k = generateDeskKey();
const id = (d: DeskKeyPair) => ({ boxPublic: d.boxPublic, boxSecret: d.boxSecret });

async function seal(sizes: number[], recipients = [k.boxPublic], seed = 1): Promise<Uint8Array> {
  const prng = new TestPrng(seed);
  const manifest: Manifest = { v: 1, message: 'tip', files: sizes.map((size, i) => ({ name: `f${i}`, type: '', size })) };
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

// Three chunks: the manifest is in chunk 0, the file spans all three.
const SIZES = [150_000];
const env = await seal(SIZES);
const h1 = headerLength(1);
const chunkStarts = [h1, h1 + CT, h1 + 2 * CT];

t.test('the reference envelope decrypts', async (t) => {
  t.equal(await outcome(env), 'ok');
  t.equal(checkFraming(env, env.length).chunkCount, 3);
});

t.test('a flipped byte anywhere is detected', async (t) => {
  t.equal(await outcome(flip(env, 0)), 'TIPLINE_ERR_MALFORMED_ENVELOPE', 'magic');
  t.equal(await outcome(flip(env, 7)), 'TIPLINE_ERR_MALFORMED_ENVELOPE', 'version');
  t.equal(await outcome(flip(env, 8)), 'TIPLINE_ERR_TAMPERED', 'stanza count 1 -> 0 is refused... or 1 -> ... see below');
});
