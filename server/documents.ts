// The signed documents published beside the directory: the retention policy, the warrant canary and the client
// manifest (FORMAT.md). Like the directory they are kept in the database, so several instances serve the same
// ones, and like it a stored row is never trusted on its own: every load verifies it again under the pinned
// root (threat: someone with database access swapping in a laxer policy or a fresh-looking canary), and a
// document older than one already published is refused (threat: rolling back a canary or policy).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Kysely } from 'kysely';
import type { Database } from '../schema/db.js';
import { documentFingerprint, type SignedDocument } from '../crypto/signed.js';
import { payloadDigest, verifyPolicy, type Policy } from '../crypto/policy.js';
import { verifyCanary } from '../crypto/canary.js';
import { verifyClientManifest } from '../crypto/client-manifest.js';
import type { AuditDetail } from '../crypto/audit-chain.js';
import { appendAudit } from './audit.js';
import { loadDirectoryBody } from './directory.js';
import { utcDay } from './days.js';

export type DocumentKind = 'policy' | 'canary' | 'client-manifest';
export const DOCUMENT_KINDS: readonly DocumentKind[] = ['policy', 'canary', 'client-manifest'];
/** The file each is read from, in the folder of the directory file (DIR/directory.json). */
export const DOCUMENT_FILES: Readonly<Record<DocumentKind, string>> = { policy: 'policy.json', canary: 'canary.json', 'client-manifest': 'client-manifest.json' };

/** A document older than the one published (a lower serial), or the same serial with other contents. */
export class DocumentRollbackError extends Error {
  override name = 'DocumentRollbackError';
}

interface Checked {
  /** Only grows: the policy's and canary's serial; the manifest's signing time in seconds. */
  serial: number;
  detail: AuditDetail;
}

/** Verifies `doc` as a `kind` of root `pin`; throws what is wrong. A stale canary verifies (it is shown as stale). */
function verifyKind(kind: DocumentKind, doc: unknown, pin: string, now: Date): Checked {
  switch (kind) {
    case 'policy': {
      const p = verifyPolicy(doc, pin);
      const r = p.retention;
      return { serial: p.serial, detail: { serial: p.serial, tips_days: r.tips_days, replies_days: r.replies_days, uploads_hours: r.uploads_hours, key_period_days: p.key_period_days } };
    }
    case 'canary': {
      const c = verifyCanary(doc, pin, now).canary;
      return { serial: c.serial, detail: { serial: c.serial, issued_day: c.issued.slice(0, 10), expires_day: c.expires.slice(0, 10) } };
    }
    case 'client-manifest': {
      const m = verifyClientManifest(doc, pin);
      const serial = Math.floor(Date.parse(m.signed) / 1000);
      return { serial, detail: { version: m.version, files: m.files.length, signed_day: m.signed.slice(0, 10) } };
    }
  }
}

interface Mark {
  serial: number;
  digest: string;
}

function parseMark(body: string | undefined): Mark | undefined {
  if (body === undefined) return undefined;
  try {
    const m = JSON.parse(body) as Mark;
    return Number.isSafeInteger(m.serial) && typeof m.digest === 'string' ? m : undefined;
  } catch {
    return undefined;
  }
}

function checkMark(kind: DocumentKind, mark: Mark, highest: Mark | undefined): void {
  if (!highest) return;
  if (mark.serial < highest.serial) throw new DocumentRollbackError(`${kind} serial ${mark.serial} is older than serial ${highest.serial}, already published: refusing a rolled-back ${kind}`);
  if (mark.serial === highest.serial && mark.digest !== highest.digest) throw new DocumentRollbackError(`${kind} serial ${mark.serial} differs from the ${kind} already published with that serial: refusing it`);
}

/** The root documents are checked against: the pin when the server has one, else the published directory's. */
export async function documentRoot(db: Kysely<Database>, pin: string | undefined): Promise<string | undefined> {
  if (pin) return pin;
  const body = await loadDirectoryBody(db);
  if (!body) return undefined;
  try {
    return documentFingerprint(JSON.parse(body) as SignedDocument);
  } catch {
    return undefined;
  }
}

export interface Published {
  kind: DocumentKind;
  /** False when the same document was already published (nothing changed, nothing audited). */
  changed: boolean;
  detail: AuditDetail;
}

/**
 * Publishes a signed document: it must verify under `pin` and not be older than the one published (the same
 * serial again only with the same bytes). Each change appends `<kind>-published` to the audit chain, with its
 * serial and days (never a time of day).
 */
