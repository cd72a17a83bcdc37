// Attack on `npm start`'s "build only when needed": it compared modification times, so a source update whose
// files carry older times than the last build (a release archive unpacked over a checkout, `rsync -a`, `cp -p`,
// a clock that was behind) or that only removes a file left the old dist/ in place, and `npm start` served the
// old code without a word. The stamp now records what each source held.
import t, { type Test } from 'tap';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { upToDate, writeStamp } from '../client/web/build.js';

function tree(t: Test): { root: string; put(path: string, text: string, mtime?: Date): void } {
  const root = mkdtempSync(join(tmpdir(), 'tipline-stamp-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const put = (path: string, text: string, mtime?: Date) => {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
    if (mtime) utimesSync(join(root, path), mtime, mtime);
  };
  for (const [path, text] of Object.entries({
    'client/cli/main.ts': 'old client',
    'server/routes/uploads.ts': 'old server',
    'server/routes/legacy.ts': 'a route the update removes',
    'crypto/pow.ts': 'old crypto',
    'schema/wire.ts': 'old schema',
    'package.json': '{}',
    'package-lock.json': '{}',
    'tsconfig.json': '{}',
  })) put(path, text);
  mkdirSync(join(root, 'dist'));
  return { root, put };
}

const said: string[] = [];
const say = (s: string) => void said.push(s);
const lastWeek = new Date(Date.now() - 7 * 86_400_000);

t.test('a fresh build is up to date, an edited source is not', async (t) => {
  const { root, put } = tree(t);
  t.notOk(upToDate(say, root), 'never built');
  writeStamp(root);
  t.ok(upToDate(say, root), 'just built');
  put('crypto/pow.ts', 'new crypto');
  t.notOk(upToDate(say, root), 'a source edited now');
});

t.test('an update unpacked with older file times is still built', async (t) => {
  const { root, put } = tree(t);
  writeStamp(root);
  // A release archive keeps each file's time from the release: last week, before this machine's build.
  put('server/routes/uploads.ts', 'the fixed server', lastWeek);
  said.length = 0;
  t.notOk(upToDate(say, root), 'the changed source is noticed whatever its time');
  t.match(said.join('\n'), /server\/routes\/uploads\.ts/, 'and named');
});

t.test('a removed source is noticed', async (t) => {
  const { root } = tree(t);
  writeStamp(root);
  rmSync(join(root, 'server/routes/legacy.ts'));
  t.notOk(upToDate(say, root));
});
