// The desk app end to end: tips and a follow-up submitted through the real CLI to a real server; `tipline desk`
// syncs them (at start and on POST api/sync); the thread list groups a source's tips into one thread, newest
// first; search finds a word of a message (diacritics and case folded, by prefix) and of a file name; the filters
// (unread, starred, day, status, tag) work; a file downloads as an attachment; a reply reaches the source under
// this desk's name; a tip deleted on the server by another desk stays here marked onServer:false; deleting a
// thread deletes its tips on the server and here. Shared status, tags and note round-trip once DeskNotes works,
// and the server then holds none of their plaintext (tables and logs).
import t from 'tap';
import { createHash } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dialects } from './helpers/databases.js';
import { runCli } from './helpers/cli.js';
import { api, newsroom, startDesk } from './helpers/desk.js';
import { dumpDatabase, findLeaks } from './helpers/dump.js';
import { ThreadDetail, ThreadList, SyncResult } from '../schema/desk-api.js';
import { tipFolder } from '../client/cli/inbox.js';
import { verifyExport } from '../client/desk/export.js';
import pngjs from 'pngjs';

const { PNG } = pngjs;

const dialect = (await dialects()).find((d) => d.name === 'pglite')!;
const TIP = /tip id: ([a-z2-7]{26})/;

t.test('sync, threads, search, filters, reply, delete', { timeout: 600_000 }, async (t) => {
  const n = await newsroom(dialect);
  t.teardown(() => n.close());
  const source = ['--server', n.server.url, '--fingerprint', n.fp];
  const data = join(n.work, 'desk-data');

  // 1. A tip with no codename, before the desk starts.
  const x = await runCli(['submit', ...source, '-m', 'Quarterly budget memo\nXRAYWORDS appear in the annex']);
  t.equal(x.code, 0, x.stderr);
  const tipX = TIP.exec(x.stdout)![1]!;

  const desk = await startDesk(['--server', n.server.staffUrl, '--key', n.deskKey, '--fingerprint', n.fp, '--data', data]);
  t.teardown(() => desk.stop());
  t.match(desk.output(), /synced: 1 new tip/, 'the start syncs');

  // 2. A source with a codename: a tip, then a follow-up with a file.
  const a = await runCli(['submit', ...source, '--replies', '-m', 'The Presidência signed it\nSecond line of the first tip']);
  t.equal(a.code, 0, a.stderr);
  const codename = /^codename: ([a-z ]+)$/m.exec(a.stdout)![1]!;
  const tipA = TIP.exec(a.stdout)![1]!;
  // Synced in between: the server keeps days only, so two tips of one day are ordered by when this desk fetched them.
  const syncedA = await api(desk, 'sync', { method: 'POST', body: {} });
  t.equal(SyncResult.parse(syncedA.json()).fetched, 1, 'POST api/sync fetched the first tip');
  const file = join(n.work, 'Grundbuch-Übersicht.txt');
  writeFileSync(file, 'parcel 17b, owners since 1998');
  const photo = new PNG({ width: 3, height: 2 });
  photo.data.fill(200);
  const photoFile = join(n.work, 'photo.png');
  writeFileSync(photoFile, PNG.sync.write(photo));
  const b = await runCli(['submit', ...source, '--codename', '--file', file, '--file', photoFile, '-m', 'A follow-up with the land register'], { env: { TIPLINE_CODENAME: codename } });
  t.equal(b.code, 0, b.stderr);
  const tipB = TIP.exec(b.stdout)![1]!;

  const synced = await api(desk, 'sync', { method: 'POST', body: {} });
  t.equal(synced.status, 200, synced.body.toString());
  const sr = SyncResult.parse(synced.json());
  t.equal(sr.fetched, 1, 'and then the follow-up');

  const list = async (query = '') => {
    const r = await api(desk, `threads${query}`);
    t.equal(r.status, 200, r.body.toString());
    return ThreadList.parse(r.json());
  };
  const all = await list();
  t.equal(all.threads.length, 2, "two threads: the source's two tips are one");
  const [first, second] = all.threads;
  t.equal(first!.tips, 2, 'the newest thread first: the source with a follow-up');
  t.equal(second!.id, `tip:${tipX}`, 'a tip without a codename is a thread of its own');
  t.equal(first!.title, 'The Presidência signed it', "the title is the first tip's first line");
  t.equal(first!.files, 2);
  t.ok(first!.canReply && !second!.canReply, 'only the source with a codename can be answered');
  t.ok(first!.unread && second!.unread, 'both unread');
  t.ok(first!.onServer && second!.onServer, 'both on the server');
  t.match(first!.expiresDay, /^\d{4}-\d{2}-\d{2}$/, 'the expiry day from the server list');
  const threadA = first!.id;

  // 3. Search.
  const found = await list('?q=presidencia');
  t.same(found.threads.map((x) => x.id), [threadA], 'a word of a message, without its accent and in lower case');
  t.match(found.threads[0]!.snippet, /Presidência/, 'the snippet shows the original words around the match');
  t.same((await list('?q=UBERSICHT')).threads.map((x) => x.id), [threadA], 'a word of a file name');
  t.same((await list('?q=xraywo')).threads.map((x) => x.id), [`tip:${tipX}`], 'a prefix of a word');
  t.same((await list('?q=quarterly%20annex')).threads.map((x) => x.id), [`tip:${tipX}`], 'two words, both required');
  t.same((await list('?q=quarterly%20presidencia')).threads, [], 'two words in different threads: none');
  t.same((await list('?q=zzzznothing')).threads, [], 'a word nowhere: none');
  t.equal((await list('?q=zzzznothing')).total, 2, 'total counts the whole inbox');

  // 4. Local flags and filters.
  const read = await api(desk, `threads/${encodeURIComponent(`tip:${tipX}`)}/read`, { method: 'POST', body: { read: true } });
  t.equal(read.status, 200, read.body.toString());
  t.equal(ThreadDetail.parse(read.json()).summary.unread, false, 'marked read');
  t.same((await list('?unread=1')).threads.map((x) => x.id), [threadA], 'unread=1');
  await api(desk, `threads/${threadA}/star`, { method: 'POST', body: { starred: true } });
  t.same((await list('?starred=1')).threads.map((x) => x.id), [threadA], 'starred=1');
  const today = first!.lastDay;
  t.equal((await list(`?day=${today}`)).threads.length, 2, 'day=the day received');
  t.same((await list('?day=2000-01-01')).threads, [], 'another day: none');
  t.same((await list('?status=done')).threads, [], 'status=done: none yet');
  t.equal((await list('?status=new')).threads.length, 2, 'status=new: every thread');



  // 5. The thread view and a file download.
  const d = ThreadDetail.parse((await api(desk, `threads/${threadA}`)).json());
  t.same(d.items.filter((i) => i.kind === 'tip').map((i) => (i as { tipId: string }).tipId), [tipA, tipB], 'the tips oldest first');
  t.equal(d.replyAs, 'Desk Ana', 'a reply goes out under the name the directory lists');
  const tipBItem = d.items.find((i) => i.kind === 'tip' && i.tipId === tipB) as Extract<ThreadDetail['items'][number], { kind: 'tip' }>;
  t.equal(tipBItem.files[0]!.name, 'Grundbuch-Übersicht.txt');
  t.equal(tipBItem.files[0]!.sha256, createHash('sha256').update('parcel 17b, owners since 1998').digest('hex'), 'its SHA-256');
  const dl = await api(desk, `threads/${threadA}/tips/${tipB}/files/0/download`);
  t.equal(dl.status, 200);
  t.equal(dl.body.toString(), 'parcel 17b, owners since 1998', 'the bytes as sent');
  t.equal(dl.headers['content-type'], 'application/octet-stream');
  t.match(String(dl.headers['content-disposition']), /^attachment; filename="Grundbuch-_bersicht\.txt"; filename\*=UTF-8''Grundbuch-%C3%9Cbersicht\.txt$/, 'an attachment, its name in RFC 5987 form');
  t.match(String(dl.headers['content-security-policy']), /sandbox/, 'sandboxed if opened anyway');
  t.equal((await api(desk, `threads/${threadA}/tips/${tipB}/files/5/download`)).status, 404, 'no sixth file');
  t.same(tipBItem.files.map((f) => f.render), ['text', 'image'], 'how each may be shown, from its bytes');
  const asText = await api(desk, `threads/${threadA}/tips/${tipB}/files/0/text`);
  t.same(asText.json(), { text: 'parcel 17b, owners since 1998', truncated: false }, 'text as JSON text');
  t.equal((await api(desk, `threads/${threadA}/tips/${tipB}/files/0/image`)).status, 415, 'text is not shown as an image');
  const img = await api(desk, `threads/${threadA}/tips/${tipB}/files/1/image`);
  t.equal(img.status, 200);
  t.equal(img.headers['content-type'], 'image/png', 'an image as a re-encoded PNG');
  const decoded = PNG.sync.read(img.body);
  t.same([decoded.width, decoded.height], [3, 2], 'of the same pixels');
  const zip = await api(desk, `threads/${threadA}/export.zip`);
  t.equal(zip.status, 200, zip.status === 200 ? '' : zip.body.toString());
  t.equal(zip.headers['content-type'], 'application/zip');
  t.match(String(zip.headers['content-disposition']), /^attachment; filename="[^"]+\.zip"/, 'as an attachment');
  const check = verifyExport(new Uint8Array(zip.body), n.fp);
  t.ok(check.ok, `the export verifies under the root (${check.lines.slice(0, 2).join('; ')})`);

  // 6. A reply, as the source sees it.
  const replied = await api(desk, `threads/${threadA}/reply`, { method: 'POST', body: { text: 'REPLY-MARKER which parcel?' } });
  t.equal(replied.status, 200, `the reply is sent and shared (${replied.body.toString().slice(0, 200)})`);
  t.match(ThreadDetail.parse(replied.json()).items.find((i) => i.kind === 'reply'), { kind: 'reply', by: 'Desk Ana', text: 'REPLY-MARKER which parcel?' }, 'and shown in the thread, as the other desks see it');
  const readReplies = await runCli(['replies', ...source], { env: { TIPLINE_CODENAME: codename } });
  t.equal(readReplies.code, 0, readReplies.stderr);
  t.match(readReplies.stdout, /Reply from Desk Ana[\s\S]*REPLY-MARKER which parcel\?/, 'the source reads it, from Desk Ana');

  // 7. Shared status, tags and note (needs DeskNotes).
  const status = await api(desk, `threads/${threadA}/status`, { method: 'POST', body: { status: 'in-progress' } });
  t.equal(status.status, 200, status.body.toString());
  await t.test('shared status, tags, note', async (t) => {
    t.equal(ThreadDetail.parse(status.json()).summary.status, 'in-progress');
    const tags = await api(desk, `threads/${threadA}/tags`, { method: 'POST', body: { add: ['TAGMARKER-land'] } });
    t.same(ThreadDetail.parse(tags.json()).summary.tags, ['TAGMARKER-land']);
    const note = await api(desk, `threads/${threadA}/note`, { method: 'POST', body: { text: 'NOTEMARKER call the registry', supersedes: [] } });
    t.same(ThreadDetail.parse(note.json()).notes.map((x) => x.text), ['NOTEMARKER call the registry']);
    t.same((await list('?status=in-progress')).threads.map((x) => x.id), [threadA], 'status filter');
    t.same((await list('?tag=TAGMARKER-land')).threads.map((x) => x.id), [threadA], 'tag filter');
    t.same((await list('?q=registry')).threads.map((x) => x.id), [threadA], 'search finds a word of the note');
    t.same((await list('?q=tagmarker')).threads.map((x) => x.id), [threadA], 'and of a tag');
    const leaks = findLeaks(Buffer.concat([await dumpDatabase(n.store.db), Buffer.from(n.server.logs())]), ['TAGMARKER', 'NOTEMARKER', 'call the registry', 'in-progress', 'REPLY-MARKER']);
    t.same(leaks, [], "the server's tables and logs hold none of the shared plaintext");
  });

  // 8. Another desk deletes the tip without a codename: it stays here, marked.
  const del = await runCli(['delete', '--yes', '--server', n.server.staffUrl, '--key', n.deskKey, tipX]);
  t.equal(del.code, 0, del.stderr);
  t.equal((await api(desk, 'sync', { method: 'POST', body: {} })).status, 200);
  const afterDel = await list();
  const gone = afterDel.threads.find((x) => x.id === `tip:${tipX}`);
  t.ok(gone, 'a tip deleted on the server stays in the desk');
  t.equal(gone?.onServer, false, 'marked onServer:false');

  // 9. Deleting a thread: on the server and here.
  const inbox = join(data, 'inbox');
  t.ok(tipFolder(inbox, tipA) && tipFolder(inbox, tipB), 'the folders are there before');
  const deleted = await api(desk, `threads/${threadA}`, { method: 'DELETE' });
  t.equal(deleted.status, 200, deleted.body.toString());
  t.same([...deleted.json().deleted].sort(), [tipA, tipB].sort(), 'answers the tip ids deleted');
  t.notOk(tipFolder(inbox, tipA) || tipFolder(inbox, tipB), 'the folders are gone');
  t.notOk(existsSync(join(inbox, tipA)), 'nothing left under the id either');
  const resync = SyncResult.parse((await api(desk, 'sync', { method: 'POST', body: {} })).json());
  t.equal(resync.fetched, 0, 'a sync fetches nothing back: deleted on the server');
  t.same((await list()).threads.map((x) => x.id), [`tip:${tipX}`], 'only the other thread is left');
  const delLocal = await api(desk, `threads/${encodeURIComponent(`tip:${tipX}`)}`, { method: 'DELETE' });
  t.same(delLocal.json(), { deleted: [tipX] }, 'a thread already gone on the server is deleted here');
  t.same((await list()).threads, [], 'the inbox is empty');
  t.equal(await desk.stop(), 0);
});
