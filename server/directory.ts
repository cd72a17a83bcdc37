// The signed directory as published: kept in the database so several server instances serve the same one.
import type { Kysely } from 'kysely';
import type { Database } from '../schema/db.js';
import { documentFingerprint, type SignedDocument } from '../crypto/signed.js';
import { sameFingerprint } from '../crypto/keys.js';
import { verifyDirectory, type Directory } from '../crypto/directory.js';
import { appendAudit } from './audit.js';
import { utcDay } from './days.js';

export interface PublishedDirectory {
  doc: SignedDocument;
  directory: Directory;
  fingerprint: string;
}

/** The directory as stored, for serving byte-for-byte. */
export async function loadDirectoryBody(db: Kysely<Database>): Promise<string | undefined> {
  const row = await db.selectFrom('documents').select('body').where('kind', '=', 'directory').executeTakeFirst();
  return row?.body;
}

/** The directory, verified again on every load (a row edited in the database must not be trusted). */
export async function loadDirectory(db: Kysely<Database>, now: Date, pinned?: string): Promise<PublishedDirectory | undefined> {
  const body = await loadDirectoryBody(db);
  if (body === undefined) return undefined;
  const doc = JSON.parse(body) as SignedDocument;
  // With a pinned root fingerprint, a directory re-signed by another key (a row rewritten in the database)
  // is refused; without one, the first directory published is trusted and later ones must match its root.
  return { doc, directory: verifyDirectory(doc, pinned ?? documentFingerprint(doc), now), fingerprint: documentFingerprint(doc) };
}

/** Publishes a directory; a replacement must be signed by the same root key. */
export async function publishDirectory(db: Kysely<Database>, doc: SignedDocument, now: Date, pinned?: string): Promise<PublishedDirectory> {
  const directory = verifyDirectory(doc, pinned ?? documentFingerprint(doc), now);
  const fingerprint = documentFingerprint(doc);
  const body = JSON.stringify(doc);
  await db.transaction().execute(async (trx) => {
    const current = await trx.selectFrom('documents').select('body').where('kind', '=', 'directory').forUpdate().executeTakeFirst();
    if (current?.body === body) return;
    if (current) {
      const old = documentFingerprint(JSON.parse(current.body) as SignedDocument);
      if (!sameFingerprint(old, fingerprint)) throw new Error(`directory is signed by root ${fingerprint}, but this tip line belongs to root ${old}`);
    }
    const day = utcDay(now);
    await trx
      .insertInto('documents')
      .values({ kind: 'directory', body, published_day: day })
      .onConflict((oc) => oc.column('kind').doUpdateSet({ body, published_day: day }))
      .execute();
    await appendAudit(trx, day, 'directory-published', { recipients: directory.recipients.length, expires: directory.expires });
  });
  return { doc, directory, fingerprint };
}
