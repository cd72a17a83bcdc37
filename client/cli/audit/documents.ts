// The checks of what the tip line publishes at /.well-known/tipline/: the policy, the directory of keys, the
// warrant canary and the client manifest, each verified under the root fingerprint the auditor obtained out of
// band (threat: a server that signs its own documents with a key of its choosing), and the desk keys the
// directory still lists.
import { verifyPolicy, payloadDigest, type Policy } from '../../../crypto/policy.js';
import { deskKeysPastRetention, verifyDirectory, type Directory } from '../../../crypto/directory.js';
import { verifyCanary } from '../../../crypto/canary.js';
import { verifyClientManifest } from '../../../crypto/client-manifest.js';
import { documentFingerprint, type SignedDocument } from '../../../crypto/signed.js';
import { displayFingerprint, sameFingerprint } from '../../../crypto/keys.js';
import { DirectoryExpiredError, FingerprintMismatchError } from '../../../crypto/errors.js';
import { printable } from '../printable.js';
import { clean, fail, pass, skip, type CheckResult } from './types.js';
import type { Got } from './sources.js';
import type { PolicyMark } from './heads.js';

export interface Published {
  policy: Got;
  directory: Got;
  canary: Got;
  manifest: Got;
}

const DAY = 86_400_000;

function why(err: unknown): string {
  if (err instanceof FingerprintMismatchError) return 'signed by another root key than the fingerprint given (--fingerprint)';
  return clean((err as Error).message, 240);
}

export function checkPolicy(got: Got, fp: string, seen: PolicyMark | undefined): { check: CheckResult; policy?: Policy; mark?: PolicyMark } {
  if (!got.ok) return { check: fail('policy', got.why) };
  let policy: Policy;
  try {
    policy = verifyPolicy(got.value, fp);
  } catch (err) {
    return { check: fail('policy', why(err)) };
  }
  const mark: PolicyMark = { serial: policy.serial, digest: payloadDigest(got.value as SignedDocument) };
  const r = policy.retention;
  const words = `serial ${policy.serial}, signed ${policy.issued.slice(0, 10)}: tips kept ${r.tips_days} days, replies ${r.replies_days} days, unfinished uploads ${r.uploads_hours} hours`;
  if (seen && mark.serial < seen.serial) {
    return { check: fail('policy', `serial ${mark.serial} is older than serial ${seen.serial} seen at an earlier audit: an older policy is being served`), policy };
  }
  if (seen && mark.serial === seen.serial && mark.digest !== seen.digest) {
    return { check: fail('policy', `serial ${mark.serial} has other contents than the policy with that serial seen at an earlier audit`), policy };
  }
  return { check: pass('policy', words), policy, mark };
}

export function checkDirectory(got: Got, fp: string, now: Date): { check: CheckResult; directory?: Directory } {
  if (!got.ok) return { check: fail('directory', got.why) };
  try {
    const d = verifyDirectory(got.value, fp, now);
    const desks = d.recipients.filter((r) => r.role === 'desk').length;
    const auditors = d.recipients.length - desks;
    return { check: pass('directory', `serial ${d.serial}, valid until ${d.expires.slice(0, 10)}: ${desks} desk key${desks === 1 ? '' : 's'}, ${auditors} auditor key${auditors === 1 ? '' : 's'}`), directory: d };
  } catch (err) {
    if (err instanceof DirectoryExpiredError) return { check: fail('directory', `expired: ${clean(err.message, 240)}`) };
    return { check: fail('directory', why(err)) };
  }
}

export function checkSameRoot(p: Published, fp: string): CheckResult {
  const seen: string[] = [];
  const other: string[] = [];
  const missing: string[] = [];
  for (const [name, got] of [['policy', p.policy], ['directory', p.directory], ['canary', p.canary], ['client manifest', p.manifest]] as const) {
    if (!got.ok) {
      missing.push(name);
      continue;
    }
    let docFp: string;
    try {
      docFp = documentFingerprint(got.value as SignedDocument);
    } catch {
      other.push(`${name} (not a signed document)`);
      continue;
    }
    if (sameFingerprint(docFp, fp)) seen.push(name);
    else other.push(`${name} (root ${displayFingerprint(docFp)})`);
  }
  if (other.length > 0) return fail('same-root', `signed under another root than ${displayFingerprint(fp)}: ${other.join(', ')}`);
  if (seen.length === 0) return fail('same-root', 'no signed document was published');
  return pass('same-root', `${seen.join(', ')}: all under root ${displayFingerprint(fp)}${missing.length ? ` (${missing.join(', ')}: not published, see ${missing.length === 1 ? 'its check' : 'their checks'})` : ''}`);
}

