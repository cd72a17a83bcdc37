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
  afterConcurrentFinish, blobOf, chargeQuota, existingReceipt, expectedChunkLength, findOpenUpload, finishUpload, insertUpload, newBlobId, noteReceived,
  pendingFull, quotaState, receivedChunks, requireOpenUpload, storageFull, storeChunk, unknownUpload,
} from '../store/uploads.js';
import type { Db } from '../store/db.js';
import { addDays, expiryAfterHours, expiryAfterMinutes, utcDay } from '../days.js';
import { errorResponses, type RoutePlugin } from '../context.js';
import { bodySlots } from './body-slots.js';

/** How long a client refused for a full quota should wait: uploads in progress free space in minutes (they
 * finish or go idle); stored tips only as the retention pass deletes them (every ten minutes). */
const PENDING_RETRY_S = 60;
const STORED_RETRY_S = 600;

function checkChunk0(data: Uint8Array, size: number): void {
  try {
    checkFraming(data, size);
  } catch (err) {
    throw new AppError('TIPLINE_ERR_FRAMING', `not a valid envelope: ${(err as Error).message}`);
  }
}

/** A request refused before its body is read closes its connection: Node would otherwise read (and discard) the
 * body the client goes on sending, so a trickler refused at once would still hold a connection for minutes. */
function closeOnRefusal(hook: (req: FastifyRequest<any>, reply: FastifyReply) => Promise<void>) {
  return async (req: FastifyRequest<any>, reply: FastifyReply): Promise<void> => {
    try {
      await hook(req, reply);
    } catch (err) {
      reply.header('connection', 'close');
      throw err;
    }
  };
}

function isOctetStream(req: FastifyRequest): boolean {
  return /^application\/octet-stream\s*(;|$)/i.test(req.headers['content-type'] ?? '');
}

