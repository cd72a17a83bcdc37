// Keys, fingerprints, key files, signed documents and the directory.
import t from 'tap';
import { initCrypto } from '../crypto/node.js';
import { concatBytes, fromBase64, toBase64, utf8Encode } from '../crypto/bytes.js';
import { fingerprint, generateDeskKey, generateSigningKey, normalizeFingerprint, sign, verify } from '../crypto/keys.js';
import { DEFAULT_KDF, MIN_KDF, openKeyFile, sealKeyFile, type KeyFile } from '../crypto/keyfile.js';
import { documentFingerprint, signCertifiedDocument, signDocument, verifyDocument } from '../crypto/signed.js';
import { activeRecipients, certifySigner, findSigner, signDirectory, verifyDirectory, type Directory } from '../crypto/directory.js';
import {
  BadSignatureError,
  DirectoryExpiredError,
  DocumentFormatError,
  FingerprintFormatError,
  FingerprintMismatchError,
  KeyFileFormatError,
  WrongPassphraseError,
} from '../crypto/errors.js';

await initCrypto();

// The cheapest cost a key file may have: the shipped floor itself, not something below it.
const FAST = MIN_KDF;

t.test('fingerprints: stable, 8 groups of 4 base32, normalised', async (t) => {
  const key = fromBase64('11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=');
  const fp = fingerprint(key);
  t.match(fp, /^([a-z2-7]{4} ){7}[a-z2-7]{4}$/);
  t.equal(fingerprint(key), fp, 'same key, same fingerprint');
  t.not(fingerprint(generateSigningKey().publicKey), fp, 'another key, another fingerprint');
  const compact = fp.replace(/ /g, '');
  t.equal(normalizeFingerprint(fp), compact);
  t.equal(normalizeFingerprint(fp.toUpperCase().replace(/ /g, '-')), compact, 'upper case with dashes');
  t.equal(normalizeFingerprint(`  ${compact.slice(0, 10)} ${compact.slice(10)}\n`), compact, 'odd spacing');
  t.throws(() => normalizeFingerprint(compact.slice(1)), FingerprintFormatError, 'too short');
  t.throws(() => normalizeFingerprint(`${compact.slice(1)}0`), FingerprintFormatError, '0 is not base32');
  t.throws(() => normalizeFingerprint(`${compact.slice(1)}8`), FingerprintFormatError, '8 is not base32');
  t.throws(() => fingerprint(key.subarray(1)), { message: 'publicKey: expected Uint8Array of length 32, got length=31' });
});

t.test('sign / verify', async (t) => {
  const k = generateSigningKey();
  const msg = utf8Encode('hello');
  const sig = sign(msg, k.secretKey);
  t.ok(verify(sig, msg, k.publicKey));
  t.notOk(verify(sig, utf8Encode('hellp'), k.publicKey), 'other message');
  const bad = sig.slice();
  bad[0]! ^= 1;
  t.notOk(verify(bad, msg, k.publicKey), 'flipped signature');
  t.notOk(verify(sig.subarray(1), msg, k.publicKey), 'short signature is just invalid');
  t.notOk(verify(sig, msg, generateSigningKey().publicKey), 'other key');
  t.throws(() => sign(msg, k.secretKey.subarray(0, 32)), { message: 'secretKey: expected Uint8Array of length 64, got length=32' });
});

// ---- key files ----

function deskFile(passphrase = 'correct horse battery staple', kdf = FAST) {
  const d = generateDeskKey();
  const file = sealKeyFile({
    role: 'desk',
    name: 'Ana (desk)',
    public: { box: d.boxPublic, sign: d.signPublic },
    secret: { box: d.boxSecret, sign: d.signSecret },
    passphrase,
    kdf,
  });
  return { d, file };
}

