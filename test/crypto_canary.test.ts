// The warrant canary (crypto/FORMAT.md §Canary): made, signed by the certified directory signing key and verified
// back through root -> certificate -> canary; a stale canary is reported (stale, its age), never thrown; every
// refusal a verifier relies on (wrong type, wrong root, a flipped signature byte, an edited payload, a life
// outside the signing key's certificate, a key the certificate does not name); makeCanary and signCanary refusing
// what verifiers would refuse; and the canary vectors of test/vectors/documents.json.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { initCrypto } from '../crypto/node.js';
import { fromBase64, toBase64, utf8Decode, utf8Encode } from '../crypto/bytes.js';
import { certifySigner } from '../crypto/directory.js';
import { fingerprint, generateSigningKey } from '../crypto/keys.js';
import { signCertifiedDocument, signDocument, type SignedDocument } from '../crypto/signed.js';
import { DEFAULT_STATEMENT, MAX_CANARY_DAYS, makeCanary, signCanary, verifyCanary, type Canary } from '../crypto/canary.js';
import { checkDocumentVectors, type DocumentsFile } from './vectors/documents.js';

await initCrypto();

const file = JSON.parse(readFileSync(new URL('../../test/vectors/documents.json', import.meta.url), 'utf8')) as DocumentsFile;
const DAY = 86_400_000;
const root = generateSigningKey();
const signer = generateSigningKey();
const fp = fingerprint(root.publicKey);
const cert = certifySigner(signer.publicKey, new Date('2026-01-01T00:00:00Z'), new Date('2026-03-31T00:00:00Z'), root);
const NOW = new Date('2026-02-01T08:00:00.000Z');

const payloadOf = (doc: SignedDocument) => JSON.parse(utf8Decode(fromBase64(doc.payload))) as Canary;
const withPayload = (doc: SignedDocument, p: unknown): SignedDocument => ({ ...doc, payload: toBase64(utf8Encode(JSON.stringify(p))) });

t.test('canary vectors: each verifies, or is refused with its error', async (t) => {
  const results = checkDocumentVectors(file, 'canary');
  t.ok(results.length >= 12, `${results.length} canary vectors`);
  for (const [name, problem] of results) t.equal(problem, undefined, name);
});

t.test('round trip, fresh then stale', async (t) => {
  const c = makeCanary(NOW, 14);
  t.equal(c.statement, DEFAULT_STATEMENT, 'the standard statement by default');
  t.equal(c.issued, NOW.toISOString());
  t.equal(Date.parse(c.expires) - Date.parse(c.issued), 14 * DAY, 'expires 14 days after it is issued');
  t.equal(c.serial, NOW.getTime() / 1000);
  const doc = signCanary(c, cert, signer);
  t.ok(doc.certificate, 'it carries the certificate of its signing key');
  t.same(verifyCanary(doc, fp, NOW), { canary: c, stale: false, ageDays: 0 }, 'fresh when issued');
  t.same(verifyCanary(doc, fp, new Date(NOW.getTime() + 13 * DAY + 1)), { canary: c, stale: false, ageDays: 13 }, 'fresh on its last day');
  t.same(verifyCanary(doc, fp, new Date(Date.parse(c.expires))), { canary: c, stale: false, ageDays: 14 }, 'fresh at the very instant it expires');
  t.same(verifyCanary(doc, fp, new Date(Date.parse(c.expires) + 1)), { canary: c, stale: true, ageDays: 14 }, 'stale a millisecond after: reported, not thrown');
  t.same(verifyCanary(doc, fp, new Date('2026-09-01T00:00:00Z')).stale, true, 'still read (and stale) after its certificate ended');
  t.throws(() => verifyCanary(doc, fp, new Date(NaN)), { code: 'TIPLINE_ERR_CRYPTO_ARGUMENT', message: /valid Date/ }, 'an invalid clock is refused, not read as "not stale"');

  const next = makeCanary(NOW, 3, c.serial, 'No order received.');
  t.equal(next.serial, c.serial + 1, 'signed again the same second: one above the previous serial');
  t.ok(Date.parse(next.issued) / 1000 >= next.serial, 'the serial never exceeds the issue time');
  t.same(verifyCanary(signCanary(next, cert, signer), fp, NOW).canary, next);
});

