// `tipline list`: one line a tip on the server, newest first, with what this machine knows of it: the first line
// of the message once fetched ("(not fetched)" before), its thread; printed inert when the first line carries
// terminal escapes; --json for scripts; an auditor's key lists the metadata only, and says so.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from './helpers/cli.js';
import { cliNewsroomServer } from './helpers/setup.js';
import { collect, uploadEnvelope } from './helpers/fixtures.js';
import { fromBase64, toBase64 } from '../crypto/bytes.js';
import { generateDeskKey } from '../crypto/keys.js';
import { threadId } from '../crypto/reply.js';
import { encryptEnvelope, sentDay } from '../crypto/envelope/index.js';
import { publishDirectory } from '../server/directory.js';
import { humanSize } from '../client/cli/commands/list.js';

t.test('sizes read as a person reads them', async (t) => {
  t.equal(humanSize(0), '0 B');
  t.equal(humanSize(1023), '1023 B');
  t.equal(humanSize(1536), '1.5 KiB');
  t.equal(humanSize(50 * 1024 * 1024), '50 MiB');
});

t.test('list before and after fetch, hostile first line, --json, --data, an auditor key', async (t) => {
  const { work, keys, store, server } = await cliNewsroomServer(t, { powDifficulty: 0 });
  const deskKey = join(keys, 'desk.key');
  const desk = JSON.parse(readFileSync(deskKey, 'utf8')) as { public: { box: string } };
  const reply = { box_key: toBase64(generateDeskKey().boxPublic), mailbox: toBase64(new Uint8Array(32).fill(3)) };
  const send = async (message: string, withReply = false) =>
    (await uploadEnvelope(server.url, await collect(encryptEnvelope({ recipients: [fromBase64(desk.public.box)], manifest: { v: 2, sent_day: sentDay(new Date()), message, files: [], ...(withReply ? { reply } : {}) }, files: [] }).stream))).tip_id;
  const plain = await send('The mayor took money\nand more on the second line');
  const hostileLine = '\x1b]0;owned\x07\x1b[2J\x1b[31mClick here\u202Efdp.exe\x1b[0m';
  const hostile = await send(`${hostileLine}\nsecond`);
  const threaded = await send('Please write back', true);
  // An older tip: the server's days are what sorts, so one is moved a day back in the database.
  const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
  await store.db.updateTable('tips').set({ received_day: yesterday } as never).where('id', '=', plain).execute();

  const before = await runCli(['list', '--server', server.staffUrl, '--key', deskKey]);
  t.equal(before.code, 0, before.stderr);
  const rows = before.stdout.split('\n').filter((l) => /^\d{4}-\d{2}-\d{2} /.test(l));
  t.equal(rows.length, 3, 'one line a tip');
  t.match(rows[2]!, new RegExp(`^${yesterday} .* ${plain} `), 'newest first: the older tip last');
  for (const row of rows) t.match(row, /\(not fetched\)$/, 'not fetched yet');
  t.match(before.stdout, /^RECEIVED\s+EXPIRES\s+SIZE\s+TIP\s+THREAD\s+WHO\s+STATUS\s+FIRST LINE/m);
  t.match(before.stdout, /3 tips, 0 fetched here/);

  const inbox = join(work, 'inbox');
  const fetched = await runCli(['fetch', '--server', server.staffUrl, '--key', deskKey, '--out', inbox]);
  t.equal(fetched.code, 0, fetched.stderr);
  const after = await runCli(['list', '--server', server.staffUrl, '--key', deskKey, '--inbox', inbox]);
  t.equal(after.code, 0, after.stderr);
  t.match(after.stdout, new RegExp(`${plain} +- +- +- +"The mayor took money"$`, 'm'), 'the first line, from the local copy; no thread, nobody, no status');
  t.notMatch(after.stdout, /second line/);
  t.match(after.stdout, new RegExp(`${threaded} +${threadId(reply.box_key).slice(0, 8)} +- +- +"Please write back"`), 'the thread, short');
  t.notMatch(after.stdout, /[\x1b\x07\u202E]/u, 'no escape, bell or bidi override reaches the terminal');
  t.match(after.stdout, new RegExp(`${hostile} .*"\\]0;owned\\[2J\\[31mClick herefdp\\.exe\\[0m"`), 'the hostile line is printed inert');
  t.match(after.stdout, /3 tips, 3 fetched here/);

  const json = await runCli(['list', '--server', server.staffUrl, '--key', deskKey, '--inbox', inbox, '--json']);
  t.equal(json.code, 0, json.stderr);
  const parsed = JSON.parse(json.stdout) as { tips: Record<string, unknown>[]; metadata_only: boolean };
  t.equal(parsed.metadata_only, false);
  t.same(parsed.tips.map((x) => x.id).at(-1), plain, 'newest first');
  t.same(Object.keys(parsed.tips[0]!).sort(), ['assignee', 'expires_day', 'fetched', 'first_line', 'folder', 'id', 'received_day', 'size', 'status', 'thread']);
  const h = parsed.tips.find((x) => x.id === hostile)!;
  t.equal(h.first_line, ']0;owned[2J[31mClick herefdp.exe[0m', 'JSON carries the cleaned line too');
  t.equal(h.fetched, true);
  t.type(h.size, 'number');
  t.equal(parsed.tips.find((x) => x.id === threaded)!.thread, threadId(reply.box_key));

  // --data DIR: the desk app's folder, its inbox under DIR/inbox.
  const data = join(work, 'desk-data');
  t.equal((await runCli(['fetch', '--server', server.staffUrl, '--key', deskKey, '--out', join(data, 'inbox')])).code, 0);
  const viaData = await runCli(['list', '--server', server.staffUrl, '--key', deskKey, '--data', data]);
  t.equal(viaData.code, 0, viaData.stderr);
  t.match(viaData.stdout, /"The mayor took money"/);

  // An auditor: the metadata, said in one line, and no first line even with an inbox at hand.
  const add = await runCli(['keys', 'add-desk', '--dir', keys, '--name', 'auditor', '--auditor']);
  t.equal(add.code, 0, add.stderr);
  await publishDirectory(store.db, JSON.parse(readFileSync(join(keys, 'directory.json'), 'utf8')), new Date());
  const audited = await runCli(['list', '--server', server.staffUrl, '--key', join(keys, 'auditor.key'), '--inbox', inbox]);
  t.equal(audited.code, 0, audited.stderr);
  t.match(audited.stderr, /auditor's key: metadata only \(days, sizes, ids\); no first lines/);
  for (const id of [plain, hostile, threaded]) t.match(audited.stdout, new RegExp(`^\\d{4}-\\d{2}-\\d{2} +\\d{4}-\\d{2}-\\d{2} +[\\d.]+ \\w+ +${id}$`, 'm'));
  t.notMatch(audited.stdout, /mayor|Please|not fetched/);
  const auditedJson = JSON.parse((await runCli(['list', '--server', server.staffUrl, '--key', join(keys, 'auditor.key'), '--json'])).stdout) as { tips: { first_line: unknown }[]; metadata_only: boolean };
  t.equal(auditedJson.metadata_only, true);
  t.ok(auditedJson.tips.every((x) => x.first_line === null));

  const help = await runCli(['list', '--help']);
  t.equal(help.code, 0);
  t.match(help.stdout, /usage: tipline list --server URL --key FILE \[--inbox DIR \| --data DIR\]/);
  const bad = await runCli(['list', '--server', server.staffUrl]);
  t.equal(bad.code, 2, 'a usage mistake: exit 2');
  t.match(bad.stderr, /missing --key FILE.*\(tipline list --help\)/);
});