t.test('key file round trip (desk and root)', async (t) => {
  const { d, file } = deskFile();
  t.equal(file.kind, 'tipline-key');
  t.same(file.kdf, { alg: 'argon2id13', opslimit: 2, memlimit: 67108864, salt: file.kdf.salt });
  const json = JSON.parse(JSON.stringify(file)) as unknown;
  const opened = openKeyFile(json, 'correct horse battery staple');
  t.equal(opened.role, 'desk');
  t.equal(opened.name, 'Ana (desk)');
  t.same(opened.public, { box: d.boxPublic, sign: d.signPublic });
  t.same(opened.secret, { box: d.boxSecret, sign: d.signSecret });

  const r = generateSigningKey();
  const rf = sealKeyFile({ role: 'root', name: 'Newsroom root', public: { sign: r.publicKey }, secret: { sign: r.secretKey }, passphrase: 'p', kdf: FAST });
  t.same(openKeyFile(rf, 'p').secret, { sign: r.secretKey });
});

t.test('key file: passphrases are compared after NFC normalisation', async (t) => {
  const { file } = deskFile('caf\u00e9');
  t.equal(openKeyFile(file, 'cafe\u0301').role, 'desk', 'decomposed é opens a file sealed with composed é');
});

t.test('key file: wrong passphrase and tampering', async (t) => {
  const { file } = deskFile();
  t.throws(() => openKeyFile(file, 'wrong'), { name: 'WrongPassphraseError', code: 'TIPLINE_ERR_WRONG_PASSPHRASE' });
  const ct = fromBase64(file.ciphertext);
  ct[5]! ^= 1;
  t.throws(() => openKeyFile({ ...file, ciphertext: toBase64(ct) }, 'correct horse battery staple'), WrongPassphraseError, 'modified ciphertext');
  const salt = fromBase64(file.kdf.salt);
  salt[0]! ^= 1;
  t.throws(() => openKeyFile({ ...file, kdf: { ...file.kdf, salt: toBase64(salt) } }, 'correct horse battery staple'), WrongPassphraseError, 'modified salt');
  t.throws(() => openKeyFile({ ...file, kdf: { ...file.kdf, opslimit: 3 } }, 'correct horse battery staple'), WrongPassphraseError, 'modified kdf params');
  const other = generateDeskKey();
  t.throws(
    () => openKeyFile({ ...file, public: { ...file.public, box: toBase64(other.boxPublic) } }, 'correct horse battery staple'),
    { name: 'KeyFileFormatError', message: /public key "box" outside the seal differs/ },
    'swapped outer public key',
  );
  t.throws(() => openKeyFile({ ...file, name: 'Mallory' }, 'correct horse battery staple'), KeyFileFormatError, 'renamed');
  t.throws(() => openKeyFile({ ...file, role: 'auditor' }, 'correct horse battery staple'), KeyFileFormatError, 'role changed');
});

t.test('key file: hostile KDF parameters are refused before any work', async (t) => {
  const { file } = deskFile();
  const started = Date.now();
  t.throws(() => openKeyFile({ ...file, kdf: { ...file.kdf, memlimit: 1024 ** 3 + 1 } }, 'x'), { name: 'KeyFileFormatError', message: /memlimit/ });
  t.throws(() => openKeyFile({ ...file, kdf: { ...file.kdf, memlimit: 2 ** 40 } }, 'x'), KeyFileFormatError);
  t.throws(() => openKeyFile({ ...file, kdf: { ...file.kdf, opslimit: 11 } }, 'x'), { message: /opslimit/ });
  t.throws(() => openKeyFile({ ...file, kdf: { ...file.kdf, opslimit: 1e9 } }, 'x'), KeyFileFormatError);
  t.throws(() => openKeyFile({ ...file, kdf: { ...file.kdf, opslimit: '3' } }, 'x'), KeyFileFormatError);
  t.ok(Date.now() - started < 1000, 'refused quickly');
});

t.test('key file: malformed files are KeyFileFormatError', async (t) => {
  const { file } = deskFile();
  const cases: [string, unknown][] = [
    ['not an object', 'hello'],
    ['null', null],
    ['array', [file]],
    ['missing field', { ...file, nonce: undefined }],
    ['extra field', { ...file, extra: 1 }],
    ['version 2', { ...file, v: 2 }],
    ['wrong kind', { ...file, kind: 'age' }],
    ['bad role', { ...file, role: 'admin' }],
    ['bad nonce base64', { ...file, nonce: 'not base64!' }],
    ['short nonce', { ...file, nonce: toBase64(new Uint8Array(23)) }],
    ['other kdf', { ...file, kdf: { ...file.kdf, alg: 'scrypt' } }],
    ['public key missing', { ...file, public: { sign: file.public.sign } }],
    ['public key short', { ...file, public: { ...file.public, box: toBase64(new Uint8Array(31)) } }],
  ];
  for (const [what, f] of cases) t.throws(() => openKeyFile(f, 'x'), KeyFileFormatError, what);
});

