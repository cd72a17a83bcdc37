// Known-answer vectors of the four issue-9 documents (crypto/FORMAT.md §Policy, §Canary, §Client manifest;
// PROTOCOL.md §Signed heads): a signed policy, canary, client manifest and audit-chain head made from fixed seeds
// and fixed dates, and the documents a verifier must refuse, each with its error. Ed25519 is deterministic, so
// regenerating gives the same bytes: a change to any format (a field renamed, a domain string, the payload's
// JSON) shows up as a diff in test/vectors/documents.json, never silently. Shared by generate-documents.ts
// (writes the file) and the crypto_{policy,canary,client_manifest,audit_head} tests (regenerate and check).
import { fromBase64, toBase64, toHex, utf8Decode, utf8Encode } from '../../crypto/bytes.js';
import { genesisHead, nextEntry } from '../../crypto/audit-chain.js';
import { signHead, verifySignedHead, type SignedHead } from '../../crypto/audit-head.js';
import { makeCanary, signCanary, verifyCanary, type Canary } from '../../crypto/canary.js';
import { signClientManifest, verifyClientManifest, type BuiltManifest } from '../../crypto/client-manifest.js';
import { certifySigner } from '../../crypto/directory.js';
import { fingerprint, type SigningKeyPair } from '../../crypto/keys.js';
import { makePolicy, signPolicy, verifyPolicy, type KeyHolder, type Policy } from '../../crypto/policy.js';
import { signCertifiedDocument, signDocument, type SignedDocument } from '../../crypto/signed.js';
import { sodium } from '../../crypto/sodium.js';

export type DocumentKind = 'policy' | 'canary' | 'client-manifest' | 'audit-head';

function labelled(label: string): Uint8Array {
  return sodium().crypto_generichash(32, utf8Encode(`tipline test vector: ${label}`), null);
}

function signing(label: string): SigningKeyPair & { seed: Uint8Array } {
  const seed = labelled(label);
  const kp = sodium().crypto_sign_seed_keypair(seed);
  return { seed, publicKey: kp.publicKey, secretKey: kp.privateKey };
}

export interface DocumentVector {
  name: string;
  kind: DocumentKind;
  /** The root fingerprint to verify against (policy, canary, client-manifest). */
  fingerprint?: string;
  /** The clock (canary). */
  now?: string;
  /** The pinned head key, base64 (audit-head). */
  expected_key?: string;
  document: unknown;
  /** 'ok', or the `code` of the error the verifier throws. */
  outcome: string;
  /** ok: what the verifier returns (JSON); else a substring of the error's message. */
  result?: unknown;
  message?: string;
}

/** The one verifier of each kind, as a caller uses it. */
export function verifyVector(v: Pick<DocumentVector, 'kind' | 'fingerprint' | 'now' | 'expected_key' | 'document'>): unknown {
  switch (v.kind) {
    case 'policy':
      return verifyPolicy(v.document, v.fingerprint!);
    case 'canary':
      return verifyCanary(v.document, v.fingerprint!, new Date(v.now!));
    case 'client-manifest':
      return verifyClientManifest(v.document, v.fingerprint!);
    case 'audit-head':
      return verifySignedHead(v.document, v.expected_key);
  }
}

/** Flips one bit of a base64 field's byte `at` (a signature, say). */
function flip(b64: string, at = 0): string {
  const b = fromBase64(b64);
  b[at] = b[at]! ^ 1;
  return toBase64(b);
}

/** The same document with its payload's JSON edited and the signature left as it was. */
function edited(doc: SignedDocument, edit: (p: Record<string, unknown>) => void): SignedDocument {
  const p = JSON.parse(utf8Decode(fromBase64(doc.payload))) as Record<string, unknown>;
  edit(p);
  return { ...doc, payload: toBase64(utf8Encode(JSON.stringify(p))) };
}

