// Deletes expired tips and transient rows. Each purge that removes anything is recorded in the audit chain,
// with counts only: listing purged tip ids would let whoever holds a source's receipt confirm the tip existed.
import type { Kysely } from 'kysely';
import type { Database } from '../schema/db.js';
import { appendAudit } from './audit.js';
import { utcDay } from './days.js';

export interface PurgeResult {
  tips: number;
  uploads: number;
}

export async function purgeExpired(db: Kysely<Database>, now: Date): Promise<PurgeResult> {
  const today = utcDay(now);
  return db.transaction().execute(async (trx) => {
    const tips = await trx.deleteFrom('tips').where('expires_day', '<=', today).returning('id').execute();
    const uploads = await trx.deleteFrom('uploads').where('expires_at', '<=', now).returning('id').execute();
    const ids = [...tips, ...uploads].map((r) => r.id);
    if (ids.length > 0) await trx.deleteFrom('blob_chunks').where('blob_id', 'in', ids).execute();
    // Chunks whose upload expired while they were being written belong to nothing: remove them too.
    await trx
      .deleteFrom('blob_chunks')
      .where(({ not, exists, selectFrom }) =>
        not(exists(selectFrom('uploads').select('id').whereRef('uploads.id', '=', 'blob_chunks.blob_id'))),
      )
      .where(({ not, exists, selectFrom }) => not(exists(selectFrom('tips').select('id').whereRef('tips.id', '=', 'blob_chunks.blob_id'))))
      .execute();
    // Strictly before: a token is valid up to and including its expiry (crypto/pow.ts), so its record must outlive it.
    await trx.deleteFrom('pow_redeemed').where('expires_at', '<', now).execute();
    await trx.deleteFrom('staff_nonces').where('expires_at', '<=', now).execute();
    if (ids.length > 0) await appendAudit(trx, today, 'purge', { tips: tips.length, uploads: uploads.length });
    return { tips: tips.length, uploads: uploads.length };
  });
}

/** Runs the purge now and then every `intervalMs` (10 minutes in `serve`, so transient rows do not linger
 * past their expiry); returns a function that stops it. */
export function scheduleRetention(db: Kysely<Database>, now: () => Date, intervalMs: number, onError: (err: unknown) => void): () => void {
  let running = Promise.resolve();
  const tick = () => {
    running = running.then(() => purgeExpired(db, now()).then(() => undefined, onError));
  };
  tick();
  const timer = setInterval(tick, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
