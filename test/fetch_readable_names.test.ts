// `tipline fetch` names each tip's folder `<received day>_<first words>_<tip id>` (client/cli/inbox.ts), so a
// person finds a tip in a file manager and tipline still finds it by id. The first line is the source's, i.e.
// anyone's: hostile ones ("../../etc", a right-to-left override, a 300-character line, emoji only, an empty
// message, a leading dot or dash, a Windows device name) still give a safe, portable name inside the inbox.
import t from 'tap';
import { readdirSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from './helpers/cli.js';
import { cliNewsroomServer } from './helpers/setup.js';
import { collect, uploadEnvelope } from './helpers/fixtures.js';
import { fromBase64, toBase64 } from '../crypto/bytes.js';
import { generateDeskKey } from '../crypto/keys.js';
import { encryptEnvelope, sentDay } from '../crypto/envelope/index.js';
import { inboxTips, slug, SLUG_MAX, tipFolder, tipFolderName, tipIdOfFolder } from '../client/cli/inbox.js';

const ID = 'cu3tpwjntm56q7llcx4m3gqghy';
// Safe everywhere: a day, then letters (any script), combining marks, digits and hyphens, then the id.
const SAFE = /^(\d{4}-\d{2}-\d{2}_)?([\p{L}\p{M}\p{Nd}]+(-[\p{L}\p{M}\p{Nd}]+)*_)?[a-z2-7]{26}$/u;

t.test('names: readable, sorted by day, and safe for hostile first lines', async (t) => {
  t.equal(tipFolderName(ID, '2026-11-27', 'The mayor took money for the permit.\nMore below.'), `2026-11-27_the-mayor-took-money-for-the-permit_${ID}`);
  t.equal(tipFolderName(ID, '2026-11-27', 'Señor alcalde: ¿dónde está el dinero?'), `2026-11-27_señor-alcalde-dónde-está-el-dinero_${ID}`, 'letters of any language are kept');
  t.equal(tipFolderName(ID, '2026-11-27', 'Sen\u0303or'), `2026-11-27_señor_${ID}`, 'NFC: a decomposed ñ is stored composed');
  t.equal(tipFolderName(ID, '2026-11-27', ''), `2026-11-27_${ID}`, 'an empty message: day and id');
  t.equal(tipFolderName(ID, '2026-11-27', '🔥🔥🔥'), `2026-11-27_${ID}`, 'emoji only: day and id');
  t.equal(tipFolderName(ID, undefined, '../../etc/passwd'), `etc-passwd_${ID}`);
  t.equal(tipFolderName(ID, '../x', 'hi'), `hi_${ID}`, 'a received day that is not a day is left out');
  const hostile = ['../../etc', '..', '.hidden', '-rf /', 'CON', 'nul.txt', 'a\u202Egnp.exe', 'x\u200By', 'a\x1b[31mred\x07', 'a/b\\c:d*e?f"g<h>i|j', '\u3164\u3164', '\u0301\u0301abc', 'x'.repeat(300), `${'word '.repeat(60)}`, 'ab'.repeat(200)];
  for (const line of hostile) {
    const name = tipFolderName(ID, '2026-11-27', line);
    t.match(name, SAFE, `${JSON.stringify(line).slice(0, 40)} -> ${name}`);
    t.equal(name, name.normalize('NFC'));
    t.ok(Buffer.byteLength(name) < 255, 'under the 255-byte name limit');
    t.notMatch(name, /[\p{Cc}\p{Cf}/\\]/u, 'no control, format (bidi) character or separator');
    t.ok(!name.startsWith('.') && !name.startsWith('-'));
    t.equal(tipIdOfFolder(name), ID, 'the id is found again from the name');
  }
  t.ok(Array.from(slug('x'.repeat(300))).length <= SLUG_MAX);
  t.equal(slug(`${'word '.repeat(60)}`), Array(8).fill('word').join('-'), 'cut at a word end');
  t.equal(slug('\u0301\u0301abc'), 'abc', 'combining marks with no letter are dropped');
  t.equal(slug('\u3164\u3164'), '', 'invisible Hangul fillers are not words');
  t.equal(tipIdOfFolder(`.${ID}.partial`), undefined, "fetch's partial folder is not a tip folder");
  t.equal(tipIdOfFolder(`-x_${ID}`), undefined, 'nor a name starting with a dash');
  t.equal(tipIdOfFolder('threads.json'), undefined);
  t.ok(tipFolderName(ID, '2026-01-02', 'zzz') < tipFolderName('aaaaaaaaaaaaaaaaaaaaaaaaaa', '2026-01-03', 'aaa'), 'names sort by day first');
});

t.test('fetch writes readable folders; fetch again skips them; reply --inbox finds the tip by id', async (t) => {
  const { work, keys, server } = await cliNewsroomServer(t, { powDifficulty: 0 });
  const desk = JSON.parse(readFileSync(join(keys, 'desk.key'), 'utf8')) as { public: { box: string } };
  const reply = { box_key: toBase64(generateDeskKey().boxPublic), mailbox: toBase64(new Uint8Array(32).fill(7)) };
  const send = async (message: string, withReply = false) =>
    (await uploadEnvelope(server.url, await collect(encryptEnvelope({ recipients: [fromBase64(desk.public.box)], manifest: { v: 2, sent_day: sentDay(new Date()), message, files: [], ...(withReply ? { reply } : {}) }, files: [] }).stream))).tip_id;
  const messages = ['../../etc/passwd', '\u202Egnp.exe evil', 'L'.repeat(300), '', '🔥🔥 leak 🔥', 'The mayor took money\nsecond line'];
  const ids: string[] = [];
  for (const m of messages) ids.push(await send(m));
  const replyId = await send('Please answer me', true);

  const inbox = join(work, 'inbox');
  const r = await runCli(['fetch', '--server', server.staffUrl, '--key', join(keys, 'desk.key'), '--out', inbox]);
  t.equal(r.code, 0, r.stderr);
  const names = readdirSync(inbox).filter((n) => n !== 'threads.json');
  t.equal(names.length, 7, 'one folder a tip, nothing else (no partial left)');
  const day = new Date().toISOString().slice(0, 10);
  for (const n of names) {
    t.match(n, SAFE, n);
    t.ok(n.startsWith(day) || n.startsWith(new Date(Date.now() - 86_400_000).toISOString().slice(0, 10)), 'starts with the received day');
    t.notMatch(n, /[\p{Cc}\p{Cf}]|\.\./u);
  }
  t.same(inboxTips(inbox).map((x) => x.id).sort(), [...ids, replyId].sort(), 'inboxTips finds every tip by id');
  ids.forEach((id, i) => t.equal(readFileSync(join(tipFolder(inbox, id)!, 'message.txt'), 'utf8'), messages[i], 'tipFolder finds each'));
  t.match(tipFolder(inbox, ids[5]!)!, new RegExp(`_the-mayor-took-money_${ids[5]}$`), 'the first line, not the second');
  t.match(tipFolder(inbox, ids[0]!)!, new RegExp(`_etc-passwd_${ids[0]}$`));
  t.match(tipFolder(inbox, ids[1]!)!, new RegExp(`_gnp-exe-evil_${ids[1]}$`), 'the bidi override is gone');
  t.match(tipFolder(inbox, ids[3]!)!, new RegExp(`\\d_${ids[3]}$`), 'empty message: day and id');
  t.match(tipFolder(inbox, ids[4]!)!, new RegExp(`_leak_${ids[4]}$`), 'emoji dropped, the word kept');
  t.match(r.stdout, new RegExp(`${ids[5]}: received .* -> .*_the-mayor-took-money_${ids[5]}`), 'fetch says where each tip went');
  const threads = JSON.parse(readFileSync(join(inbox, 'threads.json'), 'utf8')) as Record<string, string[]>;
  t.same(Object.values(threads), [[replyId]], 'threads.json keeps tip ids');

  // A folder named by the id alone (an older tipline's) is a tip folder too.
  const old = tipFolder(inbox, ids[2]!)!;
  renameSync(old, join(inbox, ids[2]!));
  t.equal(tipFolder(inbox, ids[2]!), join(inbox, ids[2]!));
  const again = await runCli(['fetch', '--server', server.staffUrl, '--key', join(keys, 'desk.key'), '--out', inbox]);
  t.equal(again.code, 0, again.stderr);
  t.match(again.stdout, /0 fetched, 7 already here/, 'the second fetch skips every tip, readable or old-style name');
  t.equal(readdirSync(inbox).length, 8, 'and writes no second copy');

  // Deleted on the server: reply can only have the reply key from the local copy, found by id.
  const del = await runCli(['delete', '--yes', '--server', server.staffUrl, '--key', join(keys, 'desk.key'), replyId]);
  t.equal(del.code, 0, del.stderr);
  const sent = await runCli(['reply', '--server', server.staffUrl, '--key', join(keys, 'desk.key'), '--inbox', inbox, replyId, '-m', 'we read you']);
  t.equal(sent.code, 0, sent.stderr);
  t.match(sent.stdout, new RegExp(`reply to ${replyId} posted`));
});
