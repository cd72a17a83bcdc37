// Resumable chunked uploads of one envelope. Chunks may come in any order and again after a dropped circuit;
// finishing makes the tip visible atomically. A one-chunk tip takes three round trips: PoW, create, put+finish.
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { sql, type Kysely, type Transaction } from 'kysely';
import type { z } from 'zod';
import type { Database } from '../../schema/db.js';
import {
  ChunkAccepted, ChunkParams, ChunkQuery, CreateUploadRequest, Id, IdParams, Receipt, UploadCreated, UploadStatus, PutChunkResponse,
} from '../../schema/wire.js';
import { toBase32 } from '../../crypto/bytes.js';
import { checkFraming, MIN_ENVELOPE_LENGTH as MIN_ENVELOPE } from '../../crypto/envelope/index.js';
import { AppError } from '../errors.js';
import { redeemSolution } from '../pow.js';
import { addDays, expiryAfterHours, utcDay } from '../days.js';
import type { AppContext } from '../app.js';

interface UploadRow {
  id: string;
  size: number;
  chunk_size: number;
  chunk_count: number;
}

async function findUpload(db: Kysely<Database> | Transaction<Database>, id: string, now: Date, lock = false): Promise<UploadRow> {
  let q = db.selectFrom('uploads').select(['id', 'size', 'chunk_size', 'chunk_count']).where('id', '=', id).where('expires_at', '>', now);
  if (lock) q = q.forUpdate();
  const row = await q.executeTakeFirst();
  // One answer for "never existed", "expired" and "already finished": ids cannot be probed.
  if (!row) throw new AppError('TIPLINE_ERR_UPLOAD_UNKNOWN', 'no such upload in progress (unknown, expired or already finished)');
  return { ...row, size: Number(row.size) };
}

/** The receipt of an upload that already became a tip: finishing is repeatable, so a source whose 201 was
 * lost on a dropped circuit learns its tip is stored instead of sending it again. */
async function existingReceipt(db: Kysely<Database> | Transaction<Database>, id: string): Promise<z.infer<typeof Receipt> | undefined> {
  const tip = await db.selectFrom('tips').select(['id', 'size', sql<string>`received_day::text`.as('received_day')]).where('id', '=', id).executeTakeFirst();
  return tip && { tip_id: tip.id, size: Number(tip.size), received_day: tip.received_day };
}

function expectedChunkLength(u: UploadRow, n: number): number {
  return n < u.chunk_count - 1 ? u.chunk_size : u.size - u.chunk_size * (u.chunk_count - 1);
}

async function finishUpload(trx: Transaction<Database>, id: string, ctx: AppContext): Promise<z.infer<typeof Receipt>> {
  const now = ctx.config.now();
  const done = await existingReceipt(trx, id);
  if (done) return done;
  const u = await findUpload(trx, id, now, true);
  const have = await trx.selectFrom('blob_chunks').select('idx').where('blob_id', '=', id).orderBy('idx').execute();
  const got = new Set(have.map((r) => r.idx));
  const missing: number[] = [];
  for (let i = 0; i < u.chunk_count && missing.length < 20; i++) if (!got.has(i)) missing.push(i);
  if (missing.length > 0) throw new AppError('TIPLINE_ERR_UPLOAD_INCOMPLETE', `upload is missing chunks: ${missing.join(', ')}${missing.length === 20 ? ', …' : ''}`);
  const day = utcDay(now);
  await trx
    .insertInto('tips')
    .values({ id, size: u.size, chunk_size: u.chunk_size, chunk_count: u.chunk_count, received_day: day, expires_day: addDays(day, ctx.config.retentionDays) })
    .execute();
  await trx.deleteFrom('uploads').where('id', '=', id).execute();
  return { tip_id: id, size: u.size, received_day: day };
}

