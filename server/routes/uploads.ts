// Resumable chunked uploads of one envelope. The request that opens an upload carries its first chunk, so a
// one-chunk tip takes three round trips on a new connection: connect, GET the challenge, one POST. Further
// chunks may come in any order and again after a dropped circuit; finishing makes the tip visible atomically.
import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  ChunkAccepted, ChunkParams, ChunkQuery, Id, IdParams, OpenUploadQuery, PowHeaders, POW_HEADERS, Receipt, UploadOpened, UploadStatus,
} from '../../schema/wire.js';
import { checkFraming, MIN_ENVELOPE_LENGTH as MIN_ENVELOPE } from '../../crypto/envelope/index.js';
import { AppError } from '../errors.js';
import { readChunk } from '../store/tips.js';
import { equalBytes } from '../../crypto/bytes.js';
import { loadDirectoryBody } from '../directory.js';
import { uploadIdFor, verifySolution, type VerifiedPow } from '../pow.js';
import { powRedeemed, redeemPow } from '../store/pow.js';
import {
  afterConcurrentFinish, existingReceipt, expectedChunkLength, findOpenUpload, finishUpload, insertUpload, pendingBytes, receivedChunks, requireOpenUpload, storeChunk, unknownUpload,
} from '../store/uploads.js';
import type { Db } from '../store/db.js';
import { addDays, expiryAfterHours, utcDay } from '../days.js';
import { errorResponses, type RoutePlugin } from '../context.js';

function checkChunk0(data: Uint8Array, size: number): void {
  try {
    checkFraming(data, size);
  } catch (err) {
    throw new AppError('TIPLINE_ERR_FRAMING', `not a valid envelope: ${(err as Error).message}`);
  }
}

function isOctetStream(req: FastifyRequest): boolean {
  return /^application\/octet-stream\s*(;|$)/i.test(req.headers['content-type'] ?? '');
}

