// What anyone may fetch: signed documents, a proof-of-work challenge and a health check.
import { Health, PowChallenge, PowQuery, SignedDocumentBody } from '../../schema/wire.js';
import { AppError } from '../errors.js';
import { issueChallenge } from '../pow.js';
import { loadDirectoryBody } from '../directory.js';
import { errorResponses, type RoutePlugin } from '../context.js';

export const publicRoutes: RoutePlugin = async (app, { ctx }) => {
  const { db, config } = ctx;

  app.get('/.well-known/tipline/directory', { schema: { response: { 200: SignedDocumentBody, ...errorResponses } } }, async () => {
    const body = await loadDirectoryBody(db);
    if (body === undefined) throw new AppError('TIPLINE_ERR_NO_DIRECTORY', 'this tip line has not published a directory yet');
    // Serialised through the schema, so only the document's own fields go out; the signature covers `payload`.
    return SignedDocumentBody.parse(JSON.parse(body));
  });

  // Priced by the size the upload will claim and by this process's load; answered from memory (one MAC).
  app.get('/api/v1/pow', { schema: { querystring: PowQuery, response: { 200: PowChallenge, ...errorResponses } } }, async (req) => {
    const { size } = req.query;
    if (size !== undefined && size > config.maxEnvelopeBytes) throw new AppError('TIPLINE_ERR_ENVELOPE_TOO_LARGE', `envelope larger than ${config.maxEnvelopeBytes} bytes`);
    return { ...issueChallenge(ctx.powSecret, config.powDifficulty, ctx.load.powExtraBits(), size, config.now()), chunk_size: config.uploadChunkSize };
  });

  app.get('/api/v1/health', { schema: { response: { 200: Health, ...errorResponses } } }, async () => ({ ok: true, directory: (await loadDirectoryBody(db)) !== undefined }));
};