export async function uploadRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const { db, config } = ctx;
  let receiving = 0;

  app.post('/api/v1/uploads', { schema: { body: CreateUploadRequest, response: { 201: UploadCreated } }, bodyLimit: 4096 }, async (req, reply) => {
    const body = req.body as CreateUploadRequest;
    const now = config.now();
    if (body.size > config.maxEnvelopeBytes) throw new AppError('TIPLINE_ERR_ENVELOPE_TOO_LARGE', `envelope larger than ${config.maxEnvelopeBytes} bytes`);
    if (body.size < MIN_ENVELOPE) throw new AppError('TIPLINE_ERR_FRAMING', 'envelope size is smaller than any valid envelope');
    // A cap on what unfinished uploads may claim together, so a flooder who pays the PoW cannot fill the disk.
    const pending = await db.selectFrom('uploads').select(sql<string>`coalesce(sum(size), 0)`.as('bytes')).where('expires_at', '>', now).executeTakeFirstOrThrow();
    if (Number(pending.bytes) + body.size > config.maxPendingBytes) throw new AppError('TIPLINE_ERR_BUSY', 'the tip line is busy; try again in a while');
    await redeemSolution(db, ctx.powSecret, config.powDifficulty, body.pow, now);
    const id = toBase32(randomBytes(16));
    const chunkCount = Math.ceil(body.size / config.uploadChunkSize);
    await db
      .insertInto('uploads')
      .values({ id, size: body.size, chunk_size: config.uploadChunkSize, chunk_count: chunkCount, expires_at: expiryAfterHours(now, config.uploadTtlHours) })
      .execute();
    reply.code(201);
    return { id, chunk_size: config.uploadChunkSize, chunk_count: chunkCount, expires_in: config.uploadTtlHours * 3600 };
  });

  app.get('/api/v1/uploads/:id', { schema: { params: IdParams, response: { 200: UploadStatus } } }, async (req) => {
    const { id } = req.params as z.infer<typeof IdParams>;
    const u = await findUpload(db, id, config.now());
    const have = await db.selectFrom('blob_chunks').select('idx').where('blob_id', '=', id).orderBy('idx').execute();
    return { id, chunk_size: u.chunk_size, chunk_count: u.chunk_count, received: have.map((r) => r.idx) };
  });

  app.put(
    '/api/v1/uploads/:id/chunks/:n',
    {
      schema: { params: ChunkParams, querystring: ChunkQuery, response: { 200: ChunkAccepted, 201: Receipt } },
      // Buffered, so Fastify enforces this limit itself; the exact length is checked below.
      bodyLimit: config.uploadChunkSize,
      // Before a byte of the body is read: refuse unknown uploads and too many bodies in flight, so neither
      // costs the server a buffer.
      onRequest: async (req, reply) => {
        if (receiving >= config.maxConcurrentChunks) throw new AppError('TIPLINE_ERR_BUSY', 'the tip line is busy; send this chunk again in a moment');
        const id = (req.params as { id?: string }).id ?? '';
        if (!Id.safeParse(id).success) return; // the schema answers 400
        const open = await db.selectFrom('uploads').select('id').where('id', '=', id).where('expires_at', '>', config.now()).executeTakeFirst();
        if (!open && !(await existingReceipt(db, id))) throw new AppError('TIPLINE_ERR_UPLOAD_UNKNOWN', 'no such upload in progress (unknown, expired or already finished)');
        receiving++;
        // 'close' fires however the exchange ends: answered, aborted by the client, or timed out.
        reply.raw.once('close', () => receiving--);
      },
    },
    async (req, reply) => {
      const { id, n } = req.params as z.infer<typeof ChunkParams>;
      const { finish } = req.query as z.infer<typeof ChunkQuery>;
      if (!(req.body instanceof Uint8Array)) throw new AppError('TIPLINE_ERR_UNSUPPORTED_MEDIA_TYPE', 'chunks are sent as application/octet-stream');
      const data = req.body;
      const done = await existingReceipt(db, id);
      if (done) {
        if (finish !== '1') throw new AppError('TIPLINE_ERR_UPLOAD_UNKNOWN', 'no such upload in progress (unknown, expired or already finished)');
        reply.code(201);
        return done;
      }
      await db.transaction().execute(async (trx) => {
        // The row lock keeps a chunk from landing after a concurrent finish turned the upload into a tip.
        const u = await findUpload(trx, id, config.now(), true);
        if (n >= u.chunk_count) throw new AppError('TIPLINE_ERR_CHUNK_OUT_OF_RANGE', `chunk index ${n} is out of range (this upload has ${u.chunk_count} chunks)`);
        const want = expectedChunkLength(u, n);
        if (data.length !== want) throw new AppError('TIPLINE_ERR_CHUNK_SIZE', `chunk ${n} must be exactly ${want} bytes, got ${data.length}`);
        if (n === 0) {
          try {
            checkFraming(data, u.size);
          } catch (err) {
            throw new AppError('TIPLINE_ERR_FRAMING', `not a valid envelope: ${(err as Error).message}`);
          }
        }
        // Sending a chunk again after a dropped connection replaces it: the client cannot know whether it landed.
        await trx
          .insertInto('blob_chunks')
          .values({ blob_id: id, idx: n, data })
          .onConflict((oc) => oc.columns(['blob_id', 'idx']).doUpdateSet({ data: sql`excluded.data` }))
          .execute();
      });
      if (finish !== '1') return { received: n } satisfies z.infer<typeof PutChunkResponse>;
      // Committed separately: a chunk that arrived stays stored even if finishing finds others missing.
      const receipt = await db.transaction().execute((trx) => finishUpload(trx, id, ctx));
      await config.afterCommit();
      reply.code(201);
      return receipt;
    },
  );

  app.post('/api/v1/uploads/:id/finish', { schema: { params: IdParams, response: { 201: Receipt } } }, async (req, reply) => {
    const { id } = req.params as z.infer<typeof IdParams>;
    const receipt = await db.transaction().execute((trx) => finishUpload(trx, id, ctx));
    await config.afterCommit();
    reply.code(201);
    return receipt;
  });
}
