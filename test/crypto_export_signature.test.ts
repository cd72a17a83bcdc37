// The export signature (crypto/FORMAT.md §Thread export) binds SHA256SUMS, the desk's name, its key and the
// export time: changing any one fails, a signature made for another domain (a deletion statement) with the same
// key does not verify as an export's, and malformed fields are refused before any signature check.
import t from 'tap';
import { initCrypto } from '../crypto/node.js';
import { utf8Encode } from '../crypto/bytes.js';
import { generateSigningKey, sign } from '../crypto/keys.js';
import { signExport, verifyExportSignature } from '../crypto/export-signature.js';
import { BadSignatureError, CryptoArgumentError, DocumentFormatError } from '../crypto/errors.js';

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
