// The usual arrangement of a server test: a fresh database of one dialect, a newsroom whose directory is
// published, and a server on a loopback port; all torn down with the test.
import type { Test } from 'tap';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dialects, type Dialect, type TestDatabase } from './databases.js';
import { quickKeysInit } from './quick-keys.js'; // keys init made once per test run, at the least KDF cost
import { startServer, type TestServer } from './server.js';
import { makeNewsroom, type Newsroom } from './fixtures.js';
import { publishDirectory } from '../../server/directory.js';
import type { ServerConfig } from '../../server/config.js';

export async function newsroomServer(
  t: Test,
  dialect: Dialect,
  config: Omit<ServerConfig, 'db'> = {},
  opts: { pinRoot?: boolean } = {},
): Promise<{ store: TestDatabase; newsroom: Newsroom; server: TestServer }> {
  const store = await dialect.open();
  t.teardown(() => store.drop());
  const now = config.now?.() ?? new Date();
  const newsroom = makeNewsroom(now);
  await publishDirectory(store.db, newsroom.doc, now);
  const server = await startServer({ ...config, ...(opts.pinRoot ? { rootFingerprint: newsroom.fingerprint } : {}), db: store.db });
  t.teardown(() => server.close());
  return { store, newsroom, server };
}

/** The same, with the newsroom's keys made by the real CLI (so `tipline fetch --key` can read the tips). */
export async function cliNewsroomServer(
  t: Test,
  config: Omit<ServerConfig, 'db'> = {},
): Promise<{ work: string; keys: string; fingerprint: string; store: TestDatabase; server: TestServer }> {
  const work = mkdtempSync(join(tmpdir(), 'tipline-'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));
  const keys = join(work, 'keys');
  const init = await quickKeysInit(keys);
  if (init.code !== 0) throw new Error(`keys init failed: ${init.stderr}`);
  const [pglite] = await dialects();
  const store = await pglite!.open();
  t.teardown(() => store.drop());
  await publishDirectory(store.db, JSON.parse(readFileSync(join(keys, 'directory.json'), 'utf8')), new Date());
  const server = await startServer({ powDifficulty: 10, ...config, db: store.db });
  t.teardown(() => server.close());
  return { work, keys, fingerprint: /fingerprint: (.+)/.exec(init.stdout)![1]!, store, server };
}
