// The retention policy as data (FORMAT.md §Policy): what is kept and for how long, what is stored and logged,
// which keys exist and who holds them. Signed by the root, published at /.well-known/tipline/policy, shown on
// the sources' page, and enforced by the server from the same document: a server whose configuration
// disagrees with it refuses to start (threat: an operator quietly keeping tips longer than the newsroom says).
import { _hasExactKeys, _isPlainObject } from './_guard.js';
import { fromBase64, toBase64, toHex } from './bytes.js';
import { CryptoArgumentError, DocumentFormatError } from './errors.js';
import { documentPayload, signDocument, verifyDocument, type SignedDocument } from './signed.js';
import { _assertSigningPair, type SigningKeyPair } from './keys.js';
import { sodium } from './sodium.js';

export const POLICY_TYPE = 'policy';

export interface RetentionPolicy {
  /** Days a tip is kept after the day it is received (its expiry day is received day + tips_days). */
  tips_days: number;
  /** Days a reply is kept after the day it is posted. */
  replies_days: number;
  /** Hours an unfinished upload may live, at most. */
  uploads_hours: number;
}

export type KeyHolderRole = 'root' | 'signer' | 'desk' | 'auditor' | 'server';

/** One kind of key, in words for a lawyer: who holds it and what it can do. */
export interface KeyHolder {
  role: KeyHolderRole;
  holder: string;
  can: string;
}

export interface Policy {
  v: 1;
  /** Only grows, like the directory's: a server or auditor that has seen serial n refuses an older policy. */
  serial: number;
  issued: string;
  retention: RetentionPolicy;
  /** A desk's encryption key is used for new tips at most this many days; then a new one replaces it, and the
   * old secret is destroyed once every tip sealed to it has expired (`tipline keys rotate`). */
  key_period_days: number;
  /** Every table the server may hold and its columns (schema/db.ts STORED_COLUMNS when signed). */
  stored: Record<string, string[]>;
  /** The fields of a server log line. */
  logged: string[];
  keys: KeyHolder[];
  /** The Ed25519 key (base64) the server signs its audit-chain heads with, once the newsroom pins it. */
  audit_key?: string;
}

export const MAX_RETENTION_DAYS = 3650;
export const MAX_UPLOAD_HOURS = 168;
export const DEFAULT_RETENTION: RetentionPolicy = { tips_days: 30, replies_days: 30, uploads_hours: 24 };
export const DEFAULT_KEY_PERIOD_DAYS = 7;
/** What `tipline serve` writes to its log (server/app.ts): never an address, a header or a path's parameters. */
export const DEFAULT_LOGGED = ['level', 'method', 'route', 'status', 'duration_ms'];
export const DEFAULT_KEYS: KeyHolder[] = [
  { role: 'root', holder: 'the newsroom, on an offline machine', can: 'certify the directory signing key; sign this policy and the client manifest' },
  { role: 'signer', holder: 'the newsroom, on one of its machines (never the server)', can: 'sign the list of desk and auditor keys, and the warrant canary' },
  { role: 'desk', holder: 'each journalist, on their own machine', can: 'decrypt tips sealed to it while it was current; sign replies and staff requests' },
  { role: 'auditor', holder: 'each auditor, on their own machine', can: 'read the audit log and tip metadata (ids, days, sizes); never a tip' },
  { role: 'server', holder: 'the tip line server', can: 'sign the audit log\'s head; it holds no key that decrypts a tip or lists a desk' },
];

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z$/;
const NAME_RE = /^[a-z_][a-z0-9_]{0,62}$/;
const LOG_RE = /^[a-z_][a-z0-9_]{0,62}$/;
const TEXT_MAX = 300;

type Fail = (m: string) => Error;

function whole(v: unknown, what: string, lo: number, hi: number, fail: Fail): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < lo || v > hi) throw fail(`${what} must be a whole number from ${lo} to ${hi}`);
  return v;
}

function text(v: unknown, what: string, fail: Fail): string {
  // No control or bidi characters: the page and the audit report show these words as they are.
  if (typeof v !== 'string' || v.length === 0 || v.length > TEXT_MAX || /[\p{Cc}\p{Cf}]/u.test(v)) throw fail(`${what} must be 1..${TEXT_MAX} printable characters`);
  return v;
}