t.test('key file: sealKeyFile refuses mismatched or missing keys', async (t) => {
  const d = generateDeskKey();
  const e = generateDeskKey();
  const base = { role: 'desk' as const, name: 'n', passphrase: 'p', kdf: FAST };
  t.throws(() => sealKeyFile({ ...base, public: { box: d.boxPublic, sign: d.signPublic }, secret: { box: e.boxSecret, sign: d.signSecret } }), /does not match/);
  t.throws(() => sealKeyFile({ ...base, public: { box: d.boxPublic }, secret: { box: d.boxSecret } }), /must be exactly/);
  t.throws(() => sealKeyFile({ ...base, public: { box: d.boxPublic, sign: d.signPublic }, secret: { box: d.boxSecret, sign: d.signSecret }, passphrase: '' }), /empty/);
  t.throws(() => sealKeyFile({ ...base, public: { box: d.boxPublic, sign: d.signPublic }, secret: { box: d.boxSecret, sign: d.signSecret }, kdf: { opslimit: 3, memlimit: 2 * 1024 ** 3 } }), /memlimit/);
  // Another key's seed in front of this key's public half: the halves agree with `public`, the seed does not.
  const spliced = concatBytes(e.signSecret.subarray(0, 32), d.signPublic);
  t.throws(
    () => sealKeyFile({ ...base, public: { box: d.boxPublic, sign: d.signPublic }, secret: { box: d.boxSecret, sign: spliced } }),
    { code: 'TIPLINE_ERR_CRYPTO_ARGUMENT', message: /secret signing key does not match public key/ },
    'Ed25519 seed that does not derive its public key',
  );
  t.throws(() => signDocument('policy', { v: 1 }, { publicKey: d.signPublic, secretKey: spliced }), /does not belong/, 'signDocument checks the seed too');
});

t.test('key file: Argon2id below the floor (2 passes, 64 MiB) is refused when sealing and when opening', async (t) => {
  t.same(MIN_KDF, { opslimit: 2, memlimit: 64 * 1024 * 1024 });
  const d = generateDeskKey();
  const base = { role: 'desk' as const, name: 'n', passphrase: 'p', public: { box: d.boxPublic, sign: d.signPublic }, secret: { box: d.boxSecret, sign: d.signSecret } };
  for (const kdf of [{ opslimit: 1, memlimit: MIN_KDF.memlimit }, { opslimit: 2, memlimit: MIN_KDF.memlimit - 1 }, { opslimit: 1, memlimit: 8192 }, { opslimit: 10, memlimit: 8 * 1024 * 1024 }]) {
    t.throws(() => sealKeyFile({ ...base, kdf }), { code: 'TIPLINE_ERR_CRYPTO_ARGUMENT', message: /opslimit must be an integer in 2\.\.10|memlimit must be an integer in 67108864\.\./ }, `seal ${JSON.stringify(kdf)}`);
  }
  const { file } = deskFile();
  const started = Date.now();
  t.throws(() => openKeyFile({ ...file, kdf: { ...file.kdf, opslimit: 1 } }, 'x'), { name: 'KeyFileFormatError', message: /opslimit must be an integer in 2\.\.10, got 1/ });
  t.throws(() => openKeyFile({ ...file, kdf: { ...file.kdf, memlimit: 8 * 1024 * 1024 } }, 'x'), { name: 'KeyFileFormatError', message: /memlimit .* got 8388608/ });
  t.ok(Date.now() - started < 100, 'refused before deriving');
  const at = Date.now();
  const sealed = deskFile('pw', MIN_KDF).file;
  const sealMs = Date.now() - at;
  t.equal(openKeyFile(sealed, 'pw').role, 'desk', 'the floor itself is accepted');
  t.comment(`MIN_KDF: seal ${sealMs} ms, seal + open ${Date.now() - at} ms`);
});

