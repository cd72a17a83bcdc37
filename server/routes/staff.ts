// The newsroom's API. Each route declares the roles it admits (`config.staff`); server/staff-auth.ts checks the
// request's signature before the handler runs and refuses to register a route here that declares none.
import { Readable } from 'node:stream';
import { z } from 'zod';
import { AuditLog, DeleteTipBody, Deleted, IdParams, SignedDocumentBody, TipList } from '../../schema/wire.js';
import { deletionHostHash, verifyDeletionStatement, STAFF_DELETE_KIND, type DeletionStatement } from '../../crypto/deletion-statement.js';
import { STAFF_CLOCK_SKEW_SECONDS } from '../../crypto/staff-request.js';
import { TiplineCryptoError } from '../../crypto/errors.js';
import { loadDirectoryBody } from '../directory.js';
import { AppError } from '../errors.js';
import { appendAudit, deletionNonceUsed, readAudit } from '../audit.js';
import { latestSignedHead } from '../audit-head.js';
import { staffSignedHost } from '../staff-auth.js';
import { deleteTip, findTip, listTips, readChunk } from '../store/tips.js';
import { utcDay } from '../days.js';
import { errorResponses, type RoutePlugin } from '../context.js';

const DESK = { staff: ['desk'] } as const;
const DESK_OR_AUDITOR = { staff: ['desk', 'auditor'] } as const;

const UPDATE =
  'a deletion must carry a deletion statement signed by your desk key (recorded in the audit chain, so no one else can write a deletion in your name): update tipline, then delete again';

export const staffRoutes: RoutePlugin = async (app, { ctx }) => {
  const { db, config } = ctx;

  // The directory as the sources' listener serves it: the staff onion is all a desk reaches (fetch reads when its
  // key was listed from it, to explain tips sent before).
  app.get('/directory', { config: { staff: ['desk', 'auditor'] }, schema: { response: { 200: SignedDocumentBody, ...errorResponses } } }, async () => {
    const body = await loadDirectoryBody(db);
    if (body === undefined) throw new AppError('TIPLINE_ERR_NO_DIRECTORY', 'this tip line has not published a directory yet');
    return JSON.parse(body) as z.infer<typeof SignedDocumentBody>;
  });

  // Auditors too: metadata only (id, size, received and expiry day), so retention can be checked against what is
  // stored; never the envelope (GET /tips/:id stays the desk's).
  app.get('/tips', { config: DESK_OR_AUDITOR, schema: { response: { 200: TipList, ...errorResponses } } }, async () => ({ tips: await listTips(db) }));

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
    const statement = deletionStatement(req.body, signer.sign_key, signer.name, staffSignedHost(req), config.now());
    await db.transaction().execute(async (trx) => {
      if (!(await deleteTip(trx, id))) throw new AppError('TIPLINE_ERR_TIP_UNKNOWN', 'no such tip');
      if (await deletionNonceUsed(trx, statement.nonce)) throw new AppError('TIPLINE_ERR_DELETION_STATEMENT', 'this deletion statement was already used: each deletion signs a new one');
      // The statement itself is the entry's detail: its signature stays checkable by anyone reading the chain.
      await appendAudit(trx, utcDay(config.now()), STAFF_DELETE_KIND, { ...statement });
    });
    return { deleted: id };
  });

  app.get('/audit', { config: DESK_OR_AUDITOR, schema: { response: { 200: AuditLog, ...errorResponses } } }, async () => {
    const entries = await readAudit(db);
    return { entries, head: (await latestSignedHead(db)) ?? null };
  });
};

/**
 * The deletion statement a DELETE carries, checked: signed by the key that signed the request, naming the desk
 * the directory lists for that key, made for the staff address the request was signed for, on the server's UTC
 * day (or the day of any moment within the staff clock skew, for a desk deleting at midnight). A request without
 * one comes from a tipline that predates statements: it is told to update.
 */
function deletionStatement(body: unknown, signKey: string, name: string, host: string | undefined, now: Date): DeletionStatement {
  if (body === undefined || body === null || (typeof body === 'object' && !('statement' in body))) throw new AppError('TIPLINE_ERR_DELETION_STATEMENT', UPDATE);
  const parsed = DeleteTipBody.safeParse(body);
  if (!parsed.success) throw new AppError('TIPLINE_ERR_DELETION_STATEMENT', 'malformed deletion statement: expected {statement: {by, day, host_hash, key, nonce, signature, tips: 1}}');
  let st: DeletionStatement;
  try {
    st = verifyDeletionStatement(parsed.data.statement, signKey);
  } catch (e) {
    if (e instanceof TiplineCryptoError) throw new AppError('TIPLINE_ERR_DELETION_STATEMENT', e.message);
    throw e;
  }
  if (st.by !== name) throw new AppError('TIPLINE_ERR_DELETION_STATEMENT', `the deletion statement names another desk than the directory lists for this key ("${name}")`);
  if (host === undefined || st.host_hash !== deletionHostHash(host)) throw new AppError('TIPLINE_ERR_DELETION_STATEMENT', 'the deletion statement was made for another staff address than the request');
  const skew = STAFF_CLOCK_SKEW_SECONDS * 1000;
  const days = new Set([utcDay(new Date(now.getTime() - skew)), utcDay(now), utcDay(new Date(now.getTime() + skew))]);
  if (!days.has(st.day)) throw new AppError('TIPLINE_ERR_DELETION_STATEMENT', `the deletion statement is dated ${st.day}, but today is ${utcDay(now)} (UTC) on this server`);
  return st;
}
