// A desk posts a reply: sealed to the source's reply key and tagged on the desk's own machine (tipline reply),
// so the server receives only what it stores. The request is signed over its raw body and content type
// (server/staff-auth.ts). No audit entry: it would record only that a desk replied on that day, which the
// newsroom has no need to prove and a seizure could use to date a conversation.
import { MAX_LIVE_REPLIES, ReplyPost, ReplyPosted } from '../../schema/wire.js';
import { REPLY_ENVELOPE_LENGTH } from '../../crypto/reply.js';
import { REPLY_TAG_BYTES } from '../../crypto/reply-tags.js';
import { checkFraming } from '../../crypto/envelope/index.js';
import { AppError } from '../errors.js';
import { canonicalBase64 } from '../canonical-base64.js';
import { addDays, utcDay } from '../days.js';
import { insertReply, replyListChanged } from '../store/replies.js';
import { exactBase64Url } from './replies.js';
import { errorResponses, type RoutePlugin } from '../context.js';

/** Standard base64 of one reply envelope, with JSON's quotes and the other fields: a little over 87.6 KB. */
export const REPLY_POST_BODY_LIMIT = 96 * 1024;
/** Replies free space only as they are read and deleted or expire (the retention pass runs every ten minutes). */
const FULL_RETRY_S = 600;

const malformed = (what: string) => new AppError('TIPLINE_ERR_REPLY_MALFORMED', what);

function envelopeOf(b64: string): Uint8Array {
  const bytes = canonicalBase64(b64, malformed);
  // Threat: a reply longer than the others would stand out in every fetch that carries it.
  if (bytes.length !== REPLY_ENVELOPE_LENGTH) throw malformed(`envelope: a reply is exactly ${REPLY_ENVELOPE_LENGTH} bytes, got ${bytes.length}`);
  let stanzas: number;
  try {
    stanzas = checkFraming(bytes, bytes.length).stanzaCount;
  } catch (err) {
    throw malformed(`envelope: not a valid envelope: ${(err as Error).message}`);
  }
  // A reply is sealed to the source's reply key alone; a second stanza would be a key the source did not give.
  if (stanzas !== 1) throw malformed(`envelope: a reply is sealed to exactly one key, this one to ${stanzas}`);
  return bytes;
}

export const staffReplyRoutes: RoutePlugin = async (app, { ctx }) => {
  const { db, config } = ctx;

  app.post(
    '/replies',
    { config: { staff: ['desk'] }, bodyLimit: REPLY_POST_BODY_LIMIT, schema: { body: ReplyPost, response: { 201: ReplyPosted, ...errorResponses } } },
    async (req, reply) => {
      const tag = exactBase64Url(req.body.tag, REPLY_TAG_BYTES, 'tag', 'TIPLINE_ERR_REPLY_MALFORMED');
      const deleteHash = exactBase64Url(req.body.delete_hash, 32, 'delete_hash', 'TIPLINE_ERR_REPLY_MALFORMED');
      const envelope = envelopeOf(req.body.envelope);
      // Dated once: the posted day and the expiry must not straddle midnight. The tips' retention.
      const postedDay = utcDay(config.now());
      const expiresDay = addDays(postedDay, config.replyRetentionDays);
      const outcome = await db.transaction().execute((trx) =>
        insertReply(trx, { tag, delete_hash: deleteHash, envelope, posted_day: postedDay, expires_day: expiresDay }, postedDay, MAX_LIVE_REPLIES),
      );
      if (outcome === 'exists') throw new AppError('TIPLINE_ERR_REPLY_EXISTS', 'a reply with this tag is already stored; make a new tag');
      if (outcome === 'full') throw new AppError('TIPLINE_ERR_BUSY', `the tip line holds ${MAX_LIVE_REPLIES} replies, its most; try again once sources have read theirs`, FULL_RETRY_S);
      replyListChanged(db);
      await config.afterCommit();
      return reply.code(201).send({ posted_day: postedDay, expires_day: expiresDay });
    },
  );
};
