// Issue 7 items 4 and 5, performed: someone with write access to the database (1) swaps in another root's
// directory, (2) rolls the directory back to an older one of the same root that still lists a desk since
// removed. `tipline serve` (in-process, as the CLI runs it) pins the root outside the database and keeps the
// highest serial it accepted, so neither takes: the page shows no foreign fingerprint, a foreign or removed
// desk cannot list tips, the older directory is neither served nor published, and the server still starts.
import t from 'tap';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve, type RunningServer } from '../server/serve.js';
import { openDatabase } from '../server/db.js';
import { PIN_FILE, publishDirectory } from '../server/directory.js';
import { displayFingerprint } from '../crypto/keys.js';
import { generateDeskKey } from '../crypto/keys.js';
import { DirectoryRollbackError } from '../crypto/errors.js';
import { createPgDatabase, seedPglite } from './helpers/databases.js';
import { makeNewsroom, recipientOf, signFor, signNewsroomDirectory, staffHeaders } from './helpers/fixtures.js';
import type { DeskKeyPair } from '../crypto/keys.js';
import type { SignedDocument } from '../crypto/signed.js';

const work = mkdtempSync(join(tmpdir(), 'tipline-swap-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));

const newsroom = makeNewsroom();
const foreign = makeNewsroom();
const bob = { ...generateDeskKey(), name: 'bob' };
// Serial order: withBob (older) < withoutBob (bob removed).
const withBob = signNewsroomDirectory(newsroom, [recipientOf('desk-a', 'desk', newsroom.desk), recipientOf('bob', 'desk', bob)]);
const withoutBob = signNewsroomDirectory(newsroom, [recipientOf('desk-a', 'desk', newsroom.desk)]);
const file = (name: string, doc: SignedDocument) => {
  const p = join(work, name);
  writeFileSync(p, JSON.stringify(doc));
  return p;
};
const withBobFile = file('with-bob.json', withBob);
const withoutBobFile = file('without-bob.json', withoutBob);

async function start(dataDir: string, o: { directoryFile?: string; databaseUrl?: string; rootFingerprint?: string } = {}): Promise<{ server: RunningServer; said: string[] }> {
  const said: string[] = [];
  const server = await serve({ host: '127.0.0.1', port: 0, staffPort: 0, dataDir, ...o, tuning: { logLevel: 'silent', powDifficulty: 4 }, say: (l) => said.push(l) });
  signFor(server.staffUrl);
  return { server, said };
}

async function listStatus(url: string, desk: DeskKeyPair): Promise<number> {
  const path = '/api/v1/staff/tips';
  return (await fetch(url + path, { headers: staffHeaders(desk, 'GET', path) })).status;
}

async function page(url: string): Promise<string> {
  return (await fetch(`${url}/`)).text();
}

async function served(url: string): Promise<unknown> {
  const r = await fetch(`${url}/.well-known/tipline/directory`);
  return r.status === 200 ? r.json() : r.status;
}

/** Writes a directory row (and optionally the serial row) straight into a stopped server's PGlite database. */
async function tamper(dataDir: string, rows: Record<string, string>): Promise<void> {
  const db = await openDatabase({ dataDir: join(dataDir, 'pg') });
  for (const [kind, body] of Object.entries(rows)) await db.db.updateTable('documents').set({ body }).where('kind', '=', kind).execute();
  await db.close();
}

t.test('swap: another root\'s directory written into the database is never trusted (PGlite, no --fingerprint)', async (t) => {
  const dataDir = join(work, 'swap');
  await seedPglite(join(dataDir, 'pg'));
  let { server, said } = await start(dataDir, { directoryFile: withoutBobFile });
  t.ok(existsSync(join(dataDir, PIN_FILE)), 'the first root published is pinned in the data folder');
  t.equal(statSync(join(dataDir, PIN_FILE)).mode & 0o777, 0o600, 'pin file mode 0600');
  t.match(readFileSync(join(dataDir, PIN_FILE), 'utf8'), newsroom.fingerprint.replace(/ /g, ''));
  t.equal(await listStatus(server.staffUrl, newsroom.desk), 200, 'the real desk lists tips');
  await server.close();

  // The attack: the row now holds another newsroom's directory (valid, signed by its own root).
  await tamper(dataDir, { directory: JSON.stringify(foreign.doc) });
  ({ server, said } = await start(dataDir));
  t.match(said.join('\n'), /warning: the stored directory is not used: .*signed by root key/, 'the swapped row is reported');
  const html = await page(server.url);
  t.notOk(html.includes(foreign.fingerprint), 'the page shows no foreign fingerprint');
  t.notOk(html.includes(displayFingerprint(foreign.fingerprint)), 'not even spaced');
  t.not(await served(server.url), 200);
  t.notSame(await served(server.url), foreign.doc, 'the foreign directory is not served');
  t.not(await listStatus(server.staffUrl, foreign.desk), 200, 'a foreign desk key cannot list tips');
  const upload = await fetch(`${server.url}/api/v1/health`);
  t.same(await upload.json(), { ok: true, directory: false }, 'health: no directory in use');
  await server.close();

  // With the real directory file given, the server starts (it used to refuse) and replaces the row.
  ({ server, said } = await start(dataDir, { directoryFile: withoutBobFile }));
  t.match(said.join('\n'), new RegExp(`root fingerprint: ${newsroom.fingerprint}`));
  t.ok((await page(server.url)).includes(newsroom.fingerprint), 'the page shows the real fingerprint');
  t.same(await served(server.url), withoutBob, 'the real directory is served');
  t.equal(await listStatus(server.staffUrl, newsroom.desk), 200);
  t.not(await listStatus(server.staffUrl, foreign.desk), 200);

  // Swapped while it runs: not served, not trusted, from the next request on.
  const db = await openDatabaseOf(server);
  await db.updateTable('documents').set({ body: JSON.stringify(foreign.doc) }).where('kind', '=', 'directory').execute();
  t.notSame(await served(server.url), foreign.doc, 'not served after a live swap');
  t.not(await listStatus(server.staffUrl, foreign.desk), 200, 'foreign desk refused after a live swap');
  t.notOk((await page(server.url)).includes(foreign.fingerprint));
  await server.close();

  // A directory file of another root against the pin: refused at start, with a clear message.
  const foreignFile = file('foreign.json', foreign.doc);
  await t.rejects(start(dataDir, { directoryFile: foreignFile }), /signed by root key .* expected/);
});

t.test('rollback: an older directory of the same root, still listing a removed desk (PGlite)', async (t) => {
  const dataDir = join(work, 'rollback');
  await seedPglite(join(dataDir, 'pg'));
  let { server, said } = await start(dataDir, { directoryFile: withBobFile });
  t.equal(await listStatus(server.staffUrl, bob), 200, 'bob is listed at first');
  await server.close();
  ({ server, said } = await start(dataDir, { directoryFile: withoutBobFile }));
  t.not(await listStatus(server.staffUrl, bob), 200, 'bob removed: refused at once');
  await server.close();

  // serve and publishing: the old file is not published, the newer one stays.
  ({ server, said } = await start(dataDir, { directoryFile: withBobFile }));
  t.match(said.join('\n'), /warning: .*with-bob\.json is not published: directory serial \d+ is older than serial \d+/);
  t.same(await served(server.url), withoutBob, 'the newer directory is still the one served');
  t.not(await listStatus(server.staffUrl, bob), 200, 'bob still refused');
  const db = await openDatabaseOf(server);
  await t.rejects(publishDirectory(db, withBob, new Date()), DirectoryRollbackError, 'publishDirectory refuses it');

  // Database write access, while running: the row rolled back (and its serial row with it).
  const serialRow = await db.selectFrom('documents').select('body').where('kind', '=', 'directory-serial').executeTakeFirstOrThrow();
  await db.updateTable('documents').set({ body: JSON.stringify(withBob) }).where('kind', '=', 'directory').execute();
  await db.deleteFrom('documents').where('kind', '=', 'directory-serial').execute();
  t.not(await listStatus(server.staffUrl, bob), 200, 'staff auth refuses the rolled-back row (the serial in memory)');
  t.not(await served(server.url), 200, 'and it is not served');
  await server.close();
  t.ok(serialRow.body.includes('"serial"'));

  // And after a restart, the data folder's file remembers the serial: still refused, the server still starts.
  ({ server, said } = await start(dataDir));
  t.match(said.join('\n'), /the stored directory is not used: directory serial \d+ is older than serial \d+/);
  t.not(await listStatus(server.staffUrl, bob), 200, 'refused after a restart (the pin file keeps the serial)');
  await server.close();
});

t.test('PostgreSQL: the pin is required, and a rolled-back row is refused after a restart', async (t) => {
  await t.rejects(start(join(work, 'unused'), { databaseUrl: 'postgres://127.0.0.1:1/none' }), /with DATABASE_URL, the root fingerprint must be pinned/, 'no --fingerprint: refuses to start, before connecting');
  let pgdb: Awaited<ReturnType<typeof createPgDatabase>>;
  try {
    pgdb = await createPgDatabase();
  } catch (err) {
    t.comment(`skipped: PostgreSQL not reachable: ${(err as Error).message}`);
    return;
  }
  t.teardown(() => pgdb.drop());
  const o = { databaseUrl: pgdb.url, rootFingerprint: newsroom.fingerprint };
  let { server, said } = await start(join(work, 'unused'), { ...o, directoryFile: withBobFile });
  await server.close();
  ({ server, said } = await start(join(work, 'unused'), { ...o, directoryFile: withoutBobFile }));
  const db = await openDatabaseOf(server);
  await db.updateTable('documents').set({ body: JSON.stringify(withBob) }).where('kind', '=', 'directory').execute();
  t.not(await listStatus(server.staffUrl, bob), 200, 'refused while running');
  await server.close();
  ({ server, said } = await start(join(work, 'unused'), o));
  t.match(said.join('\n'), /the stored directory is not used: directory serial \d+ is older/, 'refused after a restart (the serial row)');
  t.not(await listStatus(server.staffUrl, bob), 200);
  // The swap, on PostgreSQL: the pin refuses it.
  await (await openDatabaseOf(server)).updateTable('documents').set({ body: JSON.stringify(foreign.doc) }).where('kind', '=', 'directory').execute();
  t.not(await listStatus(server.staffUrl, foreign.desk), 200, 'a foreign desk is refused');
  t.notOk((await page(server.url)).includes(foreign.fingerprint), 'no foreign fingerprint on the page');
  await server.close();
});

/** The database handle the running server uses, to act as someone with database access. */
async function openDatabaseOf(server: RunningServer) {
  return server.db;
}
