// The day of sending travels inside the encryption: `tipline fetch` warns when a tip says it was sealed long
// before the server says it arrived (an operator re-delivering an old, deleted envelope as a new tip).
import t from 'tap';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from './helpers/cli.js';
import { cliNewsroomServer } from './helpers/setup.js';
import { collect, uploadEnvelope } from './helpers/fixtures.js';
import { fromBase64 } from '../crypto/bytes.js';
import { encryptEnvelope, sentDay } from '../crypto/envelope/index.js';
import { tipFolder } from '../client/cli/inbox.js';

t.test('fetch warns about a tip sealed days before it was received, and only about that one', async (t) => {
  const { work, keys, server } = await cliNewsroomServer(t, { powDifficulty: 0 });
  const desk = JSON.parse(readFileSync(join(keys, 'desk.key'), 'utf8')) as { public: { box: string } };
  const seal = (sent_day: string, message: string) =>
    collect(encryptEnvelope({ recipients: [fromBase64(desk.public.box)], manifest: { v: 2, sent_day, message, files: [] }, files: [] }).stream);
  const fresh = await uploadEnvelope(server.url, await seal(sentDay(new Date()), 'new'));
  const replayed = await uploadEnvelope(server.url, await seal('2020-01-01', 'old'));

  const out = join(work, 'inbox');
  const r = await runCli(['fetch', '--server', server.staffUrl, '--key', join(keys, 'desk.key'), '--out', out]);
  t.equal(r.code, 0, r.stderr);
  const said = r.stdout + r.stderr;
  t.match(said, new RegExp(`warning: ${replayed.tip_id}: sealed on 2020-01-01 but delivered as received on ${replayed.received_day}`));
  t.notMatch(said, new RegExp(`warning: ${fresh.tip_id}`), 'no warning for a tip sealed the day it arrived');
  t.match(readFileSync(join(tipFolder(out, replayed.tip_id)!, 'WARNING.txt'), 'utf8'), /may be an old tip sent again/);
  t.notOk(existsSync(join(tipFolder(out, fresh.tip_id)!, 'WARNING.txt')));
  t.equal(readFileSync(join(tipFolder(out, replayed.tip_id)!, 'message.txt'), 'utf8'), 'old', 'the tip itself is still delivered');
});
