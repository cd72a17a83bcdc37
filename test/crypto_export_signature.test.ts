// The export signature (crypto/FORMAT.md §Thread export) binds SHA256SUMS, the desk's name, its key and the
// export time: changing any one fails, a signature made for another domain (a deletion statement) with the same
// key does not verify as an export's, and malformed fields are refused before any signature check.
import t from 'tap';
import { createPublicKey, verify as opensslVerify } from 'node:crypto';
import { initCrypto } from '../crypto/node.js';
import { utf8Encode } from '../crypto/bytes.js';
import { generateSigningKey, sign } from '../crypto/keys.js';
import { signExport, verifyExportSignature } from '../crypto/export-signature.js';
import { BadSignatureError, CryptoArgumentError, DocumentFormatError } from '../crypto/errors.js';
import { sodium } from '../crypto/sodium.js';

await initCrypto();

const key = generateSigningKey();
const sums = utf8Encode(`${'a'.repeat(64)}  thread.json\n`);
const at = '2026-11-27T01:02:03.456Z';
const sig = signExport({ sums, desk: 'desk-a', exportedAt: at }, key.secretKey);

t.test('verifies, and binds every field', async (t) => {
  t.same(verifyExportSignature(sig, sums), sig);
  t.same(verifyExportSignature(JSON.stringify(sig), sums), sig, 'the JSON text too');
  t.throws(() => verifyExportSignature(sig, utf8Encode(`${'b'.repeat(64)}  thread.json\n`)), BadSignatureError, 'other SHA256SUMS');
  t.throws(() => verifyExportSignature({ ...sig, desk: 'desk-b' }, sums), BadSignatureError, 'another desk name');
  t.throws(() => verifyExportSignature({ ...sig, exported_at: '2026-11-27T01:02:03.457Z' }, sums), BadSignatureError, 'another time');
  const other = generateSigningKey();
  t.throws(() => verifyExportSignature({ ...sig, sign_key: Buffer.from(other.publicKey).toString('base64') }, sums), BadSignatureError, 'another key');
});

t.test('a signature of the same bytes without the domain does not verify', async (t) => {
  const bare = Buffer.from(sign(sums, key.secretKey)).toString('base64');
  t.throws(() => verifyExportSignature({ ...sig, signature: bare }, sums), BadSignatureError);
});

t.test('malformed fields are refused', async (t) => {
  t.throws(() => verifyExportSignature({ ...sig, v: 2 }, sums), DocumentFormatError);
  t.throws(() => verifyExportSignature({ ...sig, extra: 1 }, sums), DocumentFormatError);
  t.throws(() => verifyExportSignature({ ...sig, desk: 'a\u202eb' }, sums), DocumentFormatError, 'a bidi override in the name');
  t.throws(() => verifyExportSignature({ ...sig, exported_at: '2026-11-27T01:02:03Z' }, sums), DocumentFormatError, 'a time without milliseconds');
  t.throws(() => verifyExportSignature({ ...sig, exported_at: '2026-02-30T01:02:03.000Z' }, sums), DocumentFormatError, 'an impossible date');
  t.throws(() => verifyExportSignature('{', sums), DocumentFormatError);
  t.throws(() => signExport({ sums, desk: '', exportedAt: at }, key.secretKey), CryptoArgumentError);
  t.throws(() => signExport({ sums, desk: 'desk-a', exportedAt: 'yesterday' }, key.secretKey), CryptoArgumentError);
});

t.test('the known-answer vector of crypto/FORMAT.md §Thread export, checked by OpenSSL over a hand-built frame', async (t) => {
  const kp = sodium().crypto_sign_seed_keypair(new Uint8Array(32).map((_, i) => i));
  const vSums = utf8Encode('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  tips/2026-11-20_aaaaaaaaaaaaaaaaaaaaaaaaaa/files/empty.txt\n');
  const expected = {
    v: 1,
    desk: 'desk-a',
    sign_key: 'A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg=',
    exported_at: '2026-11-27T01:02:03.456Z',
    signature: '8rckfqV6ZGbBuuSOJzCKXJ3fL/NxqJlhxHmqBiBT5iUbf5qtn84RZwQgPKkKzune8ro1OgixfR7+wv93wlGkAg==',
  };
  t.same(signExport({ sums: vSums, desk: 'desk-a', exportedAt: expected.exported_at }, kp.privateKey), expected);
  // u32 big-endian length before each field: domain, SHA256SUMS, desk, key (32 bytes), time.
  const field = (b: Uint8Array) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(b.length);
    return Buffer.concat([len, b]);
  };
  const msg = Buffer.concat([field(utf8Encode('tipline thread export v1')), field(vSums), field(utf8Encode('desk-a')), field(kp.publicKey), field(utf8Encode(expected.exported_at))]);
  const pub = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(kp.publicKey).toString('base64url') }, format: 'jwk' });
  t.ok(opensslVerify(null, msg, pub, Buffer.from(expected.signature, 'base64')), 'OpenSSL verifies the signature over the documented encoding');
});
