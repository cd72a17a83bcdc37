// A whole conversation through the real CLI against a real server, on PGlite and PostgreSQL: a source sends a tip
// with --replies (a codename printed) -> the desk fetches it -> answers with tipline reply -> the source reads the
// reply (the codename typed carelessly: capitals, extra spaces, punctuation) and sees the desk's name -> sends a
// follow-up with a file under the same codename -> fetch puts both tips in one thread -> the source deletes the
// reply, which leaves the database -> a visit then finds none. Afterwards nothing the server kept (every table,
// the PGlite folder, its log) holds the codename, the reply's text, the source's reply key or tag key, or a tip id
// in the replies table.
import t from 'tap';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { dialects } from './helpers/databases.js';
import { runCli } from './helpers/cli.js';
import { startServer } from './helpers/server.js';
import { dumpDatabase, dumpFolder, findLeaks } from './helpers/dump.js';
import { publishDirectory } from '../server/directory.js';
import { fromBase64, toBase64Url, toHex } from '../crypto/bytes.js';
import { parseCodename } from '../crypto/codename.js';
import { threadId } from '../crypto/reply.js';
import { tipFolder } from '../client/cli/inbox.js';

const TIP = /tip id: ([a-z2-7]{26})/;

/** The codename as a hurried person types it: capitals, doubled spaces, commas and a full stop. */
function carelessly(codename: string): string {
  return `  ${codename
    .split(' ')
    .map((w, i) => (i % 2 ? w.toUpperCase() : `${w[0]!.toUpperCase()}${w.slice(1)}`))
    .join(' ,  ')}. `;
}

