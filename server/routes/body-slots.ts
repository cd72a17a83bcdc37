// Slots for request bodies being received (chunks and openings): a total, a share per upload, and a minimum
// transfer rate. A flooder who opens connections and trickles bodies would otherwise hold every slot (and the
// buffers behind them) for as long as the server's request timeout; here a body that sends less than
// `minBytes` in any window of `windowMs` is cut off and its slot freed, and one upload can hold only its share.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../errors.js';

export interface BodySlotLimits {
  total: number;
  perUpload: number;
  minBytes: number;
  windowMs: number;
  retryAfter: () => number;
}

export interface BodySlots {
  /** Takes a slot for this request's body, or throws (503 when all are taken, 429 when the upload's share is).
   * Synchronous from check to increment: no await can let another request in between. */
  admit(req: FastifyRequest, reply: FastifyReply, upload: string): void;
  /** The body has been read (the handler runs): the rate watch stops; the slot is held until the answer is sent. */
  received(req: FastifyRequest): void;
  /** Bodies being received now (tests and the gauge). */
  inUse(): number;
}

export function bodySlots(l: BodySlotLimits): BodySlots {
  let total = 0;
  const perUpload = new Map<string, number>();
  const watches = new WeakMap<FastifyRequest, () => void>();
  return {
    admit(req, reply, upload) {
      if (total >= l.total) throw new AppError('TIPLINE_ERR_BUSY', 'the tip line is busy; send this again in a moment', l.retryAfter());
      const mine = perUpload.get(upload) ?? 0;
      if (mine >= l.perUpload) throw new AppError('TIPLINE_ERR_RATE_LIMITED', `at most ${l.perUpload} requests of one upload at a time; send this again in a moment`, l.retryAfter());
      total++;
      perUpload.set(upload, mine + 1);
      // The socket's byte counter, not a 'data' listener: listening would start the body flowing before Fastify's
      // parser is attached. Bytes of a pipelined request behind this one count as progress too: harmless.
      const socket = req.raw.socket;
      let seen = socket.bytesRead;
      const timer = setInterval(() => {
        const now = socket.bytesRead;
        if (now - seen < l.minBytes) {
          // Too slow to be worth a slot: the connection goes, and the slot with it ('close' below).
          socket.destroy();
          return;
        }
        seen = now;
      }, l.windowMs);
      timer.unref();
      const stop = () => clearInterval(timer);
      watches.set(req, stop);
      reply.raw.once('close', () => {
        stop();
        total--;
        const left = (perUpload.get(upload) ?? 1) - 1;
        if (left <= 0) perUpload.delete(upload);
        else perUpload.set(upload, left);
      });
    },
    received(req) {
      watches.get(req)?.();
    },
    inUse: () => total,
  };
}