export const uploadRoutes: RoutePlugin = async (app, { ctx }) => {
  const { db, config } = ctx;
  const chunkSize = config.uploadChunkSize;
  /** Finishing, dated once: the receipt's day and the expiry day must not straddle midnight. */
  const finishNow = (db: Db, id: string, now: Date) => {
    const day = utcDay(now);
    return finishUpload(db, id, now, day, addDays(day, config.retentionDays));
  };
  let receiving = 0;
  const opening = new WeakMap<FastifyRequest, { pow: VerifiedPow; id: string }>();

  /** Counts a body about to be read against the cap; 'close' fires however the exchange ends. */
  function admitBody(reply: FastifyReply): void {
    if (receiving >= config.maxConcurrentChunks) throw new AppError('TIPLINE_ERR_BUSY', 'the tip line is busy; send this chunk again in a moment');
    receiving++;
    reply.raw.once('close', () => receiving--);
  }

  app.post(
    '/api/v1/uploads',
    {
      schema: { querystring: OpenUploadQuery, headers: PowHeaders, response: { 201: UploadOpened, ...errorResponses } },
      bodyLimit: chunkSize,
      // Everything that can be decided from the request line and headers is decided before a byte of the body
      // is read: a flooder's junk costs neither a buffer nor a database write.
      onRequest: async (req, reply) => {
        const q = OpenUploadQuery.safeParse(req.query);
        if (!q.success) throw new AppError('TIPLINE_ERR_BAD_REQUEST', `invalid request: ${q.error.issues[0]?.message ?? 'size'}`);
        const { size, finish } = q.data;
        if (!isOctetStream(req)) throw new AppError('TIPLINE_ERR_UNSUPPORTED_MEDIA_TYPE', 'the first chunk is sent as application/octet-stream');
        if (size > config.maxEnvelopeBytes) throw new AppError('TIPLINE_ERR_ENVELOPE_TOO_LARGE', `envelope larger than ${config.maxEnvelopeBytes} bytes`);
        if (size < MIN_ENVELOPE) throw new AppError('TIPLINE_ERR_FRAMING', 'envelope size is smaller than any valid envelope');
        if (finish === '1' && size > chunkSize) throw new AppError('TIPLINE_ERR_UPLOAD_INCOMPLETE', `finish=1 needs the whole envelope in this request; it has more than one chunk of ${chunkSize} bytes`);
        const want = Math.min(size, chunkSize);
        const declared = Number(req.headers['content-length']);
        if (Number.isSafeInteger(declared) && declared > chunkSize) throw new AppError('TIPLINE_ERR_BODY_TOO_LARGE', 'request body too large');
        if (Number.isSafeInteger(declared) && declared !== want) throw new AppError('TIPLINE_ERR_CHUNK_SIZE', `chunk 0 must be exactly ${want} bytes, got ${declared}`);
        const h = PowHeaders.safeParse(req.headers);
        if (!h.success) throw new AppError('TIPLINE_ERR_BAD_REQUEST', `a solved proof-of-work is required (${POW_HEADERS.token}, ${POW_HEADERS.nonce} headers)`);
        const pow = await verifySolution(ctx.powSecret, config.powDifficulty, { token: h.data[POW_HEADERS.token], nonce: h.data[POW_HEADERS.nonce] }, config.now(), size);
        const id = uploadIdFor(ctx.powSecret, pow);
        // Nobody can encrypt to this tip line before its directory is out, and the audit chain that records
        // purges is bound to the directory's root: nothing is stored until then.
        if ((await loadDirectoryBody(db)) === undefined) throw new AppError('TIPLINE_ERR_NO_DIRECTORY', 'this tip line has not published a directory yet');
        if (await powRedeemed(db, pow)) {
          // Only the same request sent again (its answer lost) may go on; it finds its upload or tip below.
          const prior = (await findOpenUpload(db, id, config.now())) ?? (await existingReceipt(db, id));
          if (!prior || prior.size !== size) throw new AppError('TIPLINE_ERR_POW_REUSED', 'proof-of-work solution was already used');
        } else if ((await pendingBytes(db, config.now())) + size > config.maxPendingBytes) {
          // A cap on what unfinished uploads may claim together, so a flooder who pays the PoW cannot fill the disk.
          throw new AppError('TIPLINE_ERR_BUSY', 'the tip line is busy; try again in a while');
        }
        opening.set(req, { pow, id });
        admitBody(reply);
      },
    },
    async (req, reply) => {
      const { size, finish } = req.query;
      const { pow, id } = opening.get(req)!;
      if (!(req.body instanceof Uint8Array)) throw new AppError('TIPLINE_ERR_UNSUPPORTED_MEDIA_TYPE', 'the first chunk is sent as application/octet-stream');
      const data = req.body;
      const u = { id, size, chunk_size: chunkSize, chunk_count: Math.ceil(size / chunkSize) };
      const want = expectedChunkLength(u, 0);
      if (data.length !== want) throw new AppError('TIPLINE_ERR_CHUNK_SIZE', `chunk 0 must be exactly ${want} bytes, got ${data.length}`);
      checkChunk0(data, size);
      const now = config.now();
      const answer = await db.transaction().execute(async (trx) => {
        // The solution is spent in the same transaction that stores the chunk: all or nothing.
        let upload = u;
        if (await redeemPow(trx, pow)) {
          await insertUpload(trx, u, expiryAfterHours(now, config.uploadTtlHours));
        } else {
          // A repeat is the same request sent again: same size and the same first chunk, byte for byte. Every
          // short tip now has the same padded size, so the size alone would let another envelope claim the
          // first one's receipt.
          const reused = () => new AppError('TIPLINE_ERR_POW_REUSED', 'proof-of-work solution was already used');
          const stored = await readChunk(trx, id, 0);
          if (!stored || !equalBytes(stored, data)) throw reused();
          const done = await existingReceipt(trx, id);
          if (done && done.size === size && finish === '1') return done;
          const open = await findOpenUpload(trx, id, now, true);
          if (!open || open.size !== size || open.chunk_size !== chunkSize) throw reused();
          upload = open;
        }
        await storeChunk(trx, id, 0, data);
        if (finish === '1') return finishNow(trx, id, now);
        return { id, chunk_size: upload.chunk_size, chunk_count: upload.chunk_count, expires_in: config.uploadTtlHours * 3600 };
      });
      if (finish === '1') await config.afterCommit();
      return reply.code(201).send(answer);
    },
  );

  app.get('/api/v1/uploads/:id', { schema: { params: IdParams, response: { 200: UploadStatus, ...errorResponses } } }, async (req) => {
    const { id } = req.params;
    const u = await requireOpenUpload(db, id, config.now());
    return { id, chunk_size: u.chunk_size, chunk_count: u.chunk_count, received: await receivedChunks(db, id) };
  });

  app.put(
    '/api/v1/uploads/:id/chunks/:n',
    {
      schema: { params: ChunkParams, querystring: ChunkQuery, response: { 200: ChunkAccepted, 201: Receipt, ...errorResponses } },
      // Buffered, so Fastify enforces this limit itself; the exact length is checked below.
      bodyLimit: chunkSize,
      // Before a byte of the body is read: refuse unknown uploads and too many bodies in flight, so neither
      // costs the server a buffer.
      onRequest: async (req, reply) => {
        // Params are not validated yet at this stage. An id that is not one is refused here, not left to the
        // schema: that would run after the body was read, so junk ids would let bodies past the cap below.
        const id = Id.safeParse(req.params.id);
        if (!id.success) throw new AppError('TIPLINE_ERR_BAD_REQUEST', 'invalid request: id: expected a 26-character base32 id');
        if (!(await findOpenUpload(db, id.data, config.now())) && !(await existingReceipt(db, id.data))) throw unknownUpload();
        admitBody(reply);
      },
    },
    async (req, reply) => {
      const { id, n } = req.params;
      const { finish } = req.query;
      if (!(req.body instanceof Uint8Array)) throw new AppError('TIPLINE_ERR_UNSUPPORTED_MEDIA_TYPE', 'chunks are sent as application/octet-stream');
      const data = req.body;
      const done = await existingReceipt(db, id);
      if (done) {
        if (finish !== '1') throw unknownUpload();
        await config.afterCommit();
        return reply.code(201).send(done);
      }
      const finishedMeanwhile = await db.transaction().execute(async (trx) => {
        // The row lock keeps a chunk from landing after a concurrent finish turned the upload into a tip.
        const u = await findOpenUpload(trx, id, config.now(), true);
        if (!u) {
          if (finish !== '1') throw unknownUpload();
          return afterConcurrentFinish(trx, id);
        }
        if (n >= u.chunk_count) throw new AppError('TIPLINE_ERR_CHUNK_OUT_OF_RANGE', `chunk index ${n} is out of range (this upload has ${u.chunk_count} chunks)`);
        const want = expectedChunkLength(u, n);
        if (data.length !== want) throw new AppError('TIPLINE_ERR_CHUNK_SIZE', `chunk ${n} must be exactly ${want} bytes, got ${data.length}`);
        if (n === 0) checkChunk0(data, u.size);
        await storeChunk(trx, id, n, data);
        return undefined;
      });
      if (finishedMeanwhile) {
        // Another request committed the tip and may not have synced it yet: a 201 promises it is on disk.
        await config.afterCommit();
        return reply.code(201).send(finishedMeanwhile);
      }
      if (finish !== '1') return reply.code(200).send({ received: n });
      // Committed separately: a chunk that arrived stays stored even if finishing finds others missing.
      const receipt = await db.transaction().execute((trx) => finishNow(trx, id, config.now()));
      await config.afterCommit();
      return reply.code(201).send(receipt);
    },
  );

  app.post('/api/v1/uploads/:id/finish', { schema: { params: IdParams, response: { 201: Receipt, ...errorResponses } } }, async (req, reply) => {
    const { id } = req.params;
    const receipt = await db.transaction().execute((trx) => finishNow(trx, id, config.now()));
    await config.afterCommit();
    return reply.code(201).send(receipt);
  });
};