t.test('verifyCanary refuses', async (t) => {
  const c = makeCanary(NOW, 14);
  const doc = signCanary(c, cert, signer);
  const otherRoot = generateSigningKey();
  const otherSigner = generateSigningKey();
  const sig = fromBase64(doc.signature);
  sig[63] = sig[63]! ^ 1;
  const raw = (p: unknown, k = signer) => signCertifiedDocument('canary', p, cert, k);
  const cases: [string, unknown, string, string, RegExp][] = [
    ['a flipped signature byte', { ...doc, signature: toBase64(sig) }, fp, 'TIPLINE_ERR_BAD_SIGNATURE', /not by the certified key/],
    ['the payload edited (a later expiry), its signature kept', withPayload(doc, { ...payloadOf(doc), expires: '2026-03-01T08:00:00.000Z' }), fp, 'TIPLINE_ERR_BAD_SIGNATURE', /not by the certified key/],
    ['another root than the one expected', doc, fingerprint(otherRoot.publicKey), 'TIPLINE_ERR_FINGERPRINT_MISMATCH', /expected/],
    ['certified by another root', signCanary(c, certifySigner(signer.publicKey, new Date('2026-01-01T00:00:00Z'), new Date('2026-03-31T00:00:00Z'), otherRoot), signer), fp, 'TIPLINE_ERR_FINGERPRINT_MISMATCH', /expected/],
    ['signed by a key the certificate does not name', raw(c, otherSigner), fp, 'TIPLINE_ERR_BAD_SIGNATURE', /not by the certified key/],
    ['signed by the root itself, no certificate', signDocument('canary', c, root), fp, 'TIPLINE_ERR_DOCUMENT_FORMAT', /must carry a certificate/],
    ['a directory-typed document', signCertifiedDocument('directory', c, cert, signer), fp, 'TIPLINE_ERR_DOCUMENT_FORMAT', /expected type "canary", got "directory"/],
    ['the type relabelled, signature kept', { ...doc, type: 'policy' }, fp, 'TIPLINE_ERR_DOCUMENT_FORMAT', /expected type "canary"/],
    ['ending after its certificate', raw({ ...c, serial: Date.parse('2026-03-25T00:00:00Z') / 1000, issued: '2026-03-25T00:00:00.000Z', expires: '2026-04-01T00:00:00.000Z' }), fp, 'TIPLINE_ERR_DOCUMENT_FORMAT', /not within its signing key's certificate/],
    ['issued before its certificate', raw({ ...c, serial: Date.parse('2025-12-30T00:00:00Z') / 1000, issued: '2025-12-30T00:00:00.000Z', expires: '2026-01-05T00:00:00.000Z' }), fp, 'TIPLINE_ERR_DOCUMENT_FORMAT', /not within its signing key's certificate/],
    [`living ${MAX_CANARY_DAYS + 1} days`, raw({ ...c, expires: new Date(NOW.getTime() + (MAX_CANARY_DAYS + 1) * DAY).toISOString() }), fp, 'TIPLINE_ERR_DOCUMENT_FORMAT', /at most 92 days/],
    ['serial above the issue time', raw({ ...c, serial: c.serial + 1 }), fp, 'TIPLINE_ERR_DOCUMENT_FORMAT', /serial must be a whole number from 1 to the issue time/],
    ['an empty statement', raw({ ...c, statement: '' }), fp, 'TIPLINE_ERR_DOCUMENT_FORMAT', /statement must be/],
    ['a statement with a bidi override', raw({ ...c, statement: 'no order \u202Edeviecer' }), fp, 'TIPLINE_ERR_DOCUMENT_FORMAT', /statement must be/],
  ];
  for (const [what, d, f, code, re] of cases) t.throws(() => verifyCanary(d, f, NOW), { code, message: re }, what);
  t.equal(verifyCanary(doc, fp, NOW).stale, false, 'the untouched canary still verifies');
});

t.test('makeCanary and signCanary refuse what verifiers would refuse', async (t) => {
  const arg = { code: 'TIPLINE_ERR_CRYPTO_ARGUMENT' };
  for (const days of [0, MAX_CANARY_DAYS + 1, 1.5, NaN]) t.throws(() => makeCanary(NOW, days), { ...arg, message: /days must be 1..92/ }, `${days} days`);
  t.ok(makeCanary(NOW, MAX_CANARY_DAYS), `${MAX_CANARY_DAYS} days is allowed`);
  t.throws(() => makeCanary(NOW, 7, 0, 'line one\nline two'), { ...arg, message: /statement/ }, 'a control character in the statement');
  t.throws(() => makeCanary(NOW, 7, 0, 'x'.repeat(2001)), { ...arg, message: /statement must be 1..2000/ });
  t.throws(() => makeCanary(new Date(NaN), 7), { ...arg, message: /valid Date/ }, 'an invalid clock');
  t.throws(() => signCanary(makeCanary(new Date('2026-03-20T00:00:00Z'), 14), cert, signer), { ...arg, message: /its life must lie within the signing key's certificate/ }, 'a canary outliving its certificate is not signed');
  t.throws(() => signCanary(makeCanary(new Date('2025-12-31T00:00:00Z'), 7), cert, signer), { ...arg, message: /within the signing key's certificate/ }, 'nor one issued before it');
  t.throws(() => signCanary({ ...makeCanary(NOW, 7), serial: 0 }, cert, signer), { ...arg, message: /serial/ });
  t.throws(() => signCanary(makeCanary(NOW, 7), { ...cert, payload: 'not json' }, signer), arg, 'a certificate that is not one');
});