const STORED = { tips: ['id', 'size', 'received_day', 'expires_day'], audit_log: ['seq', 'day', 'kind', 'detail', 'prev_hash', 'hash'] };
const LOGGED = ['level', 'method', 'route', 'status'];
const KEYS: KeyHolder[] = [
  { role: 'root', holder: 'the newsroom, offline', can: 'sign this policy' },
  { role: 'desk', holder: 'María López, on her laptop', can: 'decrypt tips' },
];
const STATEMENT = 'As of this date the newsroom has received no secret order about this tip line.';

export function buildDocumentsFile() {
  const root = signing('documents: root');
  const otherRoot = signing('documents: another root');
  const signer = signing('documents: signing key');
  const otherSigner = signing('documents: another signing key');
  const headKey = signing('documents: audit head key');
  const otherHeadKey = signing('documents: another audit head key');
  const fp = fingerprint(root.publicKey);
  const otherFp = fingerprint(otherRoot.publicKey);
  const cert = certifySigner(signer.publicKey, new Date('2025-01-01T00:00:00Z'), new Date('2025-03-31T00:00:00Z'), root);

  // Policy: root-signed, 14-day tips, the audit-head key pinned.
  const policy: Policy = makePolicy({
    now: new Date('2025-02-01T00:00:00Z'),
    stored: STORED,
    retention: { tips_days: 14, replies_days: 30, uploads_hours: 24 },
    keyPeriodDays: 7,
    logged: LOGGED,
    keys: KEYS,
    auditKey: headKey.publicKey,
  });
  const policyDoc = signPolicy(policy, root);
  const rawPolicy = (p: unknown) => signDocument('policy', p, root);

  // Canary: by the certified signing key, 14 days from 2025-02-01.
  const canary: Canary = makeCanary(new Date('2025-02-01T00:00:00Z'), 14, 0, STATEMENT);
  const canaryDoc = signCanary(canary, cert, signer);
  const rawCanary = (c: unknown, k: SigningKeyPair = signer) => signCertifiedDocument('canary', c, cert, k);

  // Client manifest: a page (fingerprint template) and a script.
  const built: BuiltManifest = {
    v: 1,
    version: '0.1.0',
    files: [
      { path: '/', sha256: toHex(labelled('documents: page')), content_type: 'text/html; charset=utf-8', csp: "default-src 'none'; script-src 'self'", template: 'fingerprint' },
      { path: '/assets/app.js', sha256: toHex(labelled('documents: script')), content_type: 'text/javascript; charset=utf-8', csp: "default-src 'none'" },
    ],
  };
  const manifestDoc = signClientManifest(built, new Date('2025-02-01T12:00:00Z'), root);
  const rawManifest = (m: unknown) => signDocument('client-manifest', m, root);
  const manifest = { ...built, signed: '2025-02-01T12:00:00.000Z' };

  // Audit head: two entries past the genesis, signed by the server's head key.
  const e1 = nextEntry(genesisHead(fp), '2025-02-01', 'purge', { tips: 3, replies: 0 });
  const e2 = nextEntry({ seq: e1.seq, hash: e1.hash }, '2025-02-02', 'policy', { serial: policy.serial });
  const head: SignedHead = signHead({ seq: e2.seq, hash: e2.hash }, '2025-02-02', headKey);
  const headB64 = toBase64(headKey.publicKey);

  const P = (name: string, document: unknown, outcome: string, message?: string, f = fp): DocumentVector => ({ name, kind: 'policy', fingerprint: f, document, outcome, ...(message ? { message } : { result: policy }) });
  const C = (name: string, now: string, document: unknown, outcome: string, messageOrResult: string | unknown, f = fp): DocumentVector =>
    ({ name, kind: 'canary', fingerprint: f, now, document, outcome, ...(outcome === 'ok' ? { result: messageOrResult } : { message: messageOrResult as string }) });
  const M = (name: string, document: unknown, outcome: string, message?: string, f = fp): DocumentVector => ({ name, kind: 'client-manifest', fingerprint: f, document, outcome, ...(message ? { message } : { result: manifest }) });
  const H = (name: string, document: unknown, outcome: string, message?: string, expected?: string): DocumentVector => ({ name, kind: 'audit-head', ...(expected ? { expected_key: expected } : {}), document, outcome, ...(message ? { message } : { result: head }) });

  const positive: DocumentVector[] = [
    P('policy: 14-day tips, audit key pinned', policyDoc, 'ok'),
    C('canary: fresh, the day after it was issued', '2025-02-02T00:00:00.000Z', canaryDoc, 'ok', { canary, stale: false, ageDays: 1 }),
    C('canary: stale, a day past its expiry (reported, not thrown)', '2025-02-16T00:00:00.000Z', canaryDoc, 'ok', { canary, stale: true, ageDays: 15 }),
    C('canary: read after its certificate ended (its dates lay inside it)', '2025-06-01T00:00:00.000Z', canaryDoc, 'ok', { canary, stale: true, ageDays: 120 }),
    M('client manifest: a page and a script', manifestDoc, 'ok'),
    H('audit head: seq 2, by the key it names', head, 'ok'),
    H('audit head: seq 2, by the key pinned', head, 'ok', undefined, headB64),
  ];
  const FORMAT = 'TIPLINE_ERR_DOCUMENT_FORMAT';
  const SIG = 'TIPLINE_ERR_BAD_SIGNATURE';
  const FP = 'TIPLINE_ERR_FINGERPRINT_MISMATCH';
  const now = '2025-02-02T00:00:00.000Z';
  const negative: DocumentVector[] = [
    P('policy: a signature byte flipped', { ...policyDoc, signature: flip(policyDoc.signature) }, SIG, 'bad signature on "policy"'),
    P('policy: the payload edited (tips kept 3650 days), the signature kept', edited(policyDoc, (p) => ((p.retention as Record<string, number>).tips_days = 3650)), SIG, 'bad signature'),
    P('policy: checked against another root', policyDoc, FP, 'expected', otherFp),
    P('policy: signed by another root', signPolicy(policy, otherRoot), FP, 'expected'),
    P('policy: a canary presented as a policy', canaryDoc, FORMAT, 'expected type "policy"'),
    P('policy: a client manifest presented as a policy', manifestDoc, FORMAT, 'expected type "policy"'),
    P('policy: signed by the certified signing key, not the root', signCertifiedDocument('policy', policy, cert, signer), FORMAT, 'must be signed by the root itself'),
    P('policy: serial above the issue time in seconds', rawPolicy({ ...policy, serial: policy.serial + 1 }), FORMAT, 'serial must not exceed'),
    P('policy: key_period_days above tips_days', rawPolicy({ ...policy, key_period_days: 15 }), FORMAT, 'key_period_days must be a whole number from 1 to 14'),
    P('policy: an unknown field', rawPolicy({ ...policy, extra: 1 }), FORMAT, 'expected {v, serial'),
    P('policy: version 2', rawPolicy({ ...policy, v: 2 }), FORMAT, 'unsupported version 2'),
    P('policy: a stored table that is not a plain SQL name', rawPolicy({ ...policy, stored: { 'tips; drop': ['id'] } }), FORMAT, 'is not a plain SQL name'),
    P('policy: a column listed twice', rawPolicy({ ...policy, stored: { tips: ['id', 'id'] } }), FORMAT, 'distinct plain column names'),
    P('policy: a key holder with a bidi override', rawPolicy({ ...policy, keys: [{ role: 'desk', holder: 'Ana\u202Eevil', can: 'decrypt tips' }] }), FORMAT, 'holder must be'),
    P('policy: an audit key of 31 bytes', rawPolicy({ ...policy, audit_key: toBase64(new Uint8Array(31)) }), FORMAT, 'audit_key must be'),
    P('policy: uploads kept 169 hours', rawPolicy({ ...policy, retention: { ...policy.retention, uploads_hours: 169 } }), FORMAT, 'uploads_hours must be'),

    C('canary: a signature byte flipped', now, { ...canaryDoc, signature: flip(canaryDoc.signature) }, SIG, 'not by the certified key'),
    C('canary: the certificate\'s signature byte flipped', now, { ...canaryDoc, certificate: { ...canaryDoc.certificate!, signature: flip(canaryDoc.certificate!.signature) } }, SIG, 'bad signature on the "directory-signer" certificate'),
    C('canary: the payload edited (expires later), the signature kept', now, edited(canaryDoc, (c) => (c.expires = '2025-03-01T00:00:00.000Z')), SIG, 'not by the certified key'),
    C('canary: checked against another root', now, canaryDoc, FP, 'expected', otherFp),
    C('canary: signed by a key the certificate does not name', now, rawCanary(canary, otherSigner), SIG, 'not by the certified key'),
    C('canary: a policy presented as a canary', now, policyDoc, FORMAT, 'expected type "canary"'),
    C('canary: signed by the root itself, no certificate', now, signDocument('canary', canary, root), FORMAT, 'must carry a certificate'),
    C('canary: its life ends after its certificate', now, rawCanary({ ...canary, serial: 1742860800, issued: '2025-03-25T00:00:00.000Z', expires: '2025-04-08T00:00:00.000Z' }), FORMAT, "not within its signing key's certificate"),
    C('canary: issued before its certificate', now, rawCanary({ ...canary, serial: 1735603200, issued: '2024-12-31T00:00:00.000Z', expires: '2025-01-14T00:00:00.000Z' }), FORMAT, "not within its signing key's certificate"),
    C('canary: lives 93 days', now, rawCanary({ ...canary, expires: '2025-05-05T00:00:00.000Z' }), FORMAT, 'by at most 92 days'),
    C('canary: expires before it was issued', now, rawCanary({ ...canary, expires: '2025-01-31T00:00:00.000Z' }), FORMAT, 'expires must be after issued'),
    C('canary: serial above the issue time in seconds', now, rawCanary({ ...canary, serial: canary.serial + 1 }), FORMAT, 'serial must be a whole number from 1 to the issue time'),
    C('canary: a statement with a line break', now, rawCanary({ ...canary, statement: 'no order\nreceived' }), FORMAT, 'statement must be'),
    C('canary: an unknown field', now, rawCanary({ ...canary, gag: false }), FORMAT, 'expected {v, serial, issued, expires, statement}'),

    M('client manifest: a signature byte flipped', { ...manifestDoc, signature: flip(manifestDoc.signature, 63) }, SIG, 'bad signature on "client-manifest"'),
    M('client manifest: the payload edited (a hash changed), the signature kept', edited(manifestDoc, (m) => ((m.files as { sha256: string }[])[1]!.sha256 = '0'.repeat(64))), SIG, 'bad signature'),
    M('client manifest: checked against another root', manifestDoc, FP, 'expected', otherFp),
    M('client manifest: a policy presented as a manifest', policyDoc, FORMAT, 'expected type "client-manifest"'),
    M('client manifest: a path listed twice', rawManifest({ ...manifest, files: [built.files[0], { ...built.files[1], path: '/' }] }), FORMAT, 'path / is listed twice'),
    M('client manifest: a path with ..', rawManifest({ ...manifest, files: [{ ...built.files[1], path: '/assets/../../etc/passwd' }] }), FORMAT, 'must be an absolute URL path'),
    M('client manifest: a path that names another host (//host/x)', rawManifest({ ...manifest, files: [{ ...built.files[1], path: '//evil.example/app.js' }] }), FORMAT, 'must be an absolute URL path'),
    M('client manifest: a relative path', rawManifest({ ...manifest, files: [{ ...built.files[1], path: 'assets/app.js' }] }), FORMAT, 'must be an absolute URL path'),
    M('client manifest: an uppercase hash', rawManifest({ ...manifest, files: [{ ...built.files[1], sha256: built.files[1]!.sha256.toUpperCase() }] }), FORMAT, 'sha256 must be 64 lowercase hex digits'),
    M('client manifest: a CSP with a line break', rawManifest({ ...manifest, files: [{ ...built.files[1], csp: "default-src 'none'\r\nX-Evil: 1" }] }), FORMAT, 'csp must be printable ASCII'),
    M('client manifest: no signing time (the build\'s manifest signed as it is)', rawManifest(built), FORMAT, 'expected {v, version, files, signed}'),
    M('client manifest: no files', rawManifest({ ...manifest, files: [] }), FORMAT, 'files must list 1..1000 files'),

    H('audit head: signed by another key than the one pinned', signHead({ seq: e2.seq, hash: e2.hash }, '2025-02-02', otherHeadKey), SIG, 'signed by another key than the one pinned', headB64),
    H('audit head: a signature byte flipped', { ...head, signature: flip(head.signature) }, SIG, 'bad signature'),
    H('audit head: the hash edited (a rewritten chain), the signature kept', { ...head, hash: e1.hash }, SIG, 'bad signature'),
    H('audit head: seq edited, the signature kept', { ...head, seq: 1 }, SIG, 'bad signature'),
    H('audit head: day edited, the signature kept', { ...head, day: '2025-02-03' }, SIG, 'bad signature'),
    H('audit head: another key named, this signature kept', { ...head, key: toBase64(otherHeadKey.publicKey) }, SIG, 'bad signature'),
    H('audit head: an uppercase hash', { ...head, hash: head.hash.toUpperCase() }, FORMAT, 'hash must be 64 lowercase hex digits'),
    H('audit head: a day not YYYY-MM-DD', { ...head, day: '2025-2-2' }, FORMAT, 'day must be YYYY-MM-DD'),
    H('audit head: a key of 31 bytes', { ...head, key: toBase64(new Uint8Array(31)) }, FORMAT, 'key must be 32 bytes'),
    H('audit head: an unknown field', { ...head, note: 'x' }, FORMAT, 'expected {v, seq, hash, day, key, signature}'),
  ];
  return {
    version: 1,
    keys: {
      root_seed: toHex(root.seed),
      root_public: toHex(root.publicKey),
      fingerprint: fp,
      signer_seed: toHex(signer.seed),
      signer_public: toHex(signer.publicKey),
      head_seed: toHex(headKey.seed),
      head_public: headB64,
    },
    certificate: cert,
    chain: [e1, e2],
    positive,
    negative,
  };
}

