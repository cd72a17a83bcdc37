// The newsroom's API: every request signed by a key from the directory (server/staff-auth.ts).
import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { sql } from 'kysely';
import type { z } from 'zod';
import { AuditLog, Deleted, IdParams, TipList } from '../../schema/wire.js';
import type { Role } from '../../crypto/directory.js';
import { AppError } from '../errors.js';
import { authenticateStaff } from '../staff-auth.js';
import { appendAudit, readAudit } from '../audit.js';
import { utcDay } from '../days.js';
import type { AppContext } from '../app.js';

export async function staffRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const { db, config } = ctx;
  const auth = (req: FastifyRequest, roles: readonly Role[]) => authenticateStaff(db, req, roles, config.now(), config.rootFingerprint);

  app.get('/api/v1/staff/tips', { schema: { response: { 200: TipList } } }, async (req) => {
    await auth(req, ['desk']);
    const rows = await db
      .selectFrom('tips')
      .select(['id', 'size', sql<string>`received_day::text`.as('received_day'), sql<string>`expires_day::text`.as('expires_day')])
      .orderBy('received_day')
      .orderBy('id')
      .execute();
    return { tips: rows.map((r) => ({ ...r, size: Number(r.size) })) };
  });

  app.get('/api/v1/staff/tips/:id', { schema: { params: IdParams } }, async (req, reply) => {
    await auth(req, ['desk']);
    const { id } = req.params as z.infer<typeof IdParams>;
    const tip = await db.selectFrom('tips').select(['size', 'chunk_count']).where('id', '=', id).executeTakeFirst();
    if (!tip) throw new AppError('TIPLINE_ERR_TIP_UNKNOWN', 'no such tip');
    const count = tip.chunk_count;
    // Checked before the headers go out: a damaged tip is an error, not a silently truncated 200.
    const stored = await db.selectFrom('blob_chunks').select(sql<string>`count(*)`.as('n')).where('blob_id', '=', id).executeTakeFirstOrThrow();
    if (Number(stored.n) !== count) throw new Error('stored tip is missing chunks');
    // One chunk in memory at a time, whatever the envelope's size.
    async function* chunks() {
      for (let i = 0; i < count; i++) {
        const row = await db.selectFrom('blob_chunks').select('data').where('blob_id', '=', id).where('idx', '=', i).executeTakeFirst();
        if (!row) throw new Error(`tip ${id} is missing chunk ${i}`);
        yield row.data;
      }
    }
    reply.header('content-type', 'application/octet-stream').header('content-length', String(Number(tip.size)));
    return reply.send(Readable.from(chunks()));
  });

  app.delete('/api/v1/staff/tips/:id', { schema: { params: IdParams, response: { 200: Deleted } } }, async (req) => {
    const signer = await auth(req, ['desk']);
    const { id } = req.params as z.infer<typeof IdParams>;
    await db.transaction().execute(async (trx) => {
      const gone = await trx.deleteFrom('tips').where('id', '=', id).returning('id').executeTakeFirst();
      if (!gone) throw new AppError('TIPLINE_ERR_TIP_UNKNOWN', 'no such tip');
      await trx.deleteFrom('blob_chunks').where('blob_id', '=', id).execute();
      await appendAudit(trx, utcDay(config.now()), 'staff-delete', { by: signer.name, tips: 1 });
    });
    return { deleted: id };
  });

  app.get('/api/v1/staff/audit', { schema: { response: { 200: AuditLog } } }, async (req) => {
    await auth(req, ['desk', 'auditor']);
    return { entries: await readAudit(db) };
  });
}
