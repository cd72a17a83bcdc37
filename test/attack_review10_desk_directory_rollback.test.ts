// Attack (review 10): a compromised server hands `tipline desk` an OLDER directory, signed by the real root, that
// still lists a desk since removed (its key stolen). The root is pinned, so the chain verifies; unless the desk
// remembers the highest serial it has accepted, it seals every shared note (notes, reply texts, tags, who is on
// it) to the removed desk and offers it for assignment. The desk must refuse a directory older than one it saw.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { dialects } from './helpers/databases.js';
import { runCli } from './helpers/cli.js';
import { newsroom, startDesk } from './helpers/desk.js';
import { startServer } from './helpers/server.js';
import { publishDirectory } from '../server/directory.js';

const dialect = (await dialects()).find((d) => d.name === 'pglite')!;

t.test('the desk refuses a directory older than one it has accepted', { timeout: 300_000 }, async (t) => {
  const n = await newsroom(dialect);
  t.teardown(() => n.close());
  const old = JSON.parse(readFileSync(join(n.keys, 'directory.json'), 'utf8'));
  const renew = await runCli(['keys', 'renew', '--dir', n.keys]);
  t.equal(renew.code, 0, renew.stderr);
  const fresh = JSON.parse(readFileSync(join(n.keys, 'directory.json'), 'utf8'));
  t.not(JSON.stringify(fresh), JSON.stringify(old), 'a newer directory was signed');
  await publishDirectory(n.store.db, fresh, new Date());

  const data = join(n.work, 'desk-data');
  // No machine-wide state: the data folder itself must remember what it has seen.
  const env = { TIPLINE_STATE_DIR: 'none' };
  const first = await startDesk(['--server', n.server.staffUrl, '--key', n.deskKey, '--fingerprint', n.fp, '--data', data], env);
  t.match(first.url, /^http:\/\/127\.0\.0\.1:/, 'the desk ran against the newest directory');
  await first.stop();

  // The "rolled back" server: the same root, the same desk keys, the older directory.
  const store2 = await dialect.open();
  t.teardown(() => store2.drop());
  await publishDirectory(store2.db, old, new Date());
  const server2 = await startServer({ db: store2.db });
  t.teardown(() => server2.close());
  let out = '';
  try {
    const opened = await startDesk(['--server', server2.staffUrl, '--key', n.deskKey, '--data', data], env);
    await opened.stop();
    t.fail('the desk opened on an older directory (its notes would be sealed to a removed desk)');
  } catch (err) {
    out = (err as Error).message;
  }
  t.match(out, /exited with [1-9]/, 'the desk exits instead of opening on an older directory');
  t.match(out, /older/, 'it says the directory is older than one seen');
});
