// `tipline serve`: opens the database, publishes the directory if one is given, listens (sources on one port,
// staff on another: server/app.ts), runs retention.
import { chmodSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildServer } from './app.js';
import { canonicalStaffHost } from './staff-auth.js';
import { openDatabase } from './db.js';
import { lockDataDir } from './lock.js';
import { guardDirectory, loadDirectory, PIN_FILE, publishDirectory, readPinFile } from './directory.js';
import { scheduleRetention } from './retention.js';
import { publishDocumentsBeside } from './documents.js';
import { scheduleWalPass } from './wal.js';
import type { ServerConfig } from './config.js';
import { documentFingerprint, type SignedDocument } from '../crypto/signed.js';
import { displayFingerprint, sameFingerprint } from '../crypto/keys.js';
import { DirectoryRollbackError, FingerprintMismatchError } from '../crypto/errors.js';

export interface ServeOptions {
  host: string;
  /** The public listener: the sources' page, the directory, proof-of-work, uploads (the public onion). */
  port: number;
  /** The staff listener: /api/v1/staff only (the staff onion, with client authorisation). */
  staffPort: number;
  /** The staff address desks sign their requests for (the staff onion's hostname). Default: the staff
   * listener's own address, for development; required when --host is a wildcard. */
  staffHost?: string | undefined;
  dataDir: string;
  databaseUrl?: string | undefined;
  directoryFile?: string | undefined;
  /** Pins the newsroom's root: refuse to start with, or trust, a directory signed by another key. Required
   * with databaseUrl; with PGlite, the first root published is pinned in DATA/directory-pin.json. */
  rootFingerprint?: string | undefined;
  retentionIntervalMs?: number;
  /** How often PGlite's WAL is switched, so that commit times do not outlive it (server/wal.ts); 5 minutes. */
  walIntervalMs?: number;
  tuning?: Omit<ServerConfig, 'db'>;
  say: (line: string) => void;
}

export interface RunningServer {
  app: FastifyInstance;
  /** The database it uses (tests act on it as someone with database access would). */
  db: import('kysely').Kysely<import('../schema/db.js').Database>;
  url: string;
  staffApp: FastifyInstance;
  staffUrl: string;
  /** Drains: no new connections, requests in progress finish with their normal answers, then the database closes. */
  close(): Promise<void>;
  /** Cuts every connection at once (a drain that takes too long): requests cut short were not acknowledged, and
   * a source's client sends them again; what was committed stays committed. */
  forceClose(): void;
}