t.test('key file with DEFAULT_KDF (Argon2id, 3 passes, 256 MiB)', async (t) => {
  t.same(DEFAULT_KDF, { opslimit: 3, memlimit: 268435456 });
  let started = Date.now();
  const { file } = deskFile('pw', DEFAULT_KDF);
  const sealMs = Date.now() - started;
  started = Date.now();
  t.equal(openKeyFile(file, 'pw').role, 'desk');
  t.comment(`DEFAULT_KDF: seal ${sealMs} ms, open ${Date.now() - started} ms`);
});

// ---- signed documents and the directory ----

const root = generateSigningKey();
const rootFp = fingerprint(root.publicKey);
const signer = generateSigningKey();
const cert = certifySigner(signer.publicKey, new Date('2025-01-01T00:00:00Z'), new Date('2025-04-01T00:00:00Z'), root);
const desk = generateDeskKey();
const auditor = generateDeskKey();
const later = generateDeskKey();

const dir: Directory = {
  v: 2,
  serial: 7,
  issued: '2025-01-30T00:00:00Z',
  expires: '2025-02-06T00:00:00Z',
  recipients: [
    { name: 'Ana', role: 'desk', box_key: toBase64(desk.boxPublic), sign_key: toBase64(desk.signPublic), not_before: '2025-01-01T00:00:00Z', not_after: '2025-03-01T00:00:00Z' },
    { name: 'Lawyers LLP', role: 'auditor', box_key: toBase64(auditor.boxPublic), sign_key: toBase64(auditor.signPublic), not_before: '2025-01-01T00:00:00Z', not_after: '2026-01-01T00:00:00Z' },
    { name: 'Ana next key', role: 'desk', box_key: toBase64(later.boxPublic), sign_key: toBase64(later.signPublic), not_before: '2025-03-01T00:00:00Z', not_after: '2025-06-01T00:00:00Z' },
  ],
};
const now = new Date('2025-02-01T12:00:00Z');

t.test('directory: sign and verify', async (t) => {
  const doc = signDirectory(dir, cert, signer);
  t.equal(doc.type, 'directory');
  t.equal(documentFingerprint(doc), rootFp);
  const json = JSON.parse(JSON.stringify(doc)) as unknown;
  t.same(verifyDirectory(json, rootFp, now), dir);
  t.same(verifyDirectory(json, rootFp.toUpperCase().replace(/ /g, '-'), now), dir, 'fingerprint as typed');
});

t.test('directory: wrong fingerprint, modified payload, modified fields, expiry', async (t) => {
  const doc = signDirectory(dir, cert, signer);
  const other = generateSigningKey();
  t.throws(() => verifyDirectory(doc, fingerprint(other.publicKey), now), FingerprintMismatchError, 'wrong expected fingerprint');
  const otherSigner = generateSigningKey();
  const forged = signDirectory(dir, certifySigner(otherSigner.publicKey, new Date('2025-01-01T00:00:00Z'), new Date('2025-04-01T00:00:00Z'), other), otherSigner);
  t.throws(() => verifyDirectory(forged, rootFp, now), FingerprintMismatchError, 'certified by another root');
  t.throws(() => verifyDirectory({ ...forged, root_key: doc.root_key }, rootFp, now), /another root key/, "another root's certificate under our root key");
  t.throws(() => verifyDirectory({ ...forged, root_key: doc.root_key, certificate: doc.certificate }, rootFp, now), BadSignatureError, 'our certificate, a directory signed by a key it does not name');

  const payload = JSON.parse(new TextDecoder().decode(fromBase64(doc.payload))) as Directory;
  payload.recipients[0]!.box_key = toBase64(generateDeskKey().boxPublic);
  const swapped = { ...doc, payload: toBase64(utf8Encode(JSON.stringify(payload))) };
  t.throws(() => verifyDirectory(swapped, rootFp, now), BadSignatureError, 'recipient key swapped');
  const spaced = { ...doc, payload: toBase64(utf8Encode(JSON.stringify(dir, null, 1))) };
  t.throws(() => verifyDirectory(spaced, rootFp, now), BadSignatureError, 'same JSON, other bytes: the signature covers bytes');
  t.throws(() => verifyDirectory({ ...doc, v: 2 }, rootFp, now), DocumentFormatError, 'signed document version 2');
  t.throws(() => verifyDirectory({ ...doc, signature: 'AAAA' }, rootFp, now), DocumentFormatError, 'short signature');
  t.throws(() => verifyDirectory(null, rootFp, now), DocumentFormatError, 'null');
  t.throws(() => verifyDirectory(doc, 'not a fingerprint', now), FingerprintFormatError, 'bad expected fingerprint');

  t.throws(() => verifyDirectory(doc, rootFp, new Date('2025-02-06T00:00:01Z')), DirectoryExpiredError, 'one second after expiry');
  t.same(verifyDirectory(doc, rootFp, new Date('2025-02-06T00:00:00Z')), dir, 'at the expiry instant it is still valid');
});

