// The client manifest (FORMAT.md §Client manifest): every file the server serves to a source's browser, with
// its SHA-256 and the Content-Security-Policy it is served with. `npm run build` writes it (the same bytes for
// the same commit: anyone can rebuild and compare), the root signs it (`tipline keys sign-manifest`), the server
// publishes it at /.well-known/tipline/client-manifest, and `tipline verify-site` checks the served files
// against it (threat: a compelled or compromised operator serving a page that leaks what sources type).
import { _hasExactKeys, _isPlainObject } from './_guard.js';
import { CryptoArgumentError, DocumentFormatError } from './errors.js';
import { signDocument, verifyDocument, type SignedDocument } from './signed.js';
import { _assertSigningPair, type SigningKeyPair } from './keys.js';

export const CLIENT_MANIFEST_TYPE = 'client-manifest';

export interface ManifestFile {
  /** The URL path served: '/', '/es/', '/assets/app.js'. Never '..' nor '//' (a verifier resolving '//host/x'
   * against the tip line's address would fetch from another host). */
  path: string;
  /** Lowercase hex SHA-256 of the body as built (for a page: with the fingerprint slot unfilled, see `template`). */
  sha256: string;
  content_type: string;
  /** The exact Content-Security-Policy header value it is served with. */
  csp: string;
  /** 'fingerprint': the body is served with schema/page.ts's FINGERPRINT_SLOT replaced by the root fingerprint
   * as displayed; a verifier makes that replacement itself before hashing. */
  template?: 'fingerprint';
}

/** What `npm run build` writes (dist/web/client-manifest.json): no time, so two builds of one commit match. */
export interface BuiltManifest {
  v: 1;
  version: string;
  files: ManifestFile[];
}

/** What the root signs: the build's manifest and when it was signed. */
export interface ClientManifest extends BuiltManifest {
  signed: string;
}

const PATH_RE = /^\/[A-Za-z0-9._~\/-]*$/;
const HEX64 = /^[0-9a-f]{64}$/;
const PRINTABLE = /^[\x20-\x7e]{1,4096}$/;
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z$/;

type Fail = (m: string) => Error;

export function validateBuiltManifest(m: unknown, fail: Fail = (s) => new DocumentFormatError(s), extra: string[] = []): BuiltManifest {
  if (!_isPlainObject(m) || !_hasExactKeys(m, ['v', 'version', 'files', ...extra])) throw fail(`client manifest: expected {v, version, files${extra.map((e) => `, ${e}`).join('')}}`);
  if (m.v !== 1) throw fail(`client manifest: unsupported version ${String(m.v)}`);
  if (typeof m.version !== 'string' || !/^[0-9A-Za-z.+-]{1,64}$/.test(m.version)) throw fail('client manifest: version must be 1..64 of [0-9A-Za-z.+-]');
  if (!Array.isArray(m.files) || m.files.length === 0 || m.files.length > 1000) throw fail('client manifest: files must list 1..1000 files');
  const seen = new Set<string>();
  m.files.forEach((f: unknown, i: number) => {
    const at = `client manifest: files[${i}]`;
    if (!_isPlainObject(f) || !_hasExactKeys(f, ['path', 'sha256', 'content_type', 'csp'], ['template'])) throw fail(`${at}: expected {path, sha256, content_type, csp[, template]}`);
    if (typeof f.path !== 'string' || !PATH_RE.test(f.path) || f.path.length > 512 || f.path.includes('..') || f.path.includes('//')) throw fail(`${at}.path must be an absolute URL path`);
    if (seen.has(f.path)) throw fail(`${at}.path ${f.path} is listed twice`);
    seen.add(f.path);
    if (typeof f.sha256 !== 'string' || !HEX64.test(f.sha256)) throw fail(`${at}.sha256 must be 64 lowercase hex digits`);
    if (typeof f.content_type !== 'string' || !PRINTABLE.test(f.content_type)) throw fail(`${at}.content_type must be printable ASCII`);
    if (typeof f.csp !== 'string' || !PRINTABLE.test(f.csp)) throw fail(`${at}.csp must be printable ASCII`);
    if (f.template !== undefined && f.template !== 'fingerprint') throw fail(`${at}.template must be "fingerprint"`);
  });
  return m as unknown as BuiltManifest;
}

export function validateClientManifest(m: unknown, fail: Fail = (s) => new DocumentFormatError(s)): ClientManifest {
  validateBuiltManifest(m, fail, ['signed']);
  const signed = (m as { signed?: unknown }).signed;
  if (typeof signed !== 'string' || !ISO_UTC.test(signed) || !Number.isFinite(Date.parse(signed))) throw fail('client manifest: signed must be an ISO-8601 UTC time');
  return m as ClientManifest;
}

export function signClientManifest(built: BuiltManifest, now: Date, root: SigningKeyPair): SignedDocument {
  validateBuiltManifest(built, (m) => new CryptoArgumentError(m));
  _assertSigningPair(root?.publicKey, root?.secretKey);
  const m: ClientManifest = { v: 1, version: built.version, files: built.files, signed: now.toISOString() };
  return signDocument(CLIENT_MANIFEST_TYPE, m, root);
}

export function verifyClientManifest(doc: unknown, expectedFingerprint: string): ClientManifest {
  return validateClientManifest(verifyDocument(doc, expectedFingerprint, CLIENT_MANIFEST_TYPE));
}
