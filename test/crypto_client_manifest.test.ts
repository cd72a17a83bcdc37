// The client manifest (crypto/FORMAT.md §Client manifest): the build's manifest signed by the root with the time
// it was signed, verified back; every refusal a verifier relies on (wrong type, wrong root, a flipped signature
// byte, an edited payload, a path listed twice, a path with "..", "//" or relative, a malformed hash or CSP);
// signClientManifest refusing what verifiers would refuse; and the manifest vectors of test/vectors/documents.json.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { initCrypto } from '../crypto/node.js';
import { fromBase64, toBase64, utf8Decode, utf8Encode } from '../crypto/bytes.js';
import { certifySigner } from '../crypto/directory.js';
import { fingerprint, generateSigningKey } from '../crypto/keys.js';
import { signCertifiedDocument, signDocument, type SignedDocument } from '../crypto/signed.js';
import { signClientManifest, validateBuiltManifest, verifyClientManifest, type BuiltManifest, type ManifestFile } from '../crypto/client-manifest.js';
import { checkDocumentVectors, type DocumentsFile } from './vectors/documents.js';

await initCrypto();

const file = JSON.parse(readFileSync(new URL('../../test/vectors/documents.json', import.meta.url), 'utf8')) as DocumentsFile;
const root = generateSigningKey();
const fp = fingerprint(root.publicKey);
const NOW = new Date('2026-02-01T08:00:00.000Z');
const page: ManifestFile = { path: '/', sha256: 'a'.repeat(64), content_type: 'text/html; charset=utf-8', csp: "default-src 'none'; script-src 'self'", template: 'fingerprint' };
const es: ManifestFile = { path: '/es/', sha256: 'b'.repeat(64), content_type: 'text/html; charset=utf-8', csp: "default-src 'none'", template: 'fingerprint' };
const script: ManifestFile = { path: '/assets/app.js', sha256: 'c'.repeat(64), content_type: 'text/javascript; charset=utf-8', csp: "default-src 'none'" };
const built: BuiltManifest = { v: 1, version: '0.1.0', files: [page, es, script] };

const withPayload = (doc: SignedDocument, p: unknown): SignedDocument => ({ ...doc, payload: toBase64(utf8Encode(JSON.stringify(p))) });
const files = (...f: unknown[]) => ({ ...built, signed: NOW.toISOString(), files: f });

t.test('client-manifest vectors: each verifies, or is refused with its error', async (t) => {
  const results = checkDocumentVectors(file, 'client-manifest');
  t.ok(results.length >= 10, `${results.length} manifest vectors`);
  for (const [name, problem] of results) t.equal(problem, undefined, name);
});

t.test('round trip: the build\'s manifest and the time it was signed', async (t) => {
  const doc = signClientManifest(built, NOW, root);
  const m = verifyClientManifest(doc, fp);
  t.same(m, { ...built, signed: NOW.toISOString() });
  t.same(JSON.parse(utf8Decode(fromBase64(doc.payload))), m, 'the payload is exactly that');
  t.notOk(doc.certificate, 'signed by the root itself');
  t.same(validateBuiltManifest(JSON.parse(JSON.stringify(built))), built, 'the build\'s manifest (no time) is valid as built');
  t.same(verifyClientManifest(signClientManifest({ ...built, files: [script] }, NOW, root), fp).files, [script], 'a file without a template');
});

