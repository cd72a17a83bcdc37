// A real Fastify server on a loopback port, with everything it logs captured for the privacy checks.
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../../server/app.js';
import type { ServerConfig } from '../../server/config.js';
import { signFor } from './fixtures.js';

export interface TestServer {
  app: FastifyInstance;
  url: string;
  logs(): string;
  close(): Promise<void>;
}

export async function startServer(config: ServerConfig): Promise<TestServer> {
  let captured = '';
  const logStream = new Writable({
    write(chunk, _enc, done) {
      captured += chunk.toString();
      done();
    },
  });
  const app = await buildServer({ powDifficulty: 4, ...config, logStream });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  signFor(`http://127.0.0.1:${port}`);
  return { app, url: `http://127.0.0.1:${port}`, logs: () => captured, close: () => app.close() };
}
