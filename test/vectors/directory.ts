// Directory version 2 vectors (crypto/FORMAT.md §Directory): the chain root -> certificate -> directory, the
// documents a verifier must refuse, and the serial rule. Shared by generate-directory.ts (writes directory.json)
// and test/crypto_directory.test.ts (regenerates and checks). Ed25519 is deterministic, so are the documents.
import { toBase64, toHex, utf8Encode } from '../../crypto/bytes.js';
import { certifySigner, checkSerial, directoryMark, signDirectory, verifyDirectory, type Directory, type SerialMark } from '../../crypto/directory.js';
import { fingerprint, type SigningKeyPair } from '../../crypto/keys.js';
import { signCertifiedDocument, signDocument, type SignedDocument } from '../../crypto/signed.js';
import { sodium } from '../../crypto/sodium.js';

function labelled(label: string, n = 32): Uint8Array {
  return sodium().crypto_generichash(n, utf8Encode(`tipline test vector: ${label}`), null);
}

function signing(label: string): SigningKeyPair & { seed: Uint8Array } {
  const seed = labelled(label);
  const kp = sodium().crypto_sign_seed_keypair(seed);
  return { seed, publicKey: kp.publicKey, secretKey: kp.privateKey };
}

const secs = (iso: string) => Math.floor(Date.parse(iso) / 1000);

export interface DirectoryVector {
  name: string;
  fingerprint: string;
  now: string;
  document: SignedDocument;
  /** 'ok', or the error code verifyDirectory throws. */
  outcome: string;
  /** ok: the directory it verifies to, and its mark; else a substring of the error's message. */
  directory?: Directory;
  mark?: SerialMark;
  message?: string;
}

export interface SerialVector {
  name: string;
  highest: SerialMark;
  mark: SerialMark;
  outcome: 'ok' | 'TIPLINE_ERR_DIRECTORY_ROLLBACK';
}

