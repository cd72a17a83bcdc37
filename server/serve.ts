// `tipline serve`: opens the database, publishes the directory if one is given, listens, runs retention.
import { chmodSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildServer } from './app.js';
import { openDatabase } from './db.js';
import { lockDataDir } from './lock.js';
import { loadDirectory, publishDirectory } from './directory.js';
import { scheduleRetention } from './retention.js';
import type { ServerConfig } from './config.js';
import type { SignedDocument } from '../crypto/signed.js';

export interface ServeOptions {
  host: string;
  port: number;
  dataDir: string;
  databaseUrl?: string | undefined;
  directoryFile?: string | undefined;
  /** Pins the newsroom's root: refuse to start with, or trust, a directory signed by another key. */
  rootFingerprint?: string | undefined;
  retentionIntervalMs?: number;
  tuning?: Omit<ServerConfig, 'db'>;
  say: (line: string) => void;
}

export interface RunningServer {
  app: FastifyInstance;
  url: string;
  close(): Promise<void>;
}

export async function serve(o: ServeOptions): Promise<RunningServer> {
  const dataDir = resolve(o.dataDir);
  let unlock = () => {};
  // What this process creates is for its own user only. PGlite sets its files' modes itself (0666/0755,
  // whatever the umask), so the data folder is the wall: 0700 even when it existed with wider rights, or
  // another account on the machine could read the ciphertext and the WAL's commit records.
  process.umask(0o077);
  if (!o.databaseUrl) {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    chmodSync(dataDir, 0o700);
    unlock = lockDataDir(dataDir);
  }
  let opened;
  try {
    opened = await openDatabase({ url: o.databaseUrl, dataDir: o.databaseUrl ? undefined : `${dataDir}/pg` });
  } catch (err) {
    unlock();
    throw err;
  }
  const { db } = opened;
  const app = await buildServer({ ...o.tuning, db, rootFingerprint: o.rootFingerprint, afterCommit: opened.sync, dataDir: o.databaseUrl ? undefined : dataDir });
  const now = () => (o.tuning?.now ?? (() => new Date()))();
  try {
    if (o.directoryFile) {
      const doc = JSON.parse(readFileSync(o.directoryFile, 'utf8')) as SignedDocument;
      await publishDirectory(db, doc, now(), o.rootFingerprint);
    }
    const published = await loadDirectory(db, now(), o.rootFingerprint).catch((err: Error) => {
      o.say(`warning: the stored directory does not verify: ${err.message}`);
      return undefined;
    });
    if (published) {
      o.say(`root fingerprint: ${published.fingerprint}`);
      o.say(`desks: ${published.directory.recipients.filter((r) => r.role === 'desk').map((r) => r.name).join(', ')} (directory expires ${published.directory.expires})`);
    } else {
      o.say('no directory published yet: tips cannot be submitted. Make keys with');
      o.say('  npx tipline keys init --dir keys');
      o.say('and restart with `npm start -- --directory keys/directory.json` (keys/directory.json is picked up by default).');
    }
    o.say(opened.kind === 'pglite' ? `database: embedded PGlite in ${dataDir}/pg (development only; use DATABASE_URL for production)` : 'database: PostgreSQL (DATABASE_URL)');
    // Fastify announces the address itself at info level; serve says it once, below, with the URL to open.
    const level = app.log.level;
    app.log.level = 'warn';
    try {
      await app.listen({ host: o.host, port: o.port });
    } finally {
      app.log.level = level;
    }
  } catch (err) {
    await app.close();
    await opened.close();
    unlock();
    throw err;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : o.port;
  const url = `http://${o.host.includes(':') ? `[${o.host}]` : o.host}:${port}`;
  o.say(`listening on ${url}`);
  const stopRetention = scheduleRetention(db, now, o.retentionIntervalMs ?? 600_000, (err) => app.log.error({ err: { message: String((err as Error).message).slice(0, 200) } }, 'retention failed'));
  return {
    app,
    url,
    async close() {
      stopRetention();
      await app.close();
      await opened.close();
      unlock();
    },
  };
}

export function defaultDirectoryFile(): string | undefined {
  return existsSync('keys/directory.json') ? 'keys/directory.json' : undefined;
}
