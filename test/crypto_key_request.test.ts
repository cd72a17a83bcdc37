// Key requests (FORMAT.md §Key request): the vector, proof of possession, strict shape, and the name rules.
import t from 'tap';
import { initCrypto } from '../crypto/node.js';
import { fromBase64, fromHex, toBase64, utf8Decode, utf8Encode } from '../crypto/bytes.js';
import { generateDeskKey, type DeskKeyPair } from '../crypto/keys.js';
import { signDocument, type SignedDocument } from '../crypto/signed.js';
import { sodium } from '../crypto/sodium.js';
import { checkDisplayName, makeKeyRequest, readKeyRequest } from '../crypto/key-request.js';
import { BadSignatureError, CryptoArgumentError, DocumentFormatError } from '../crypto/errors.js';

await initCrypto();

/** The vector's key: Ed25519 seed 32 × 0x01, X25519 secret 32 × 0x02 (FORMAT.md §Key request). */
function vectorKey(): DeskKeyPair {
  const sig = sodium().crypto_sign_seed_keypair(new Uint8Array(32).fill(1));
  const boxSecret = new Uint8Array(32).fill(2);
  return { boxPublic: sodium().crypto_scalarmult_base(boxSecret), boxSecret, signPublic: sig.publicKey, signSecret: sig.privateKey };
}

// The document as FORMAT.md prints it. Ed25519 signatures are deterministic, so this is byte-exact.
const VECTOR: SignedDocument = JSON.parse(
  '{"v":1,"type":"key-request","payload":"eyJ2IjoxLCJuYW1lIjoiTWFyw61hIEzDs3BleiIsInJvbGUiOiJkZXNrIiwiYm94X2tleSI6InpvMDYwY3kyTSt4N2NNRjRGS1hIYnMwQ2xvVUZEVFJIUmJvRmh3NVlmVms9Iiwic2lnbl9rZXkiOiJpb2pqM1hRSjhaWDlVdHN0UExwZGNzcG5DYjhkbEJJYjgzU0lBYlFQYjF3PSJ9","root_key":"iojj3XQJ8ZX9UtstPLpdcspnCb8dlBIb83SIAbQPb1w=","signature":"zg3i/UYHN7Cb80b1MPS5NTwpyBm2xVrvlSoSx8V5g5AFd1cq8AscJnHepoIXkN0NDiHpZywWU07iMv9ba89dBg=="}',
) as SignedDocument;

t.test('vector: María López, desk, is reproduced byte for byte and reads back', async (t) => {
  const doc = makeKeyRequest('María López', 'desk', vectorKey());
  t.same(doc, VECTOR, 'makeKeyRequest gives the published document');
  const r = readKeyRequest(VECTOR);
  t.same(r, { name: 'María López', role: 'desk', box_key: toBase64(vectorKey().boxPublic), sign_key: toBase64(vectorKey().signPublic) });
  t.equal(VECTOR.root_key, r.sign_key, 'signed by the key it asks to list');
  t.equal(utf8Decode(fromBase64(VECTOR.payload)), JSON.stringify({ v: 1, name: 'María López', role: 'desk', box_key: r.box_key, sign_key: r.sign_key }));
});

t.test('decomposed input is stored NFC; any script; auditor role', async (t) => {
  const k = generateDeskKey();
  const decomposed = 'Mari\u0301a Lo\u0301pez';
  t.not(decomposed, 'María López');
  t.equal(readKeyRequest(makeKeyRequest(decomposed, 'desk', k)).name, 'María López');
  for (const name of ['Zoë', '李明', 'Ólafur Ragnar', "O'Brien", 'desk-2', 'a.b_c', 'Андрій', 'محمد', 'x'.repeat(64)]) {
    t.equal(checkDisplayName(name), name.normalize('NFC'), JSON.stringify(name));
  }
  t.equal(readKeyRequest(makeKeyRequest('Audit', 'auditor', k)).role, 'auditor');
});