export function checkCanary(got: Got, fp: string, now: Date): CheckResult {
  if (!got.ok) return fail('canary', `missing: ${got.why}`);
  try {
    const v = verifyCanary(got.value, fp, now);
    if (v.stale) return fail('canary', `stale since ${v.canary.expires.slice(0, 10)} (issued ${v.canary.issued.slice(0, 10)}, not renewed)`);
    return pass('canary', `issued ${v.canary.issued.slice(0, 10)}, to be renewed by ${v.canary.expires.slice(0, 10)}`);
  } catch (err) {
    return fail('canary', why(err));
  }
}

export function checkManifest(got: Got, fp: string): CheckResult {
  if (!got.ok) return fail('client-manifest', got.why);
  try {
    const m = verifyClientManifest(got.value, fp);
    return pass('client-manifest', `version ${clean(m.version, 40)}, ${m.files.length} files, signed ${m.signed.slice(0, 10)} (tipline verify-site compares the served page with it)`);
  } catch (err) {
    return fail('client-manifest', why(err));
  }
}

export function checkDeskKeys(directory: Directory | undefined, policy: Policy | undefined, now: Date): CheckResult {
  if (!directory) return fail('desk-keys', 'no verified directory to read the desk keys from (see the directory check)');
  if (!policy) return fail('desk-keys', 'no verified policy to read the retention period from (see the policy check)');
  const days = policy.retention.tips_days;
  const old = deskKeysPastRetention(directory, days, now);
  if (old.length > 0) {
    return fail('desk-keys', old.map((r) => `desk "${printable(r.name, 80)}": its key began ${r.not_before.slice(0, 10)}, ${Math.floor((now.getTime() - Date.parse(r.not_before)) / DAY)} days ago, more than the ${days} days tips are kept`).join('; '));
  }
  const desks = directory.recipients.filter((r) => r.role === 'desk').length;
  return pass('desk-keys', `${desks} desk key${desks === 1 ? '' : 's'}, each begun within the last ${days} days`);
}

/**
 * Each signed document the database holds, verified under the root: the server does not serve a row that no
 * longer verifies, so from outside a tampered row only looks missing; with the database, the auditor sees why.
 */
export function checkStoredDocuments(stored: Got<Record<string, string>> | undefined, fp: string, now: Date, noDb: string): CheckResult {
  if (!stored) return skip('stored-documents', noDb);
  if (!stored.ok) return fail('stored-documents', stored.why);
  const verifiers: Record<string, (doc: unknown) => unknown> = {
    directory: (doc) => {
      try {
        return verifyDirectory(doc, fp, now);
      } catch (err) {
        // Expired is the directory check's finding; here only the signature matters.
        if (err instanceof DirectoryExpiredError) return undefined;
        throw err;
      }
    },
    policy: (doc) => verifyPolicy(doc, fp),
    canary: (doc) => verifyCanary(doc, fp, now),
    'client-manifest': (doc) => verifyClientManifest(doc, fp),
  };
  const good: string[] = [];
  const bad: string[] = [];
  for (const [kind, verify] of Object.entries(verifiers)) {
    const body = stored.value[kind];
    if (body === undefined) continue;
    try {
      verify(JSON.parse(body));
      good.push(kind);
    } catch (err) {
      bad.push(`the ${kind} stored in the database does not verify: ${why(err)}`);
    }
  }
  if (bad.length > 0) return fail('stored-documents', bad.join('; '));
  if (good.length === 0) return fail('stored-documents', 'the database holds no signed document');
  return pass('stored-documents', `${good.join(', ')}: each verifies under root ${displayFingerprint(fp)}`);
}