export const uploadRoutes: RoutePlugin = async (app, { ctx }) => {
  const { db, config, load } = ctx;
  const chunkSize = config.uploadChunkSize;
  /** Finishing, dated once: the receipt's day and the expiry day must not straddle midnight. */
  const finishNow = (db: Db, id: string, now: Date) => {
    const day = utcDay(now);
    return finishUpload(db, id, now, day, addDays(day, config.retentionDays), { maxStored: config.maxStoredBytes, retryAfter: STORED_RETRY_S });
  };
  const idleExpiry = (now: Date) => expiryAfterMinutes(now, config.uploadIdleMinutes);
  const slots = bodySlots({
    total: config.maxConcurrentChunks,
    perUpload: config.maxConcurrentChunksPerUpload,
    minBytes: config.minBodyBytesPerWindow,
    windowMs: config.bodyRateWindowSeconds * 1000,
    retryAfter: () => load.retryAfterSeconds(),
  });
  const opening = new WeakMap<FastifyRequest, { pow: VerifiedPow; id: string }>();

  /** Refuses work before anything breaks: new uploads under any pressure, chunks only under hard pressure (an
   * upload under way is worth more than a new one). */
  function checkLoad(what: 'open' | 'chunk'): void {
    const p = load.pressure();
    if (p === 'hard' || (p === 'soft' && what === 'open')) {
      throw new AppError('TIPLINE_ERR_BUSY', 'the tip line is overloaded; try again in a moment', load.retryAfterSeconds());
    }
  }

  /** A cheap look at the quota before a body is read (the charge itself is atomic, in the transaction). */
  async function checkQuota(pending: number, claimed: number): Promise<void> {
    const q = await quotaState(db);
    if (q.pending + pending > config.maxPendingBytes) throw pendingFull(PENDING_RETRY_S);
    if (q.stored + claimed > config.maxStoredBytes) throw storageFull(STORED_RETRY_S);
  }

  app.post(
    '/api/v1/uploads',
    {
      schema: { querystring: OpenUploadQuery, headers: PowHeaders, response: { 201: UploadOpened, ...errorResponses } },
      bodyLimit: chunkSize,
      // Everything that can be decided from the request line and headers is decided before a byte of the body
      // is read: a flooder's junk costs neither a buffer nor a database write.
      onRequest: closeOnRefusal(async (req, reply) => {
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
          const prior = (await findOpenUpload(db, id, config.now())) ?? (await existingReceipt(db, id, config.now()));
          if (!prior || prior.size !== size) throw new AppError('TIPLINE_ERR_POW_REUSED', 'proof-of-work solution was already used');
        } else {
          checkLoad('open');
          // Charged on bytes received (this chunk), never on the size claimed: claims cost nothing to make.
          await checkQuota(want, size);
        }
        opening.set(req, { pow, id });
        slots.admit(req, reply, id);
      }),
    },
    async (req, reply) => {
      slots.received(req);
      const { size, finish } = req.query;
      const { pow, id } = opening.get(req)!;
      if (!(req.body instanceof Uint8Array)) throw new AppError('TIPLINE_ERR_UNSUPPORTED_MEDIA_TYPE', 'the first chunk is sent as application/octet-stream');
      const data = req.body;
      const u = { id, size, chunk_size: chunkSize, chunk_count: Math.ceil(size / chunkSize) };
      const want = expectedChunkLength(u, 0);
      if (data.length !== want) throw new AppError('TIPLINE_ERR_CHUNK_SIZE', `chunk 0 must be exactly ${want} bytes, got ${data.length}`);
      checkChunk0(data, size);
      const now = config.now();
      let fresh = false;
      const answer = await db.transaction().execute(async (trx) => {
        // The solution is spent in the same transaction that stores the chunk: all or nothing.
        let upload = u;
        if (await redeemPow(trx, pow)) {
          fresh = true;
          const blob = newBlobId();
          await insertUpload(trx, { ...u, blob_id: blob }, idleExpiry(now), expiryAfterHours(now, config.uploadTtlHours));
          await storeChunk(trx, blob, 0, data);
          await noteReceived(trx, id, data.length, idleExpiry(now));
          // Last but for finishing (whose rows are this transaction's own): the charge holds the counter row until
          // commit. Refused, everything above rolls back (the solution included: it may be sent again later).
          if (!(await chargeQuota(trx, { pending: data.length, maxPending: config.maxPendingBytes, fitsStored: size, maxStored: config.maxStoredBytes }))) {
            const q = await quotaState(trx);
            throw q.pending + data.length > config.maxPendingBytes ? pendingFull(PENDING_RETRY_S) : storageFull(STORED_RETRY_S);
          }
          if (finish === '1') return finishNow(trx, id, now);
        } else {
          // A repeat is the same request sent again: same size and the same first chunk, byte for byte. Every
          // short tip now has the same padded size, so the size alone would let another envelope claim the
          // first one's receipt.
          const reused = () => new AppError('TIPLINE_ERR_POW_REUSED', 'proof-of-work solution was already used');
          const blob = await blobOf(trx, id, now);
          const stored = blob === undefined ? undefined : await readChunk(trx, blob, 0);
          if (!stored || !equalBytes(stored, data)) throw reused();
          const done = await existingReceipt(trx, id, now);
          if (done && done.size === size && finish === '1') return done;
          const open = await findOpenUpload(trx, id, now, true);
          if (!open || open.size !== size || open.chunk_size !== chunkSize) throw reused();
          upload = { ...u, chunk_count: open.chunk_count };
          if (finish === '1') return finishNow(trx, id, now);
        }
        return { id, chunk_size: upload.chunk_size, chunk_count: upload.chunk_count, expires_in: config.uploadIdleMinutes * 60 };
      });
      if (fresh) load.noteOpen();
      if (finish === '1') await config.afterCommit();
      return reply.code(201).send(answer);
    },
  );

  app.get('/api/v1/uploads/:id', { schema: { params: IdParams, response: { 200: UploadStatus, ...errorResponses } } }, async (req) => {
    const { id } = req.params;
    const u = await requireOpenUpload(db, id, config.now());
    return { id, chunk_size: u.chunk_size, chunk_count: u.chunk_count, received: await receivedChunks(db, u.blob_id) };
  });

  app.put(
    '/api/v1/uploads/:id/chunks/:n',
    {
      schema: { params: ChunkParams, querystring: ChunkQuery, response: { 200: ChunkAccepted, 201: Receipt, ...errorResponses } },
      // Buffered, so Fastify enforces this limit itself; the exact length is checked below.
      bodyLimit: chunkSize,
      // Before a byte of the body is read: refuse unknown uploads, too many bodies in flight and a full quota,
      // so none of them costs the server a buffer.
      onRequest: closeOnRefusal(async (req, reply) => {
        // Params are not validated yet at this stage. An id that is not one is refused here, not left to the
        // schema: that would run after the body was read, so junk ids would let bodies past the cap below.
        const id = Id.safeParse((req.params as { id?: unknown }).id);
        if (!id.success) throw new AppError('TIPLINE_ERR_BAD_REQUEST', 'invalid request: id: expected a 26-character base32 id');
        const now = config.now();
        if (await findOpenUpload(db, id.data, now)) {
          checkLoad('chunk');
          // The chunk's index is not validated yet: refuse here only when the quota is already full.
          await checkQuota(1, 0);
        } else if (!(await existingReceipt(db, id.data, now))) throw unknownUpload();
        slots.admit(req, reply, id.data);
      }),
    },
    async (req, reply) => {
      slots.received(req);
      const { id, n } = req.params;
      const { finish } = req.query;
      if (!(req.body instanceof Uint8Array)) throw new AppError('TIPLINE_ERR_UNSUPPORTED_MEDIA_TYPE', 'chunks are sent as application/octet-stream');
      const data = req.body;
      const done = await existingReceipt(db, id, config.now());
      if (done) {
        if (finish !== '1') throw unknownUpload();
        await config.afterCommit();
        return reply.code(201).send(done);
      }
      const finishedMeanwhile = await db.transaction().execute(async (trx) => {
        const now = config.now();
        // The row lock keeps a chunk from landing after a concurrent finish turned the upload into a tip.
        const u = await findOpenUpload(trx, id, now, true);
        if (!u) {
          if (finish !== '1') throw unknownUpload();
          return afterConcurrentFinish(trx, id, now);
        }
        if (n >= u.chunk_count) throw new AppError('TIPLINE_ERR_CHUNK_OUT_OF_RANGE', `chunk index ${n} is out of range (this upload has ${u.chunk_count} chunks)`);
        const want = expectedChunkLength(u, n);
        if (data.length !== want) throw new AppError('TIPLINE_ERR_CHUNK_SIZE', `chunk ${n} must be exactly ${want} bytes, got ${data.length}`);
        if (n === 0) checkChunk0(data, u.size);
        const isNew = await storeChunk(trx, u.blob_id, n, data);
        // Only new bytes are charged and keep the upload alive (a resend replaces): re-sending a stored chunk
        // must not hold an upload's quota for a day.
        if (isNew) await noteReceived(trx, id, data.length, idleExpiry(now));
        if (isNew && !(await chargeQuota(trx, { pending: data.length, maxPending: config.maxPendingBytes }))) throw pendingFull(PENDING_RETRY_S);
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
