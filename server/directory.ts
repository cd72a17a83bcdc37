// The signed directory as published: kept in the database so several server instances serve the same one.
// The stored row is never trusted on its own (threat: someone with database access swapping in another root's
// directory, or an older one of ours that still lists a removed desk). `tipline serve` always runs with a pin,
// the root fingerprint obtained outside the database (--fingerprint, or for PGlite the first root published,
// kept in a file of the data folder), and every directory is checked against the highest serial accepted: in
// this process's memory, in the documents table, and for PGlite in that same file (SECURITY.md §Directory).
import { chmodSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { Kysely } from 'kysely';
import type { Database } from '../schema/db.js';
import { documentFingerprint, type SignedDocument } from '../crypto/signed.js';
import { normalizeFingerprint, sameFingerprint } from '../crypto/keys.js';
import { checkSerial, directoryMark, laterMark, verifyDirectoryChain, type Directory, type SerialMark } from '../crypto/directory.js';
import { DirectoryExpiredError } from '../crypto/errors.js';
import { appendAudit } from './audit.js';
import { utcDay } from './days.js';

export interface PublishedDirectory {
  doc: SignedDocument;
  directory: Directory;
  fingerprint: string;
}

/** The file in a PGlite data folder that pins the root and keeps the highest serial, outside the database. */
export const PIN_FILE = 'directory-pin.json';

export interface PinRecord {
  /** Compact root fingerprint. */
  root: string;
  highest?: SerialMark | undefined;
}

interface Guard {
  /** The pinned root; null: nothing is pinned yet, so no stored directory is trusted. */
  pin: string | null;
  file: string | undefined;
  highest: SerialMark | undefined;
}

// Per database handle, set up by `tipline serve` (guardDirectory). A handle without one (a server built
// directly by a test) trusts the stored row's own root, as a pin-less deployment did before; serve never runs so.
const guards = new WeakMap<object, Guard>();

/** Reads a data folder's pin file; undefined when there is none. Throws a clear error when it is damaged. */
export function readPinFile(path: string): PinRecord | undefined {
  if (!existsSync(path)) return undefined;
  try {
    const j = JSON.parse(readFileSync(path, 'utf8')) as { v?: unknown; root?: unknown; serial?: unknown; digest?: unknown };
    if (j.v !== 1 || typeof j.root !== 'string') throw new Error('unexpected contents');
    const root = normalizeFingerprint(j.root);
    const highest = Number.isSafeInteger(j.serial) && typeof j.digest === 'string' && /^[0-9a-f]{64}$/.test(j.digest) ? { serial: j.serial as number, digest: j.digest } : undefined;
    return { root, highest };
  } catch (err) {
    throw new Error(`${path} is damaged (${(err as Error).message}): it pins this tip line's root; restore it, or delete it and start with --fingerprint "…"`);
  }
}

function writePinFile(path: string, rec: PinRecord): void {
  const body = `${JSON.stringify({ v: 1, root: rec.root, ...(rec.highest ? { serial: rec.highest.serial, digest: rec.highest.digest } : {}) }, null, 2)}\n`;
  // Written whole or not at all: a torn pin file would stop the server from starting.
  writeFileSync(`${path}.tmp`, body, { mode: 0o600 });
  chmodSync(`${path}.tmp`, 0o600);
  renameSync(`${path}.tmp`, path);
}

/** Makes this database handle trust only directories of `pin` (null: none yet) and at or above the serials known. */
export function guardDirectory(db: Kysely<Database>, o: { pin: string | undefined; file?: string | undefined; highest?: SerialMark | undefined }): void {
  guards.set(db, { pin: o.pin === undefined ? null : normalizeFingerprint(o.pin), file: o.file, highest: o.highest });
}

async function readRows(db: Kysely<Database>): Promise<{ body: string | undefined; mark: SerialMark | undefined }> {
  const rows = await db.selectFrom('documents').select(['kind', 'body']).where('kind', 'in', ['directory', 'directory-serial']).execute();
  const body = rows.find((r) => r.kind === 'directory')?.body;
  return { body, mark: parseMark(rows.find((r) => r.kind === 'directory-serial')?.body) };
}

function parseMark(body: string | undefined): SerialMark | undefined {
  if (body === undefined) return undefined;
  try {
    const m = JSON.parse(body) as SerialMark;
    return Number.isSafeInteger(m.serial) && typeof m.digest === 'string' ? { serial: m.serial, digest: m.digest } : undefined;
  } catch {
    return undefined;
  }
}

class NotPinnedError extends Error {
  constructor() {
    super('no root is pinned for this tip line (no --fingerprint and no pin file): the stored directory is not trusted');
  }
}

/**
 * Verifies a stored body against the pin (or, unguarded, its own root) and the serials known, and raises the
 * in-memory mark. `allowExpired`: an expired directory of ours is still served, so that clients say "expired".
 */
function check(db: Kysely<Database>, body: string, dbMark: SerialMark | undefined, now: Date, pinned: string | undefined, allowExpired: boolean): PublishedDirectory {
  const guard = guards.get(db);
  let doc: SignedDocument;
  try {
    doc = JSON.parse(body) as SignedDocument;
  } catch {
    throw new Error('the stored directory is not JSON');
  }
  const pin = pinned ?? (guard ? guard.pin : documentFingerprint(doc));
  if (pin === null) throw new NotPinnedError();
  let directory: Directory;
  try {
    directory = verifyDirectoryChain(doc, pin, now).directory;
  } catch (err) {
    if (!(allowExpired && err instanceof DirectoryExpiredError)) throw err;
    // Expired, but its chain checked at an instant it was valid: still ours and still to be refused by clients.
    const at = new Date(Date.parse(err.expires));
    directory = verifyDirectoryChain(doc, pin, at).directory;
  }
  const mark = directoryMark(doc, directory);
  checkSerial(mark, laterMark(guard?.highest, dbMark ?? mark));
  if (guard) guard.highest = laterMark(guard.highest, mark);
  return { doc, directory, fingerprint: documentFingerprint(doc) };
}

/**
 * The directory as stored, for serving byte-for-byte; undefined when none is published or (on a guarded
 * handle) the stored one is not ours or older than one accepted. An expired one of ours is served.
 */
export async function loadDirectoryBody(db: Kysely<Database>, now = new Date()): Promise<string | undefined> {
  const { body, mark } = await readRows(db);
  if (body === undefined || !guards.has(db)) return body;
  try {
    check(db, body, mark, now, undefined, true);
    return body;
  } catch {
    return undefined;
  }
}

/** The directory, verified again on every load against the pin and the highest serial accepted. */
export async function loadDirectory(db: Kysely<Database>, now: Date, pinned?: string): Promise<PublishedDirectory | undefined> {
  const { body, mark } = await readRows(db);
  if (body === undefined) return undefined;
  return check(db, body, mark, now, pinned, false);
}

/**
 * Publishes a directory. It must verify under the pin (unguarded and unpinned: under the root already
 * published) and not be older than any accepted; the same serial again is accepted only with the same bytes.
 * A stored row that is not ours (swapped in) is replaced. Returns the directory now published.
 */
export async function publishDirectory(db: Kysely<Database>, doc: SignedDocument, now: Date, pinned?: string): Promise<PublishedDirectory> {
  const guard = guards.get(db);
  const pin = pinned ?? guard?.pin ?? documentFingerprint(doc);
  const directory = verifyDirectoryChain(doc, pin, now).directory;
  const mark = directoryMark(doc, directory);
  checkSerial(mark, guard?.highest);
  const fingerprint = documentFingerprint(doc);
  const body = JSON.stringify(doc);
  const unpinned = pinned === undefined && !guard;
  await db.transaction().execute(async (trx) => {
    const rows = await trx.selectFrom('documents').select(['kind', 'body']).where('kind', 'in', ['directory', 'directory-serial']).forUpdate().execute();
    const current = rows.find((r) => r.kind === 'directory')?.body;
    checkSerial(mark, parseMark(rows.find((r) => r.kind === 'directory-serial')?.body));
    if (current === body) return;
    if (current && unpinned) {
      // No pin at all (a test's server): the first root published is the only one accepted.
      const old = documentFingerprint(JSON.parse(current) as SignedDocument);
      if (!sameFingerprint(old, fingerprint)) throw new Error(`directory is signed by root ${fingerprint}, but this tip line belongs to root ${old}`);
    }
    const day = utcDay(now);
    const markBody = JSON.stringify(mark);
    for (const [kind, value] of [['directory', body], ['directory-serial', markBody]] as const) {
      await trx
        .insertInto('documents')
        .values({ kind, body: value, published_day: day })
        .onConflict((oc) => oc.column('kind').doUpdateSet({ body: value, published_day: day }))
        .execute();
    }
    // Key rotations show in the chain as new desk encryption keys (counts only: the directory itself is public).
    let before: Directory | undefined;
    try {
      before = current ? (JSON.parse(Buffer.from((JSON.parse(current) as SignedDocument).payload, 'base64').toString('utf8')) as Directory) : undefined;
    } catch {
      before = undefined;
    }
    const oldBoxes = new Set((before?.recipients ?? []).map((r) => r.box_key));
    const desks = directory.recipients.filter((r) => r.role === 'desk');
    await appendAudit(trx, day, 'directory-published', {
      recipients: directory.recipients.length,
      desks: desks.length,
      new_desk_keys: desks.filter((r) => !oldBoxes.has(r.box_key)).length,
      expires_day: directory.expires.slice(0, 10),
      serial: directory.serial,
    });
  });
  if (guard) {
    guard.highest = laterMark(guard.highest, mark);
    if (guard.pin === null) guard.pin = normalizeFingerprint(fingerprint);
    if (guard.file) writePinFile(guard.file, { root: guard.pin, highest: guard.highest });
  }
  return { doc, directory, fingerprint };
}