t.test('names refused: control, bidi, format, surrogates, path characters, length, spacing', async (t) => {
  const bad: [string, RegExp][] = [
    ['', /empty/],
    ['x'.repeat(65), /longer than 64/],
    ['a\nb', /U\+000A/],
    ['a\u0000b', /U\+0000/],
    ['\u202Eyeknom', /U\+202E/],
    ['ab\u200Dc', /U\+200D/],
    ['ab\u2066c', /U\+2066/],
    ['a\uD800b', /surrogate/],
    ['a\uDC00', /surrogate/],
    ['a/b', /U\+002F/],
    ['a\\b', /U\+005C/],
    ['..', /begin with a letter/],
    ['-x', /begin with a letter/],
    [' x', /begin with a letter/],
    ['\u0301x', /begin with a letter/],
    ['x ', /end with a space/],
    ['a  b', /two spaces/],
    ['a\tb', /U\+0009/],
    ['a\u00A0b', /U\+00A0/],
    ['a<b>', /U\+003C/],
    ['😀', /U\+1F600/],
  ];
  for (const [name, msg] of bad) t.throws(() => checkDisplayName(name), { name: 'DocumentFormatError', message: msg }, JSON.stringify(name));
  t.throws(() => checkDisplayName(42), DocumentFormatError);
  t.throws(() => makeKeyRequest('a/b', 'desk', generateDeskKey()), CryptoArgumentError);
});

/** Re-signs `body` as a key-request with `signer`'s key: a well-signed document with a chosen body. */
function forge(body: unknown, signer: DeskKeyPair = vectorKey()): SignedDocument {
  return signDocument('key-request', body, { publicKey: signer.signPublic, secretKey: signer.signSecret });
}

t.test('negative: each refused with the error a reader can act on', async (t) => {
  const k = vectorKey();
  const good = { v: 1, name: 'María López', role: 'desk', box_key: toBase64(k.boxPublic), sign_key: toBase64(k.signPublic) };
  const other = generateDeskKey();
  const cases: [string, unknown, unknown, RegExp][] = [
    ['another key signed it (no proof of possession)', forge(good, other), DocumentFormatError, /signed by a key other than its sign_key/],
    ['root_key swapped to sign_key, signature left', { ...forge(good, other), root_key: good.sign_key }, BadSignatureError, /bad signature/],
    ['payload altered after signing', { ...VECTOR, payload: toBase64(utf8Encode(JSON.stringify({ ...good, role: 'auditor' }))) }, BadSignatureError, /bad signature/],
    ['wrong document type', signDocument('directory', good, { publicKey: k.signPublic, secretKey: k.signSecret }), DocumentFormatError, /expected type "key-request"/],
    ['extra body field', forge({ ...good, not_after: '2099-01-01T00:00:00Z' }), DocumentFormatError, /expected \{v, name, role, box_key, sign_key\}/],
    ['missing field', forge({ v: 1, name: 'x', role: 'desk', sign_key: good.sign_key }), DocumentFormatError, /expected \{v/],
    ['version 2', forge({ ...good, v: 2 }), DocumentFormatError, /unsupported version 2/],
    ['role root', forge({ ...good, role: 'root' }), DocumentFormatError, /role must be/],
    ['name not NFC', forge({ ...good, name: 'Mari\u0301a Lo\u0301pez' }), DocumentFormatError, /not in NFC/],
    ['bidi override in name', forge({ ...good, name: 'María\u202E' }), DocumentFormatError, /U\+202E/],
    ['box_key 31 bytes', forge({ ...good, box_key: toBase64(k.boxPublic.subarray(1)) }), DocumentFormatError, /box_key must be base64 of 32 bytes/],
    ['sign_key not base64', forge({ ...good, sign_key: '!!' }), DocumentFormatError, /sign_key must be base64/],
    ['box_key of low order (all zero)', forge({ ...good, box_key: toBase64(new Uint8Array(32)) }), DocumentFormatError, /low-order/],
    ['box_key of low order (order 8)', forge({ ...good, box_key: toBase64(fromHex('e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800')) }), DocumentFormatError, /low-order/],
    ['extra outer field', { ...VECTOR, name: 'x' }, DocumentFormatError, /expected \{v, type/],
    ['not an object', 'key-request', DocumentFormatError, /expected \{v, type/],
    ['null', null, DocumentFormatError, /expected \{v, type/],
  ];
  for (const [what, doc, cls, msg] of cases) {
    t.throws(() => readKeyRequest(doc), cls as ErrorConstructor, what);
    t.throws(() => readKeyRequest(doc), { message: msg }, `${what}: message`);
  }
});

t.test('makeKeyRequest refuses a key whose halves do not belong together', async (t) => {
  const k = generateDeskKey();
  const o = generateDeskKey();
  t.throws(() => makeKeyRequest('x', 'desk', { ...k, signPublic: o.signPublic }), CryptoArgumentError);
  t.throws(() => makeKeyRequest('x', 'desk', { ...k, boxPublic: o.boxPublic }), CryptoArgumentError);
  t.throws(() => makeKeyRequest('x', 'root' as 'desk', k), CryptoArgumentError);
});
