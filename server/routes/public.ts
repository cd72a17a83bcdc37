// What anyone may fetch: signed documents, a proof-of-work challenge, a health check and the page.
import type { FastifyInstance } from 'fastify';
import { Health, PowChallenge } from '../../schema/wire.js';
import { AppError } from '../errors.js';
import { issueChallenge } from '../pow.js';
import { loadDirectoryBody } from '../directory.js';
import type { AppContext } from '../app.js';

const PLACEHOLDER_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Tipline</title></head>
<body><main><h1>Tipline</h1>
<p>This tip line accepts encrypted tips. The in-browser form is not installed on this server yet; use the
command-line client, through Tor: <code>tipline submit --server URL --fingerprint FINGERPRINT --socks 127.0.0.1:9050 &lt; message.txt</code>.</p>
<p>Compare the fingerprint with the one the newsroom publishes elsewhere before you send anything.</p></main></body></html>
`;

export async function publicRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const { db, config } = ctx;

  app.get('/.well-known/tipline/directory', async (_req, reply) => {
    const body = await loadDirectoryBody(db);
    if (body === undefined) throw new AppError('TIPLINE_ERR_NO_DIRECTORY', 'this tip line has not published a directory yet');
    return reply.type('application/json; charset=utf-8').send(body);
  });

  app.get('/api/v1/pow', { schema: { response: { 200: PowChallenge } } }, async () => issueChallenge(ctx.powSecret, config.powDifficulty, config.now()));

  app.get('/api/v1/health', { schema: { response: { 200: Health } } }, async () => ({ ok: true, directory: (await loadDirectoryBody(db)) !== undefined }));

  app.get('/', async (_req, reply) => reply.type('text/html; charset=utf-8').send(PLACEHOLDER_PAGE));
}
