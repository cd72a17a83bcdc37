// A server child for the small-tips benchmark, so the load generator and the server do not share an event loop.
//   node dist/test/bench/tip-server.js tipline <pglite-data-dir | postgres-url>
//   node dist/test/bench/tip-server.js bare
// Prints `ready <url>` once listening; SIGTERM closes it (and the database) cleanly.
import { Writable } from 'node:stream';
import Fastify, { type FastifyInstance } from 'fastify';
import { buildServer } from '../../server/app.js';
import { openDatabase, type OpenedDatabase } from '../../server/db.js';
import { publishDirectory } from '../../server/directory.js';
import { makeNewsroom } from '../helpers/fixtures.js';

const [mode, where] = process.argv.slice(2);

// The real server logs one JSON line per request; keep the serialisation cost, drop the bytes.
const devNull = new Writable({ write: (_c, _e, done) => done() });

let app: FastifyInstance;
let opened: OpenedDatabase | undefined;
if (mode === 'tipline') {
  if (!where) throw new Error('tipline mode needs a PGlite folder or a postgres:// URL');
  opened = where.startsWith('postgres') ? await openDatabase({ url: where }) : await openDatabase({ dataDir: where });
  // Uploads are refused until a directory is published: any newsroom's will do for a load test.
  await publishDirectory(opened.db, makeNewsroom().doc, new Date());
  app = await buildServer({ db: opened.db, powDifficulty: 0, logStream: devNull }, 'public');
} else if (mode === 'bare') {
  app = Fastify({ logger: false });
  app.addContentTypeParser('application/octet-stream', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  app.post('/', async () => ({ ok: true }));
} else {
  throw new Error(`unknown mode ${mode}`);
}
await app.listen({ host: '127.0.0.1', port: 0 });
const addr = app.server.address();
const port = typeof addr === 'object' && addr ? addr.port : 0;
process.stdout.write(`ready http://127.0.0.1:${port}\n`);

process.once('SIGTERM', () => {
  void (async () => {
    await app.close();
    await opened?.close();
    process.exit(0);
  })();
});
