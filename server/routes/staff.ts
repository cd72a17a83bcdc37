// The newsroom's API. Each route declares the roles it admits (`config.staff`); server/staff-auth.ts checks the
// request's signature before the handler runs and refuses to register a route here that declares none.
import { Readable } from 'node:stream';
import { z } from 'zod';
import { AuditLog, Deleted, IdParams, SignedDocumentBody, TipList } from '../../schema/wire.js';
import { loadDirectoryBody } from '../directory.js';
import { AppError } from '../errors.js';
import { appendAudit, readAudit } from '../audit.js';
import { deleteTip, findTip, listTips, readChunk } from '../store/tips.js';
import { utcDay } from '../days.js';
import { errorResponses, type RoutePlugin } from '../context.js';

const DESK = { staff: ['desk'] } as const;

export const staffRoutes: RoutePlugin = async (app, { ctx }) => {
  const { db, config } = ctx;

  // The directory as the sources' listener serves it: the staff onion is all a desk reaches (fetch reads when its
  // key was listed from it, to explain tips sent before).
  app.get('/directory', { config: { staff: ['desk', 'auditor'] }, schema: { response: { 200: SignedDocumentBody, ...errorResponses } } }, async () => {
    const body = await loadDirectoryBody(db);
    if (body === undefined) throw new AppError('TIPLINE_ERR_NO_DIRECTORY', 'this tip line has not published a directory yet');
    return JSON.parse(body) as z.infer<typeof SignedDocumentBody>;
  });

  app.get('/tips', { config: DESK, schema: { response: { 200: TipList, ...errorResponses } } }, async () => ({ tips: await listTips(db) }));

  app.get(
    '/tips/:id',
    // The envelope goes out as application/octet-stream, streamed: no serialiser touches it.
    { config: DESK, schema: { params: IdParams, response: { 200: z.unknown().describe('the envelope (application/octet-stream)'), ...errorResponses } } },
    async (req, reply) => {
      const { id } = req.params;
      const tip = await findTip(db, id);
      if (!tip) throw new AppError('TIPLINE_ERR_TIP_UNKNOWN', 'no such tip');
      // Checked before the headers go out: a damaged tip is an error, not a silently truncated 200.
      if (tip.stored !== tip.chunk_count) throw new Error('stored tip is missing chunks');
      // One chunk in memory at a time, whatever the envelope's size.
      const count = tip.chunk_count;
      async function* chunks() {
        for (let i = 0; i < count; i++) {
          const data = await readChunk(db, id, i);
          if (!data) throw new Error(`tip ${id} is missing chunk ${i}`);
          yield data;
        }
      }
      reply.header('content-type', 'application/octet-stream').header('content-length', String(tip.size));
      return reply.send(Readable.from(chunks()));
    },
  );

  app.delete('/tips/:id', { config: DESK, schema: { params: IdParams, response: { 200: Deleted, ...errorResponses } } }, async (req) => {
    const { id } = req.params;
    const signer = req.staff;
    if (!signer) throw new Error('a staff route ran without its authentication');
    await db.transaction().execute(async (trx) => {
      if (!(await deleteTip(trx, id))) throw new AppError('TIPLINE_ERR_TIP_UNKNOWN', 'no such tip');
      await appendAudit(trx, utcDay(config.now()), 'staff-delete', { by: signer.name, tips: 1 });
    });
    return { deleted: id };
  });

  app.get('/audit', { config: { staff: ['desk', 'auditor'] }, schema: { response: { 200: AuditLog, ...errorResponses } } }, async () => ({ entries: await readAudit(db) }));
};