export async function publishDocument(db: Kysely<Database>, kind: DocumentKind, doc: SignedDocument, now: Date, pin: string): Promise<Published> {
  const checked = verifyKind(kind, doc, pin, now);
  const mark: Mark = { serial: checked.serial, digest: payloadDigest(doc) };
  const body = JSON.stringify(doc);
  const markKind = `${kind}-serial`;
  const changed = await db.transaction().execute(async (trx) => {
    const rows = await trx.selectFrom('documents').select(['kind', 'body']).where('kind', 'in', [kind, markKind]).forUpdate().execute();
    checkMark(kind, mark, parseMark(rows.find((r) => r.kind === markKind)?.body));
    if (rows.find((r) => r.kind === kind)?.body === body) return false;
    const day = utcDay(now);
    for (const [k, value] of [[kind, body], [markKind, JSON.stringify(mark)]] as const) {
      await trx.insertInto('documents').values({ kind: k, body: value, published_day: day }).onConflict((oc) => oc.column('kind').doUpdateSet({ body: value, published_day: day })).execute();
    }
    await appendAudit(trx, day, `${kind}-published`, checked.detail);
    return true;
  });
  return { kind, changed, detail: checked.detail };
}

/** The stored document's body, for serving byte-for-byte, only if it still verifies under the root; else undefined. */
export async function loadDocumentBody(db: Kysely<Database>, kind: DocumentKind, pin: string | undefined, now: Date): Promise<string | undefined> {
  const root = await documentRoot(db, pin);
  if (!root) return undefined;
  const rows = await db.selectFrom('documents').select(['kind', 'body']).where('kind', 'in', [kind, `${kind}-serial`]).execute();
  const body = rows.find((r) => r.kind === kind)?.body;
  if (body === undefined) return undefined;
  try {
    const doc = JSON.parse(body) as SignedDocument;
    const checked = verifyKind(kind, doc, root, now);
    // A row put back under a newer serial mark (an old policy restored by hand) is not served.
    checkMark(kind, { serial: checked.serial, digest: payloadDigest(doc) }, parseMark(rows.find((r) => r.kind === `${kind}-serial`)?.body));
    return body;
  } catch {
    return undefined;
  }
}

/** The published policy, verified; undefined when none is published (or the stored one does not verify). */
export async function loadPolicy(db: Kysely<Database>, pin: string | undefined, now = new Date()): Promise<{ doc: SignedDocument; policy: Policy } | undefined> {
  const body = await loadDocumentBody(db, 'policy', pin, now);
  const root = await documentRoot(db, pin);
  if (body === undefined || !root) return undefined;
  const doc = JSON.parse(body) as SignedDocument;
  return { doc, policy: verifyPolicy(doc, root) };
}

/** The documents found beside `directoryFile`, each read and parsed (not yet verified); a file that is not JSON throws. */
export function readDocumentsBeside(directoryFile: string): { kind: DocumentKind; path: string; doc: SignedDocument }[] {
  const out: { kind: DocumentKind; path: string; doc: SignedDocument }[] = [];
  for (const kind of DOCUMENT_KINDS) {
    const path = join(dirname(directoryFile), DOCUMENT_FILES[kind]);
    if (!existsSync(path)) continue;
    let doc: SignedDocument;
    try {
      doc = JSON.parse(readFileSync(path, 'utf8')) as SignedDocument;
    } catch (err) {
      throw new Error(`${path} is not a signed ${kind} (${(err as Error).message})`);
    }
    out.push({ kind, path, doc });
  }
  return out;
}

/**
 * Publishes every document found beside the directory file. One that does not verify stops the start (the
 * operator's mistake to fix, not something to serve); one older than the published is reported and skipped.
 */
export async function publishDocumentsBeside(db: Kysely<Database>, directoryFile: string, now: Date, pin: string, say: (s: string) => void): Promise<void> {
  for (const { kind, path, doc } of readDocumentsBeside(directoryFile)) {
    try {
      const p = await publishDocument(db, kind, doc, now, pin);
      say(`${kind}: ${path}${p.changed ? ', published' : ''} (${Object.entries(p.detail).map(([k, v]) => `${k} ${String(v)}`).join(', ')})`);
    } catch (err) {
      if (err instanceof DocumentRollbackError) {
        say(`warning: ${path} is not published: ${err.message}`);
        continue;
      }
      throw new Error(`${path}: ${(err as Error).message}`);
    }
  }
}