t.test('verifyClientManifest refuses', async (t) => {
  const doc = signClientManifest(built, NOW, root);
  const other = generateSigningKey();
  const signer = generateSigningKey();
  const sig = fromBase64(doc.signature);
  sig[0] = sig[0]! ^ 4;
  const raw = (m: unknown) => signDocument('client-manifest', m, root);
  const payload = JSON.parse(utf8Decode(fromBase64(doc.payload))) as BuiltManifest;
  const cases: [string, unknown, string, string, RegExp][] = [
    ['a flipped signature byte', { ...doc, signature: toBase64(sig) }, fp, 'TIPLINE_ERR_BAD_SIGNATURE', /bad signature on "client-manifest"/],
    ['the payload edited (a hash changed), its signature kept', withPayload(doc, { ...payload, files: [page, es, { ...script, sha256: 'd'.repeat(64) }] }), fp, 'TIPLINE_ERR_BAD_SIGNATURE', /bad signature/],
    ['the payload edited (a CSP loosened), its signature kept', withPayload(doc, { ...payload, files: [{ ...page, csp: '*' }, es, script] }), fp, 'TIPLINE_ERR_BAD_SIGNATURE', /bad signature/],
    ['another root than the one expected', doc, fingerprint(other.publicKey), 'TIPLINE_ERR_FINGERPRINT_MISMATCH', /expected/],
    ['signed by another root', signClientManifest(built, NOW, other), fp, 'TIPLINE_ERR_FINGERPRINT_MISMATCH', /expected/],
    ['a certified signing key instead of the root', signCertifiedDocument('client-manifest', payload, certifySigner(signer.publicKey, new Date('2026-01-01T00:00:00Z'), new Date('2026-03-01T00:00:00Z'), root), signer), fp, 'TIPLINE_ERR_DOCUMENT_FORMAT', /must be signed by the root itself/],
    ['a policy-typed document', signDocument('policy', payload, root), fp, 'TIPLINE_ERR_DOCUMENT_FORMAT', /expected type "client-manifest", got "policy"/],
    ['a path listed twice', raw(files(page, script, { ...es, path: '/assets/app.js' })), fp, 'TIPLINE_ERR_DOCUMENT_FORMAT', /files\[2\]\.path \/assets\/app\.js is listed twice/],
    ['a path with ..', raw(files(page, { ...script, path: '/assets/../app.js' })), fp, 'TIPLINE_ERR_DOCUMENT_FORMAT', /files\[1\]\.path must be an absolute URL path/],
    ['a path that is only ..', raw(files({ ...script, path: '/..' })), fp, 'TIPLINE_ERR_DOCUMENT_FORMAT', /must be an absolute URL path/],
    ['a path naming another host (//host)', raw(files({ ...script, path: '//evil.example/app.js' })), fp, 'TIPLINE_ERR_DOCUMENT_FORMAT', /must be an absolute URL path/],
    ['a relative path', raw(files({ ...script, path: 'app.js' })), fp, 'TIPLINE_ERR_DOCUMENT_FORMAT', /must be an absolute URL path/],
    ['a path with a query', raw(files({ ...script, path: '/app.js?v=1' })), fp, 'TIPLINE_ERR_DOCUMENT_FORMAT', /must be an absolute URL path/],
    ['a hash of 63 digits', raw(files({ ...script, sha256: 'c'.repeat(63) })), fp, 'TIPLINE_ERR_DOCUMENT_FORMAT', /sha256 must be 64 lowercase hex digits/],
    ['a CSP with a header injected', raw(files({ ...script, csp: "default-src 'none'\r\nRefresh: 0" })), fp, 'TIPLINE_ERR_DOCUMENT_FORMAT', /csp must be printable ASCII/],
    ['a template other than fingerprint', raw(files({ ...page, template: 'anything' })), fp, 'TIPLINE_ERR_DOCUMENT_FORMAT', /template must be "fingerprint"/],
    ['no signing time', raw(built), fp, 'TIPLINE_ERR_DOCUMENT_FORMAT', /expected \{v, version, files, signed\}/],
    ['a signing time not in UTC', raw({ ...payload, signed: '2026-02-01 08:00' }), fp, 'TIPLINE_ERR_DOCUMENT_FORMAT', /signed must be an ISO-8601 UTC time/],
    ['a version with a space', raw({ ...payload, version: '0.1 beta' }), fp, 'TIPLINE_ERR_DOCUMENT_FORMAT', /version must be/],
  ];
  for (const [what, d, f, code, re] of cases) t.throws(() => verifyClientManifest(d, f), { code, message: re }, what);
  t.ok(verifyClientManifest(doc, fp), 'the untouched manifest still verifies');
});

t.test('signClientManifest refuses what verifiers would refuse', async (t) => {
  const arg = { code: 'TIPLINE_ERR_CRYPTO_ARGUMENT' };
  t.throws(() => signClientManifest({ ...built, files: [page, { ...script, path: '/' }] }, NOW, root), { ...arg, message: /listed twice/ }, 'a path twice');
  t.throws(() => signClientManifest({ ...built, files: [{ ...script, path: '/a/../b.js' }] }, NOW, root), { ...arg, message: /absolute URL path/ }, 'a path with ..');
  t.throws(() => signClientManifest({ ...built, files: [] }, NOW, root), { ...arg, message: /1..1000 files/ }, 'no files');
  t.throws(() => signClientManifest({ ...built, signed: NOW.toISOString() } as BuiltManifest, NOW, root), { ...arg, message: /expected \{v, version, files\}/ }, 'an already-signed manifest');
  t.throws(() => signClientManifest(built, NOW, { publicKey: generateSigningKey().publicKey, secretKey: root.secretKey }), 'a mismatched key pair');
});