/** Throws (via `fail`) unless `p` is exactly a valid version 1 Policy. */
export function validatePolicy(p: unknown, fail: Fail = (m) => new DocumentFormatError(m)): Policy {
  if (!_isPlainObject(p) || !_hasExactKeys(p, ['v', 'serial', 'issued', 'retention', 'key_period_days', 'stored', 'logged', 'keys'], ['audit_key'])) {
    throw fail('policy: expected {v, serial, issued, retention, key_period_days, stored, logged, keys[, audit_key]}');
  }
  if (p.v !== 1) throw fail(`policy: unsupported version ${String(p.v)}`);
  if (typeof p.issued !== 'string' || !ISO_UTC.test(p.issued) || !Number.isFinite(Date.parse(p.issued))) throw fail('policy: issued must be an ISO-8601 UTC time');
  const serial = whole(p.serial, 'policy: serial', 1, Number.MAX_SAFE_INTEGER, fail);
  if (serial > Math.floor(Date.parse(p.issued) / 1000)) throw fail('policy: serial must not exceed the issue time in seconds since 1970');
  const r = p.retention;
  if (!_isPlainObject(r) || !_hasExactKeys(r, ['tips_days', 'replies_days', 'uploads_hours'])) throw fail('policy: retention must be {tips_days, replies_days, uploads_hours}');
  const tips = whole(r.tips_days, 'policy: retention.tips_days', 1, MAX_RETENTION_DAYS, fail);
  whole(r.replies_days, 'policy: retention.replies_days', 1, MAX_RETENTION_DAYS, fail);
  whole(r.uploads_hours, 'policy: retention.uploads_hours', 1, MAX_UPLOAD_HOURS, fail);
  // A key used longer than tips are kept would have to outlive the first tips sealed to it.
  whole(p.key_period_days, 'policy: key_period_days', 1, tips, fail);
  if (!_isPlainObject(p.stored) || Object.keys(p.stored).length === 0 || Object.keys(p.stored).length > 64) throw fail('policy: stored must name 1..64 tables');
  for (const [table, cols] of Object.entries(p.stored)) {
    if (!NAME_RE.test(table)) throw fail(`policy: stored table "${table.slice(0, 64)}" is not a plain SQL name`);
    if (!Array.isArray(cols) || cols.length === 0 || cols.length > 64 || cols.some((c) => typeof c !== 'string' || !NAME_RE.test(c)) || new Set(cols).size !== cols.length) {
      throw fail(`policy: stored.${table} must list 1..64 distinct plain column names`);
    }
  }
  if (!Array.isArray(p.logged) || p.logged.length > 32 || p.logged.some((f) => typeof f !== 'string' || !LOG_RE.test(f))) throw fail('policy: logged must list at most 32 plain field names');
  if (!Array.isArray(p.keys) || p.keys.length === 0 || p.keys.length > 16) throw fail('policy: keys must list 1..16 kinds of key');
  p.keys.forEach((k: unknown, i: number) => {
    if (!_isPlainObject(k) || !_hasExactKeys(k, ['role', 'holder', 'can'])) throw fail(`policy: keys[${i}] must be {role, holder, can}`);
    if (!['root', 'signer', 'desk', 'auditor', 'server'].includes(k.role as string)) throw fail(`policy: keys[${i}].role is not root, signer, desk, auditor or server`);
    text(k.holder, `policy: keys[${i}].holder`, fail);
    text(k.can, `policy: keys[${i}].can`, fail);
  });
  if (p.audit_key !== undefined) {
    let b: Uint8Array | undefined;
    try {
      b = typeof p.audit_key === 'string' ? fromBase64(p.audit_key) : undefined;
    } catch {
      b = undefined;
    }
    if (b?.length !== 32) throw fail('policy: audit_key must be base64 of a 32-byte Ed25519 key');
  }
  return p as unknown as Policy;
}

/** A new policy (serial: the issue time in seconds, above `previousSerial`). */
export function makePolicy(o: {
  now: Date;
  stored: Record<string, readonly string[]>;
  retention?: Partial<RetentionPolicy>;
  keyPeriodDays?: number;
  logged?: string[];
  keys?: KeyHolder[];
  auditKey?: Uint8Array;
  previousSerial?: number;
}): Policy {
  const t = o.now instanceof Date ? o.now.getTime() : NaN;
  if (!Number.isFinite(t)) throw new CryptoArgumentError('now: expected a valid Date');
  const serial = Math.max((o.previousSerial ?? 0) + 1, Math.floor(t / 1000));
  const retention = { ...DEFAULT_RETENTION, ...o.retention };
  const p: Policy = {
    v: 1,
    serial,
    issued: new Date(Math.max(t, serial * 1000)).toISOString(),
    retention,
    key_period_days: o.keyPeriodDays ?? Math.min(DEFAULT_KEY_PERIOD_DAYS, retention.tips_days),
    stored: Object.fromEntries(Object.entries(o.stored).map(([k, v]) => [k, [...v]])),
    logged: o.logged ?? [...DEFAULT_LOGGED],
    keys: o.keys ?? DEFAULT_KEYS.map((k) => ({ ...k })),
    ...(o.auditKey ? { audit_key: toBase64(o.auditKey) } : {}),
  };
  return validatePolicy(p, (m) => new CryptoArgumentError(m));
}

export function signPolicy(p: Policy, root: SigningKeyPair): SignedDocument {
  validatePolicy(p, (m) => new CryptoArgumentError(m));
  _assertSigningPair(root?.publicKey, root?.secretKey);
  return signDocument(POLICY_TYPE, p, root);
}

/** The policy in `doc`, its root signature checked against the expected fingerprint. Policies do not expire. */
export function verifyPolicy(doc: unknown, expectedFingerprint: string): Policy {
  return validatePolicy(verifyDocument(doc, expectedFingerprint, POLICY_TYPE));
}

/** Hex BLAKE2b-256 of a signed document's payload: the same serial must mean the same document. */
export function payloadDigest(doc: SignedDocument): string {
  return toHex(sodium().crypto_generichash(32, documentPayload(doc), null));
}

/** Stored columns as the server's schema lists them, compared with a policy's: what differs, in words. */
export function storedDifferences(policy: Pick<Policy, 'stored'>, actual: Record<string, readonly string[]>): string[] {
  const out: string[] = [];
  for (const [table, cols] of Object.entries(actual)) {
    const allowed = policy.stored[table];
    if (!allowed) {
      out.push(`table ${table} is not in the policy`);
      continue;
    }
    for (const c of cols) if (!allowed.includes(c)) out.push(`column ${table}.${c} is not in the policy`);
  }
  for (const [table, cols] of Object.entries(policy.stored)) {
    const have = actual[table];
    if (!have) out.push(`table ${table}, in the policy, does not exist`);
    else for (const c of cols) if (!have.includes(c)) out.push(`column ${table}.${c}, in the policy, does not exist`);
  }
  return out;
}
