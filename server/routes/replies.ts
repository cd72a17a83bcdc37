// What a source asks about replies (PROTOCOL.md §Replies): the list of every live tag, the envelopes of four
// tags of its choosing, and deleting one with the token found inside it. Nothing a source sends here names a
// tip or a mailbox, and nothing about the request is stored: the server answers everyone the same list, and a
// fetch always four slots of one size whatever it found (threat: an answer's size or shape telling an observer,
// or a log, which visitor has replies).
import { z } from 'zod';
import type { FastifyReply } from 'fastify';
import { REPLY_FETCH_SLOTS, REPLY_LIST_PATH, ReplyDeleted, ReplyDeleteRequest, ReplyFetchRequest, replySlotBytes } from '../../schema/wire.js';
import { REPLY_ENVELOPE_LENGTH, REPLY_DELETE_TOKEN_BYTES, deleteTokenMatches } from '../../crypto/reply.js';
import { REPLY_TAG_BYTES } from '../../crypto/reply-tags.js';
import { fromBase64Url, toBase64Url } from '../../crypto/bytes.js';
import { AppError, type ErrorCode } from '../errors.js';
import { appendAudit } from '../audit.js';
import { utcDay } from '../days.js';
import { cachedTagList, deleteReply, findEnvelopes, lockLiveReply, replyListChanged } from '../store/replies.js';
import { errorResponses, type RoutePlugin } from '../context.js';

/** The JSON bodies here are a few hundred bytes: anything near this is not a source's request. */
export const REPLY_JSON_BODY_LIMIT = 4 * 1024;
const SLOT = replySlotBytes(REPLY_ENVELOPE_LENGTH);
// What an empty slot carries after its 0x00 flag: copied like a found envelope, so both cost the same.
const NO_ENVELOPE = new Uint8Array(REPLY_ENVELOPE_LENGTH);

/** Decodes unpadded base64url of exactly `length` bytes that re-encodes to the same string (one spelling per
 * value: a tag sent two ways must not look like two tags), else the given 4xx. */
export function exactBase64Url(s: string, length: number, what: string, code: ErrorCode = 'TIPLINE_ERR_BAD_REQUEST'): Uint8Array {
  let bytes: Uint8Array | undefined;
  try {
    bytes = fromBase64Url(s);
  } catch {
    bytes = undefined;
  }
  if (!bytes || bytes.length !== length || toBase64Url(bytes) !== s) throw new AppError(code, `${what}: expected ${length} bytes in canonical unpadded base64url`);
  return bytes;
}

const octets = z.unknown().describe('application/octet-stream');

const BUSY_RETRY_S = 2;
/** At most this many fetch answers (262 KB each: about 67 MB) wait on sockets whose clients are not reading. */
const MAX_QUEUED_ANSWERS = 256;

export const replyRoutes: RoutePlugin = async (app, { ctx }) => {
  const { db, config } = ctx;
  let fetchesInFlight = 0;
  // Answers built and not yet handed to the kernel (a client that does not read), in all and per connection.
  // Threat: a client pipelining hundreds of fetches in one write and never reading made the server build every
  // 262 KB answer and queue it on the socket (about 70 MB held per connection for 68 KB sent, until it timed out).
  let answersQueued = 0;
  const socketsWithAnswer = new WeakSet<object>();

  // The whole list, the same bytes for every visitor on a given moment: the source finds its own tags in it on
  // its device (crypto/reply-tags.ts findOwnTags). At MAX_LIVE_REPLIES it is 1.6 MB.
  app.get(REPLY_LIST_PATH, { schema: { response: { 200: octets, ...errorResponses } } }, async (_req, reply) => {
    const now = config.now();
    const list = await cachedTagList(db, utcDay(now), performance.now());
    return reply.header('content-type', 'application/octet-stream').send(Buffer.from(list.buffer, list.byteOffset, list.byteLength));
  });

  app.post(
    `${REPLY_LIST_PATH}/fetch`,
    { bodyLimit: REPLY_JSON_BODY_LIMIT, schema: { body: ReplyFetchRequest, response: { 200: octets, ...errorResponses } } },
    async (req, reply) => {
      const tags = req.body.tags.map((t, i) => exactBase64Url(t, REPLY_TAG_BYTES, `tags[${i}]`));
      // Threat: a ~200-byte request that costs a query and a 262 KB answer is an amplifier; a flood of them must
      // queue at the door, not pile up in the database and in memory. A source's client retries after the wait.
      if (fetchesInFlight >= config.maxReplyFetches) throw new AppError('TIPLINE_ERR_BUSY', 'too many reply fetches at once; try again in a moment', BUSY_RETRY_S);
      const socket = req.raw.socket;
      if (socketsWithAnswer.has(socket) || answersQueued >= MAX_QUEUED_ANSWERS) throw new AppError('TIPLINE_ERR_BUSY', 'too many reply fetches waiting to be sent; try again in a moment', BUSY_RETRY_S);
      socketsWithAnswer.add(socket);
      answersQueued++;
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        socketsWithAnswer.delete(socket);
        answersQueued--;
        socket.removeListener('close', release);
      };
      // 'close' on the response: written out to the kernel, or the connection gone.
      reply.raw.once('close', release);
      socket.once('close', release);
      fetchesInFlight++;
      try {
        return await fetchSlots(tags, reply);
      } finally {
        fetchesInFlight--;
      }
    },
  );

  async function fetchSlots(tags: Uint8Array[], reply: FastifyReply) {
    // One query for the four, then four slots of one size, each filled by one copy: the answer's length and the
    // work done after the query do not depend on what was found.
    const found = await findEnvelopes(db, tags, utcDay(config.now()));
    const out = Buffer.alloc(REPLY_FETCH_SLOTS * SLOT);
    tags.forEach((tag, i) => {
      const envelope = found.get(Buffer.from(tag).toString('hex'));
      const usable = envelope !== undefined && envelope.length === REPLY_ENVELOPE_LENGTH;
      out[i * SLOT] = usable ? 1 : 0;
      out.set(usable ? envelope : NO_ENVELOPE, i * SLOT + 1);
    });
    return reply.header('content-type', 'application/octet-stream').send(out);
  }

  app.post(
    `${REPLY_LIST_PATH}/delete`,
    { bodyLimit: REPLY_JSON_BODY_LIMIT, schema: { body: ReplyDeleteRequest, response: { 200: ReplyDeleted, ...errorResponses } } },
    async (req) => {
      const tag = exactBase64Url(req.body.tag, REPLY_TAG_BYTES, 'tag');
      const token = exactBase64Url(req.body.token, REPLY_DELETE_TOKEN_BYTES, 'token');
      const now = config.now();
      const today = utcDay(now);
      await db.transaction().execute(async (trx) => {
        const stored = await lockLiveReply(trx, tag, today);
        if (!stored) throw new AppError('TIPLINE_ERR_REPLY_UNKNOWN', 'no such reply (unknown, expired or already deleted)');
        // Constant time (crypto/reply.ts): a wrong token learns nothing about the stored hash.
        if (!deleteTokenMatches(token, stored)) throw new AppError('TIPLINE_ERR_REPLY_FORBIDDEN', 'this token does not delete this reply');
        if (!(await deleteReply(trx, tag))) throw new AppError('TIPLINE_ERR_REPLY_UNKNOWN', 'no such reply (unknown, expired or already deleted)');
        // Counts and the day only: the tag would let whoever kept the list confirm which reply was read.
        await appendAudit(trx, today, 'reply-delete', { replies: 1 });
      });
      replyListChanged(db);
      await config.afterCommit();
      return { deleted: true as const };
    },
  );
};
