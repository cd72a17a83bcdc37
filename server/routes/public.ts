// What anyone may fetch: signed documents, a proof-of-work challenge and a health check.
import type { FastifyInstance } from 'fastify';
import { Health, PowChallenge } from '../../schema/wire.js';
import { AppError } from '../errors.js';
import { issueChallenge } from '../pow.js';
import { loadDirectoryBody } from '../directory.js';
import type { AppContext } from '../app.js';

export async function publicRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const { db, config } = ctx;

  app.get('/.well-known/tipline/directory', async (_req, reply) => {
    const body = await loadDirectoryBody(db);
    if (body === undefined) throw new AppError('TIPLINE_ERR_NO_DIRECTORY', 'this tip line has not published a directory yet');
    return reply.type('application/json; charset=utf-8').send(body);
  });

  app.get('/api/v1/pow', { schema: { response: { 200: PowChallenge } } }, async () => ({
    ...issueChallenge(ctx.powSecret, config.powDifficulty, config.now()),
    chunk_size: config.uploadChunkSize,
  }));

  app.get('/api/v1/health', { schema: { response: { 200: Health } } }, async () => ({ ok: true, directory: (await loadDirectoryBody(db)) !== undefined }));
}