t.test('signed documents: a signature for one type does not verify as another', async (t) => {
  const policy = signDocument('policy', dir, root);
  t.throws(() => verifyDirectory(policy, rootFp, now), { name: 'DocumentFormatError', message: /expected type "directory"/ });
  t.throws(() => verifyDirectory({ ...policy, type: 'directory' }, rootFp, now), /must carry a certificate/, 'type field rewritten: a root-signed document is not a directory');
  t.same(verifyDocument(policy, rootFp, 'policy'), dir);
  t.throws(() => signDocument('bad\ntype', {}, root), /type must match/);
  t.throws(() => signDocument('policy', {}, { publicKey: root.publicKey, secretKey: generateSigningKey().secretKey }), /does not belong/);
});

t.test('directory: shape is validated when signing and when verifying', async (t) => {
  const bad: [string, unknown][] = [
    ['expires before issued', { ...dir, expires: '2024-01-01T00:00:00Z' }],
    ['time with offset', { ...dir, issued: '2025-01-01T00:00:00+01:00' }],
    ['impossible date', { ...dir, issued: '2025-02-30T00:00:00Z' }],
    ['bad role', { ...dir, recipients: [{ ...dir.recipients[0]!, role: 'admin' }] }],
    ['short key', { ...dir, recipients: [{ ...dir.recipients[0]!, box_key: toBase64(new Uint8Array(31)) }] }],
    ['extra field', { ...dir, recipients: [{ ...dir.recipients[0]!, email: 'a@b' }] }],
    ['key listed twice', { ...dir, recipients: [dir.recipients[0]!, { ...dir.recipients[1]!, sign_key: dir.recipients[0]!.sign_key }] }],
    ['validity reversed', { ...dir, recipients: [{ ...dir.recipients[0]!, not_after: '2024-01-01T00:00:00Z' }] }],
  ];
  for (const [what, d] of bad) {
    t.throws(() => signDirectory(d as Directory, cert, signer), { code: 'TIPLINE_ERR_CRYPTO_ARGUMENT' }, `sign: ${what}`);
    t.throws(() => verifyDirectory(signCertifiedDocument('directory', d, cert, signer), rootFp, now), DocumentFormatError, `verify: ${what}`);
  }
});

t.test('directory: active recipients and signers follow the validity periods', async (t) => {
  t.same(activeRecipients(dir, 'desk', now).map((r) => r.name), ['Ana']);
  t.same(activeRecipients(dir, 'auditor', now).map((r) => r.name), ['Lawyers LLP']);
  const march = new Date('2025-03-01T00:00:00Z');
  t.same(activeRecipients(dir, 'desk', march).map((r) => r.name), ['Ana next key'], 'not_after exclusive, not_before inclusive');
  t.equal(findSigner(dir, toBase64(desk.signPublic), now)?.name, 'Ana');
  t.equal(findSigner(dir, toBase64(desk.signPublic), march), undefined, 'expired desk key no longer signs');
  t.equal(findSigner(dir, toBase64(later.signPublic), now), undefined, 'future key does not sign yet');
  t.equal(findSigner(dir, toBase64(auditor.signPublic), now)?.role, 'auditor');
  t.equal(findSigner(dir, toBase64(desk.boxPublic), now), undefined, 'a box key is not a signing key');
});

export type { KeyFile };