export function buildDirectoryFile() {
  const root = signing('directory: root');
  const otherRoot = signing('directory: another root');
  const signer = signing('directory: signing key');
  const otherSigner = signing('directory: another signing key');
  const fp = fingerprint(root.publicKey);
  const desk = (i: number) => ({
    name: ['María López', 'Desk 1'][i]!,
    role: 'desk' as const,
    box_key: toBase64(sodium().crypto_scalarmult_base(labelled(`directory: desk ${i} box`))),
    sign_key: toBase64(sodium().crypto_sign_seed_keypair(labelled(`directory: desk ${i} sign`)).publicKey),
    not_before: '2025-01-01T00:00:00Z',
    not_after: '2026-01-01T00:00:00Z',
  });
  const cert = certifySigner(signer.publicKey, new Date('2025-01-01T00:00:00Z'), new Date('2025-03-31T00:00:00Z'), root);
  const issued = '2025-02-01T00:00:00.000Z';
  const base: Directory = { v: 2, serial: secs(issued), issued, expires: '2025-02-08T00:00:00.000Z', recipients: [desk(0), desk(1)] };
  const next: Directory = { ...base, serial: base.serial + 86_400, issued: '2025-02-02T00:00:00.000Z', expires: '2025-02-09T00:00:00.000Z', recipients: [desk(1)] };
  const now = '2025-02-03T12:00:00.000Z';
  const good = signDirectory(base, cert, signer);
  const removed = signDirectory(next, cert, signer);
  // Documents a correct signer cannot make: signCertifiedDocument skips signDirectory's checks.
  const raw = (d: unknown, c: SignedDocument = cert, k: SigningKeyPair = signer) => signCertifiedDocument('directory', d, c, k);
  const v1 = { v: 1, issued: base.issued, expires: '2025-04-01T00:00:00Z', recipients: base.recipients };
  const positive: DirectoryVector[] = [
    { name: 'two desks (one named in Spanish)', fingerprint: fp, now, document: good, outcome: 'ok', directory: base, mark: directoryMark(good, base) },
    { name: 'a day later, one desk removed, serial higher', fingerprint: fp, now, document: removed, outcome: 'ok', directory: next, mark: directoryMark(removed, next) },
  ];
  const negative: DirectoryVector[] = [
    { name: 'version 1 directory, signed by the root itself', fingerprint: fp, now, document: signDocument('directory', v1, root), outcome: 'TIPLINE_ERR_DOCUMENT_FORMAT', message: 'directory version 1 is no longer accepted' },
    { name: 'version 2 directory signed by the root itself, no certificate', fingerprint: fp, now, document: signDocument('directory', base, root), outcome: 'TIPLINE_ERR_DOCUMENT_FORMAT', message: 'must carry a certificate' },
    { name: 'the certificate has ended (the directory with it)', fingerprint: fp, now: '2025-03-31T00:00:01.000Z', document: good, outcome: 'TIPLINE_ERR_DIRECTORY_EXPIRED', message: "signing key's certificate expired" },
    { name: 'the certificate is not valid yet', fingerprint: fp, now: '2024-12-31T23:59:59.000Z', document: good, outcome: 'TIPLINE_ERR_DOCUMENT_FORMAT', message: 'not valid before' },
    { name: 'the directory has expired', fingerprint: fp, now: '2025-02-08T00:00:00.001Z', document: good, outcome: 'TIPLINE_ERR_DIRECTORY_EXPIRED', message: 'directory expired at 2025-02-08' },
    { name: 'the directory outlives its certificate', fingerprint: fp, now, document: raw({ ...base, serial: secs('2025-03-28T00:00:00Z'), issued: '2025-03-28T00:00:00.000Z', expires: '2025-04-02T00:00:00.000Z' }), outcome: 'TIPLINE_ERR_DOCUMENT_FORMAT', message: "after its signing key's certificate ends" },
    { name: 'the directory was issued before its certificate', fingerprint: fp, now, document: raw({ ...base, serial: secs('2024-12-30T00:00:00Z'), issued: '2024-12-30T00:00:00.000Z', expires: '2025-01-05T00:00:00.000Z' }), outcome: 'TIPLINE_ERR_DOCUMENT_FORMAT', message: "before its signing key's certificate begins" },
    { name: 'the directory lives more than 31 days', fingerprint: fp, now, document: raw({ ...base, expires: '2025-03-05T00:00:00.000Z' }), outcome: 'TIPLINE_ERR_DOCUMENT_FORMAT', message: 'lives more than 31 days' },
    { name: 'the serial exceeds the issue time in seconds', fingerprint: fp, now, document: raw({ ...base, serial: base.serial + 1 }), outcome: 'TIPLINE_ERR_DOCUMENT_FORMAT', message: 'serial must not exceed' },
    {
      name: 'a certificate valid more than 100 days',
      fingerprint: fp,
      now,
      document: raw(base, signDocument('directory-signer', { v: 1, sign_key: toBase64(signer.publicKey), not_before: '2025-01-01T00:00:00Z', not_after: '2025-04-12T00:00:00Z' }, root)),
      outcome: 'TIPLINE_ERR_DOCUMENT_FORMAT',
      message: 'valid more than 100 days',
    },
    { name: 'certified by another root', fingerprint: fp, now, document: raw(base, certifySigner(signer.publicKey, new Date('2025-01-01T00:00:00Z'), new Date('2025-03-31T00:00:00Z'), otherRoot)), outcome: 'TIPLINE_ERR_FINGERPRINT_MISMATCH', message: 'expected' },
    {
      name: "our root key named, another root's certificate carried",
      fingerprint: fp,
      now,
      document: { ...raw(base, certifySigner(signer.publicKey, new Date('2025-01-01T00:00:00Z'), new Date('2025-03-31T00:00:00Z'), otherRoot)), root_key: toBase64(root.publicKey) },
      outcome: 'TIPLINE_ERR_DOCUMENT_FORMAT',
      message: 'signed by another root key',
    },
    { name: 'signed by a key the certificate does not name', fingerprint: fp, now, document: raw(base, cert, otherSigner), outcome: 'TIPLINE_ERR_BAD_SIGNATURE', message: 'not by the certified key' },
    { name: 'a certificate presented as a directory', fingerprint: fp, now, document: cert, outcome: 'TIPLINE_ERR_DOCUMENT_FORMAT', message: 'expected type "directory"' },
    { name: 'checked against another fingerprint', fingerprint: fingerprint(otherRoot.publicKey), now, document: good, outcome: 'TIPLINE_ERR_FINGERPRINT_MISMATCH', message: 'expected' },
  ];
  const m0 = directoryMark(good, base);
  const m1 = directoryMark(removed, next);
  const serials: SerialVector[] = [
    { name: 'a higher serial is accepted', highest: m0, mark: m1, outcome: 'ok' },
    { name: 'the same directory again is accepted', highest: m1, mark: m1, outcome: 'ok' },
    { name: 'a lower serial is refused (the removed desk would come back)', highest: m1, mark: m0, outcome: 'TIPLINE_ERR_DIRECTORY_ROLLBACK' },
    { name: 'the same serial with other contents is refused', highest: m1, mark: { serial: m1.serial, digest: m0.digest }, outcome: 'TIPLINE_ERR_DIRECTORY_ROLLBACK' },
  ];
  return {
    version: 2,
    keys: { root_seed: toHex(root.seed), root_public: toHex(root.publicKey), signer_seed: toHex(signer.seed), signer_public: toHex(signer.publicKey), fingerprint: fp },
    certificate: cert,
    positive,
    negative,
    serials,
  };
}

export type DirectoryFile = ReturnType<typeof buildDirectoryFile>;

/** Each vector's outcome, as [name, problem or undefined]. */
export function checkDirectoryVectors(f: DirectoryFile): [string, string | undefined][] {
  const out: [string, string | undefined][] = [];
  const outcome = (fn: () => unknown): { code: string; message: string; value?: unknown } => {
    try {
      return { code: 'ok', message: '', value: fn() };
    } catch (e) {
      return { code: (e as { code?: string }).code ?? String(e), message: (e as Error).message };
    }
  };
  for (const v of [...f.positive, ...f.negative]) {
    const r = outcome(() => verifyDirectory(v.document, v.fingerprint, new Date(v.now)));
    let problem: string | undefined;
    if (r.code !== v.outcome) problem = `got ${r.code} (${r.message}), want ${v.outcome}`;
    else if (v.outcome === 'ok') {
      if (JSON.stringify(r.value) !== JSON.stringify(v.directory)) problem = 'verified to another directory';
      else if (JSON.stringify(directoryMark(v.document, v.directory!)) !== JSON.stringify(v.mark)) problem = 'another mark';
    } else if (!r.message.includes(v.message!)) problem = `message "${r.message}" lacks "${v.message}"`;
    out.push([v.name, problem]);
  }
  for (const s of f.serials) {
    const r = outcome(() => checkSerial(s.mark, s.highest));
    out.push([`serial: ${s.name}`, r.code === s.outcome ? undefined : `got ${r.code}, want ${s.outcome}`]);
  }
  return out;
}