export type DocumentsFile = ReturnType<typeof buildDocumentsFile>;

/** Each vector of `kind` read by its verifier: [name, undefined] when it behaves as the file says, else [name, why]. */
export function checkDocumentVectors(file: DocumentsFile, kind: DocumentKind): [string, string | undefined][] {
  const out: [string, string | undefined][] = [];
  for (const v of [...file.positive, ...file.negative].filter((x) => x.kind === kind)) {
    let got: unknown;
    try {
      got = verifyVector(v);
    } catch (err) {
      const e = err as Error & { code?: string };
      if (v.outcome === 'ok') out.push([v.name, `threw ${e.code ?? e.name}: ${e.message}`]);
      else if (e.code !== v.outcome) out.push([v.name, `threw ${e.code ?? e.name} (${e.message}), expected ${v.outcome}`]);
      else if (!e.message.includes(v.message!)) out.push([v.name, `message "${e.message}" lacks "${v.message}"`]);
      else out.push([v.name, undefined]);
      continue;
    }
    if (v.outcome !== 'ok') out.push([v.name, `accepted, expected ${v.outcome}`]);
    else out.push([v.name, JSON.stringify(got) === JSON.stringify(v.result) ? undefined : `verified to ${JSON.stringify(got).slice(0, 200)}, expected ${JSON.stringify(v.result).slice(0, 200)}`]);
  }
  return out;
}
