// PGlite is single-process: a second `tipline serve` on the same data folder is refused with a clear message,
// and a lock left behind by a killed server does not block the next start.
import t from 'tap';
import { chmodSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, startCliServer } from './helpers/cli.js';

t.test('a second server on the same PGlite folder is refused', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tipline-lock-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  chmodSync(dir, 0o755); // as an operator's mkdir would leave it
  const first = await startCliServer(['--port', '0', '--data', dir], { DATABASE_URL: '' });
  t.teardown(() => first.child.kill('SIGKILL'));
  t.match(first.output(), /no directory published yet/, 'without keys it says how to make them');
  // PGlite (Emscripten's file layer) sets its files' modes itself, 0666/0755 whatever the umask: the data folder
  // is the wall, so it must be the owner's alone even when it existed before with wider rights.
  t.equal(statSync(dir).mode & 0o777, 0o700, 'the data folder is 0700');
  t.ok(readdirSync(join(dir, 'pg')).length > 0, 'and holds the database');
  const second = await runCli(['serve', '--port', '0', '--data', dir], { env: { DATABASE_URL: '' }, timeoutMs: 60_000 });
  t.equal(second.code, 1);
  t.match(second.stderr, /in use by another tipline process \(pid \d+\)/);
  const exited = once(first.child, 'exit');
  first.child.kill('SIGKILL');
  await exited;
  const third = await startCliServer(['--port', '0', '--data', dir], { DATABASE_URL: '' });
  t.teardown(() => third.child.kill('SIGKILL'));
  t.match(third.url, /^http:\/\/127\.0\.0\.1:\d+$/, 'a stale lock from a killed server is taken over');
});

t.test('a lock naming a live foreign process is respected', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tipline-lock-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'tipline.lock'), String(process.pid));
  const r = await runCli(['serve', '--port', '0', '--data', dir], { env: { DATABASE_URL: '' }, timeoutMs: 60_000 });
  t.equal(r.code, 1);
  t.match(r.stderr, new RegExp(`pid ${process.pid}`));
});
