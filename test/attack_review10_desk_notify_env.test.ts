// Attack (review 10): `tipline desk` is usually started with TIPLINE_PASSPHRASE in its environment (the desk key's
// passphrase, how unattended runs unlock it). --notify-command is a newsroom's own small program (a chat webhook,
// a mail script) that may log or forward its environment; it must get the count and nothing secret: the
// passphrase the desk was given, or any other TIPLINE_* setting (the server address, the state folder).
import t from 'tap';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Notifier } from '../client/desk/notify.js';

t.test('the notification command does not get the passphrase', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tipline-notify-env-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const out = join(dir, 'env.txt');
  const script = join(dir, 'notify.sh');
  writeFileSync(script, `#!/bin/sh\nenv > '${out}'\n`);
  chmodSync(script, 0o700);
  const before = process.env.TIPLINE_PASSPHRASE;
  process.env.TIPLINE_PASSPHRASE = 'correct horse battery staple';
  t.teardown(() => {
    if (before === undefined) delete process.env.TIPLINE_PASSPHRASE;
    else process.env.TIPLINE_PASSPHRASE = before;
  });
  const n = new Notifier({ command: script, everyMs: 3_600_000, count: () => 3 });
  n.fire();
  for (let i = 0; i < 100; i++) {
    await sleep(100);
    try {
      if (readFileSync(out, 'utf8').includes('TIPLINE_NEW_THREADS')) break;
    } catch {
      // not yet written
    }
  }
  n.stop();
  const env = readFileSync(out, 'utf8');
  t.match(env, /^TIPLINE_NEW_THREADS=3$/m, 'the count is there');
  t.notMatch(env, /correct horse battery staple/, 'the passphrase is not');
  t.notMatch(env, /^TIPLINE_(?!NEW_THREADS=)/m, 'nor any other TIPLINE_ setting');
  t.match(env, /^PATH=/m, 'the ordinary environment is kept (PATH)');
});
