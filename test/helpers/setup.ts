// The usual arrangement of a server test: a fresh database of one dialect, a newsroom whose directory is
// published, and a server on a loopback port; all torn down with the test.
import type { Test } from 'tap';
import type { Dialect, TestDatabase } from './databases.js';
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