for (const dialect of await dialects()) {
  t.test(`a conversation through the CLI on ${dialect.name}`, { skip: dialect.skip }, async (t) => {
    const work = mkdtempSync(join(tmpdir(), 'tipline-conv-'));
    t.teardown(() => rmSync(work, { recursive: true, force: true }));
    const keys = join(work, 'keys');
    const inbox = join(work, 'inbox');
    const init = await runCli(['keys', 'init', '--dir', keys, '--name', 'María López']);
    t.equal(init.code, 0, init.stderr);
    const fp = /fingerprint: (.+)/.exec(init.stdout)![1]!;
    const deskKey = join(keys, readdirSync(keys).find((f) => f.endsWith('.key') && !['root.key', 'signing.key'].includes(f))!);

    const store = await dialect.open();
    let dbOpen = true;
    t.teardown(async () => {
      if (dbOpen) await store.drop();
      else rmSync(store.where, { recursive: true, force: true });
    });
    await publishDirectory(store.db, JSON.parse(readFileSync(join(keys, 'directory.json'), 'utf8')), new Date());
    const server = await startServer({ db: store.db });
    let serverOpen = true;
    t.teardown(async () => {
      if (serverOpen) await server.close();
    });
    const source = ['--server', server.url, '--fingerprint', fp];
    const desk = ['--server', server.staffUrl, '--key', deskKey];
    const replyCount = async () => Number((await sql<{ n: string }>`select count(*) as n from replies`.execute(store.db)).rows[0]!.n);

    // 1. The first tip, asking for replies.
    const first = await runCli(['submit', ...source, '--replies', '-m', 'FIRST-TIP-MARKER the council sold the land']);
    t.equal(first.code, 0, first.stderr);
    const codename = /^codename: ([a-z ]+)$/m.exec(first.stdout)?.[1];
    t.ok(codename, 'submit --replies prints the codename on standard output');
    t.ok(parseCodename(codename ?? '').ok, 'nine words that parse back, check word included');
    t.match(first.stderr, /Write the codename down[\s\S]*only way to read[\s\S]*Nobody can recover it, not the newsroom/, 'with plain advice on standard error');
    t.notMatch(first.stderr, new RegExp(codename!), 'the codename itself is not repeated on standard error');
    t.match(first.stdout, /deleted on: \d{4}-\d{2}-\d{2}/, 'the receipt gives the day the tip is deleted');
    t.match(first.stdout, /replies: possible/, 'and says replies are possible');
    const tipA = TIP.exec(first.stdout)![1]!;

    // 2. The desk fetches it: the manifest carries the reply field and names its thread.
    const fetch1 = await runCli(['fetch', ...desk, '--out', inbox]);
    t.equal(fetch1.code, 0, fetch1.stderr);
    const manifestA = JSON.parse(readFileSync(join(tipFolder(inbox, tipA)!, 'manifest.json'), 'utf8')) as { reply: { box_key: string; mailbox: string }; thread: string };
    t.ok(manifestA.reply?.box_key && manifestA.reply.mailbox, 'the tip carries a reply key and a tag key');
    t.equal(manifestA.thread, threadId(manifestA.reply.box_key), 'manifest.json names its thread');
    t.match(fetch1.stdout, new RegExp(`thread ${manifestA.thread}: ${tipA}; answer with: tipline reply .*--inbox .* ${tipA}`), 'fetch prints the thread and the command that answers it');

    // 3. The desk answers.
    const replyText = `REPLY-TEXT-MARKER-${Date.now()} Thank you. Can you say which parcel?\nA second line.`;
    const replied = await runCli(['reply', ...desk, '--inbox', inbox, tipA, '-m', replyText]);
    t.equal(replied.code, 0, replied.stderr);
    t.match(replied.stdout, /the source will see it as from "María López"/, 'reply says who the source will see as the author');
    t.match(replied.stdout, /kept until: \d{4}-\d{2}-\d{2}/, 'and when it expires');
    t.equal(await replyCount(), 1, 'one row in the replies table');
    // Nothing in the replies table names the tip it answers, or the source's keys.
    const repliesRows = await sql<Record<string, unknown>>`select * from replies`.execute(store.db);
    const repliesDump = Buffer.concat(repliesRows.rows.flatMap((r) => Object.values(r).map((v) => (v instanceof Uint8Array ? Buffer.from(v) : Buffer.from(String(v))))));
    const boxKey = fromBase64(manifestA.reply.box_key);
    const tagKey = fromBase64(manifestA.reply.mailbox);
    t.same(findLeaks(repliesDump, [tipA, manifestA.reply.box_key, manifestA.reply.mailbox, toBase64Url(boxKey), toBase64Url(tagKey)]), [], 'the replies table holds no tip id and no key of the source');
    t.notOk(repliesDump.includes(Buffer.from(boxKey)) || repliesDump.includes(Buffer.from(tagKey)), 'nor the raw key bytes');

    // 4. The source reads it, typing the codename carelessly.
    const typed = carelessly(codename!);
    const read1 = await runCli(['replies', ...source], { env: { TIPLINE_CODENAME: typed } });
    t.equal(read1.code, 0, read1.stderr);
    t.match(read1.stdout, /Reply from María López, \d{4}-\d{2}-\d{2}:/, "the desk's name from the signed directory");
    t.match(read1.stdout, /REPLY-TEXT-MARKER-\d+ Thank you\. Can you say which parcel\?\n {2}A second line\./, 'and the text, line by line');

    // 5. A follow-up with a file, under the same codename.
    const evidence = join(work, 'parcel-map.txt');
    writeFileSync(evidence, 'FILE-MARKER parcel 17b');
    const second = await runCli(['submit', ...source, '--codename', '--file', evidence, '-m', 'FOLLOWUP-MARKER parcel 17b'], { env: { TIPLINE_CODENAME: typed } });
    t.equal(second.code, 0, second.stderr);
    t.notMatch(second.stdout, /^codename:/m, 'a follow-up prints no new codename');
    t.match(second.stdout, /replies: possible, with the same codename/);
    const tipB = TIP.exec(second.stdout)![1]!;

    // 6. fetch threads it with the first.
    const fetch2 = await runCli(['fetch', ...desk, '--out', inbox]);
    t.equal(fetch2.code, 0, fetch2.stderr);
    const threads = JSON.parse(readFileSync(join(inbox, 'threads.json'), 'utf8')) as Record<string, string[]>;
    t.same(threads, { [manifestA.thread]: [tipA, tipB] }, 'threads.json: one thread, the first tip then the follow-up');
    const manifestB = JSON.parse(readFileSync(join(tipFolder(inbox, tipB)!, 'manifest.json'), 'utf8')) as { thread: string };
    t.equal(manifestB.thread, manifestA.thread, "the follow-up's manifest names the same thread");
    t.match(fetch2.stdout, new RegExp(`thread ${manifestA.thread}: ${tipA}, ${tipB}; answer with: tipline reply .* ${tipB}`), 'one line for the thread, answering the latest tip');
    t.equal(readFileSync(join(tipFolder(inbox, tipB)!, 'files', 'parcel-map.txt'), 'utf8'), 'FILE-MARKER parcel 17b', "the follow-up's file arrived");
    t.equal(statSync(join(inbox, 'threads.json')).mode & 0o777, 0o600, 'threads.json is readable by the desk only');

    // 7. The source deletes the reply it read.
    const read2 = await runCli(['replies', ...source, '--delete', '--out', join(work, 'saved')], { env: { TIPLINE_CODENAME: typed } });
    t.equal(read2.code, 0, read2.stderr);
    t.match(read2.stdout, /deleted 1 reply/);
    const saved = readdirSync(join(work, 'saved'));
    t.equal(saved.length, 1, '--out saved the reply');
    t.match(readFileSync(join(work, 'saved', saved[0]!), 'utf8'), /^From: María López\nDay: .*\n\nREPLY-TEXT-MARKER/);
    t.equal(statSync(join(work, 'saved', saved[0]!)).mode & 0o777, 0o600, 'saved with mode 0600');
    t.equal(await replyCount(), 0, "the reply's row is gone from the replies table");

    // 8. Nothing left.
    const read3 = await runCli(['replies', ...source], { env: { TIPLINE_CODENAME: codename! } });
    t.equal(read3.code, 0, read3.stderr);
    t.match(read3.stdout, /^No replies yet for this codename\./m, 'a kind line when there is nothing');

    // Privacy: everything the server kept.
    const needles = [codename!, typed, codename!.replace(/ /g, ''), 'REPLY-TEXT-MARKER', 'Can you say which parcel', manifestA.reply.box_key, manifestA.reply.mailbox, toBase64Url(boxKey), toBase64Url(tagKey), toHex(boxKey), toHex(tagKey)];
    t.same(findLeaks(await dumpDatabase(store.db), needles), [], 'no table holds the codename, the reply text or the source keys');
    t.notOk(Buffer.concat([await dumpDatabase(store.db)]).includes(Buffer.from(tagKey)), 'nor the tag key as bytes');
    t.same(findLeaks(Buffer.from(server.logs()), [...needles, tipA, tipB]), [], 'the server log holds none of them, nor the tip ids');
    t.ok(server.logs().includes('/api/v1/replies'), 'the log did record the reply requests (the check above looked in the right place)');
    await server.close();
    serverOpen = false;
    if (dialect.name === 'pglite') {
      await store.close();
      dbOpen = false;
      const folder = dumpFolder(store.where);
      t.same(findLeaks(folder, needles), [], 'nor any byte of the PGlite data folder (WAL included)');
      t.notOk(folder.includes(Buffer.from(tagKey)) || folder.includes(Buffer.from(boxKey)), 'nor the raw key bytes');
    }
  });
}