function readDirectoryFile(path: string): SignedDocument {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`cannot read the directory ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  try {
    const doc = JSON.parse(text) as SignedDocument;
    documentFingerprint(doc); // its shape, before anything relies on it
    return doc;
  } catch (err) {
    throw new Error(`${path} is not a signed directory (${(err as Error).message}): tipline keys init or keys renew writes one`);
  }
}

const WILDCARD = new Set(['0.0.0.0', '::', '']);

export async function serve(o: ServeOptions): Promise<RunningServer> {
  const dataDir = resolve(o.dataDir);
  // Checked before anything is opened: a mistake here is the operator's to fix, not a half-started server.
  let staffHost: string | undefined;
  try {
    staffHost = o.staffHost === undefined ? undefined : canonicalStaffHost(o.staffHost);
  } catch (err) {
    throw new RangeError(`--staff-host: ${(err as Error).message}; give the staff onion's hostname, e.g. --staff-host abcd…xyz.onion`);
  }
  if (staffHost === undefined && WILDCARD.has(o.host)) throw new RangeError(`listening on ${o.host || 'every address'}, the staff address cannot be guessed: give --staff-host (the staff onion's hostname)`);
  if (o.port !== 0 && o.port === o.staffPort) throw new RangeError(`the public and staff listeners need two ports, not ${o.port} twice`);
  // The root this server trusts comes from outside the database: the database alone would let whoever can
  // write to it choose the tip line's keys (SECURITY.md §Directory).
  if (o.databaseUrl && !o.rootFingerprint) {
    throw new Error('with DATABASE_URL, the root fingerprint must be pinned: serve --fingerprint "…" or TIPLINE_ROOT_FINGERPRINT (the one tipline keys init printed); the database alone cannot say which directory is the newsroom\'s');
  }
  const pinFile = o.databaseUrl ? undefined : join(dataDir, PIN_FILE);
  const fileDoc = o.directoryFile ? readDirectoryFile(o.directoryFile) : undefined;
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
  let pinned;
  try {
    pinned = pinFile ? readPinFile(pinFile) : undefined;
    if (pinned && o.rootFingerprint && !sameFingerprint(pinned.root, o.rootFingerprint)) {
      throw new Error(`--fingerprint ${displayFingerprint(o.rootFingerprint)} differs from the root pinned in ${pinFile} (${displayFingerprint(pinned.root)}): if the newsroom really has a new root, delete that file`);
    }
  } catch (err) {
    await opened.close();
    unlock();
    throw err;
  }
  // Pinned: --fingerprint, else the data folder's pin, else (first start of a PGlite folder) the root of the
  // directory file given, written to the pin file once it is published.
  const pin = o.rootFingerprint ?? pinned?.root ?? (fileDoc ? documentFingerprint(fileDoc) : undefined);
  guardDirectory(db, { pin, file: pinFile, highest: pinned?.highest });
  const serverConfig = { ...o.tuning, db, rootFingerprint: pin, afterCommit: opened.sync, dataDir: o.databaseUrl ? undefined : dataDir };
  let app: FastifyInstance, staffApp: FastifyInstance;
  try {
    app = await buildServer(serverConfig, 'public');
    staffApp = await buildServer(serverConfig, 'staff', staffHost ? { hosts: [staffHost] } : {}).catch(async (err: unknown) => {
      await app.close();
      throw err;
    });
  } catch (err) {
    await opened.close();
    unlock();
    throw err;
  }
  const now = () => (o.tuning?.now ?? (() => new Date()))();
  const publishFile = async (doc: SignedDocument, path: string) => {
    try {
      const p = await publishDirectory(db, doc, now(), pin);
      o.say(`directory: ${path}, serial ${p.directory.serial}`);
    } catch (err) {
      // An older file than the directory already published (a renewed one was published since): keep the newer.
      if (err instanceof FingerprintMismatchError && !o.rootFingerprint && pinned) {
        throw new Error(`${path}: ${err.message}; this data folder is pinned to that root (${pinFile}): if the newsroom really has a new root, delete that file`);
      }
      if (!(err instanceof DirectoryRollbackError)) throw new Error(`${path}: ${(err as Error).message}`);
      o.say(`warning: ${path} is not published: ${err.message}`);
    }
  };
  try {
    if (fileDoc) await publishFile(fileDoc, o.directoryFile!);
    // The policy, canary and client manifest beside the directory file: a bad one stops the start.
    if (o.directoryFile && pin) await publishDocumentsBeside(db, o.directoryFile, now(), pin, o.say);
    // A stored row that does not verify (another root, rolled back, expired) is reported and not used.
    const published = await loadDirectory(db, now(), pin).catch((err: Error) => {
      o.say(`warning: the stored directory is not used: ${err.message}`);
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
    for (const [a, port] of [[app, o.port], [staffApp, o.staffPort]] as const) {
      const level = a.log.level;
      a.log.level = 'warn';
      try {
        await a.listen({ host: o.host, port });
      } finally {
        a.log.level = level;
      }
    }
  } catch (err) {
    await app.close();
    await staffApp.close();
    await opened.close();
    unlock();
    throw err;
  }
  const urlOf = (a: FastifyInstance, fallback: number) => {
    const address = a.server.address();
    const port = typeof address === 'object' && address ? address.port : fallback;
    return `http://${o.host.includes(':') ? `[${o.host}]` : o.host}:${port}`;
  };
  const url = urlOf(app, o.port);
  const staffUrl = urlOf(staffApp, o.staffPort);
  o.say(`listening on ${url} (sources: the page, proof-of-work, uploads; the public onion points here)`);
  o.say(`staff API on ${staffUrl} (tipline fetch/delete --server; the staff onion points here)${staffHost ? `, signed for ${staffHost}` : ''}`);
  // SIGHUP re-reads the directory file and the documents beside it: a renewed directory is published without a restart
  // (systemctl kill -s HUP tipline). It is accepted only under the pin and with a higher serial.
  const onHup = () => {
    if (!o.directoryFile) return o.say('SIGHUP: no --directory file to read again');
    let doc: SignedDocument;
    try {
      doc = readDirectoryFile(o.directoryFile);
    } catch (err) {
      return o.say(`warning: ${(err as Error).message}`);
    }
    const file = o.directoryFile;
    publishFile(doc, file)
      .catch((err: Error) => o.say(`warning: the directory is not published: ${err.message}`))
      .then(() => (pin ? publishDocumentsBeside(db, file, now(), pin, o.say) : undefined))
      .catch((err: Error) => o.say(`warning: ${err.message}`));
  };
  process.on('SIGHUP', onHup);
  const stopRetention = scheduleRetention(db, now, o.retentionIntervalMs ?? 600_000, (err) => app.log.error({ err: { message: String((err as Error).message).slice(0, 200) } }, 'retention failed'));
  const stopWal = scheduleWalPass(opened.walPass, o.walIntervalMs ?? 300_000, (err) => app.log.error({ err: { message: String((err as Error).message).slice(0, 200) } }, 'WAL pass failed'));
  return {
    app,
    db,
    url,
    staffApp,
    staffUrl,
    async close() {
      process.off('SIGHUP', onHup);
      stopRetention();
      await stopWal();
      // Fastify stops accepting connections and closes the idle ones once; a keep-alive connection whose request
      // ends during the drain would otherwise stay open until its timeout and hold the exit back.
      const sweep = setInterval(() => {
        app.server.closeIdleConnections();
        staffApp.server.closeIdleConnections();
      }, 100);
      try {
        await Promise.all([app.close(), staffApp.close()]);
      } finally {
        clearInterval(sweep);
      }
      await opened.close();
      unlock();
    },
    forceClose() {
      app.server.closeAllConnections();
      staffApp.server.closeAllConnections();
    },
  };
}

export function defaultDirectoryFile(): string | undefined {
  return existsSync('keys/directory.json') ? 'keys/directory.json' : undefined;
}
