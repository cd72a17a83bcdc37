// The desk app's page driven against the real `tipline desk` (client/desk/app.ts) syncing from a real tip line
// server (PGlite), in Chromium and Firefox ESR: a tip with a picture and a hostile-named HTML file arrives; the
// page lists it, opening marks it read, the picture shows re-encoded, the HTML file's name stays text and nothing
// of it renders; status, tag, note and reply reach the desk app (checked through its API); search narrows; delete
// asks and removes it; no alert fires and no request leaves 127.0.0.1:PORT.
import t, { type Test } from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'puppeteer-core';
import { dialects } from './helpers/databases.js';
import { runCli } from './helpers/cli.js';
import { api, newsroom, startDesk, type RunningDesk } from './helpers/desk.js';
import { browserSkip, launchChromium, launchFirefox, FIREFOX, CHROMIUM } from './helpers/browser.js';
import { png, HOSTILE_NAME } from './helpers/desk-fixture.js';
import { ThreadList, ThreadDetail } from '../schema/desk-api.js';

const dialect = (await dialects()).find((d) => d.name === 'pglite')!;

async function flow(t: Test, browser: Browser, desk: RunningDesk): Promise<void> {
  const page = await browser.newPage();
  const urls: string[] = [];
  const dialogs: string[] = [];
  page.on('request', (r) => void urls.push(r.url()));
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  await page.goto(`${desk.url}?lang=en`);
  await page.waitForSelector('button.thread-row');
  const titles = await page.$$eval('button.thread-row .title', (e) => e.map((x) => x.textContent));
  t.same(titles, ['Budget memo from the ministry'], 'the real desk app’s thread is listed');
  t.ok(await page.$('button.thread-row.unread'), 'unread at first');
  await page.click('button.thread-row');
  await page.waitForSelector('.thread img.preview');
  await page.waitForFunction(() => !document.querySelector('button.thread-row')?.classList.contains('unread'));
  const id = await page.$eval('.thread', (e) => e.getAttribute('data-thread') ?? '');
  const detail = async () => ThreadDetail.parse((await api(desk, `threads/${encodeURIComponent(id)}`)).json());
  t.equal((await detail()).summary.unread, false, 'opening the thread marked it read in the desk app');
  await page.waitForFunction(() => [...document.querySelectorAll<HTMLImageElement>('img.preview')].every((i) => i.complete && i.naturalWidth > 0));
  t.equal(await page.$eval('img.preview', (i) => (i as HTMLImageElement).naturalWidth), 160, 'the picture shows, from the re-encoded PNG');
  t.ok((await page.$$eval('.file-name', (e) => e.map((x) => x.textContent))).includes(HOSTILE_NAME), 'the hostile file name is literal text');
  t.equal(await page.$$eval('img', (e) => e.length), 1, 'no element was made from the file name or the HTML file');
  t.equal(await page.$$eval('iframe, object, embed, svg', (e) => e.length), 0, 'nothing active rendered');
  t.match(await page.$eval('.reply-as', (e) => e.textContent), /The source will see this from: Desk Ana/, 'the reply box names this desk');

  await page.select('#thread-status', 'in-progress');
  await page.waitForFunction(() => (document.querySelector('#thread-status') as HTMLSelectElement | null)?.value === 'in-progress' && document.querySelector('.live')?.textContent === 'Saved.');
  t.equal((await detail()).summary.status, 'in-progress', 'status reached the desk app');
  await page.type('#thread-tag', 'budget');
  await page.click('.tags-field .inline button');
  await page.waitForFunction(() => [...document.querySelectorAll('.tag-list .tag span')].some((e) => e.textContent === 'budget'));
  t.same((await detail()).summary.tags, ['budget'], 'the tag reached the desk app');
  const note = 'Ask the press office. <script>alert("n")</script>';
  await page.type('.note textarea', note);
  await page.click('.note .actions button');
  await page.waitForFunction(() => document.querySelector('.note .hint')?.textContent?.includes('Desk Ana'));
  t.same((await detail()).notes.map((n) => n.text), [note], 'the note reached the desk app');
  t.equal(await page.$eval('.note textarea', (e) => (e as HTMLTextAreaElement).value), note, 'and is shown as literal text');
  await page.type('.reply textarea', 'Thank you. Which department sent it?');
  await page.click('.reply .actions button');
  await page.waitForSelector('.reply-item', { timeout: 60_000 });
  t.ok((await detail()).items.some((i) => i.kind === 'reply' && i.text === 'Thank you. Which department sent it?'), 'the reply was sent');

  await page.type('input[type=search]', 'zzznomatch');
  await page.waitForFunction(() => document.querySelectorAll('button.thread-row').length === 0);
  t.pass('a search with no match empties the list');
  await page.click('.filters button.link');
  await page.type('input[type=search]', 'ministry');
  await page.waitForFunction(() => document.querySelectorAll('button.thread-row').length === 1);
  t.pass('a search for a word of the message finds it');

  await page.click('.controls button.danger');
  await page.waitForSelector('dialog[open]');
  await page.click('dialog[open] button.danger');
  await page.waitForFunction(() => document.querySelectorAll('button.thread-row').length === 0, { timeout: 60_000 });
  t.equal(ThreadList.parse((await api(desk, 'threads')).json()).threads.length, 0, 'delete removed the thread in the desk app');
  t.same(dialogs, [], 'no alert fired');
  t.same(urls.filter((u) => !u.startsWith(`http://127.0.0.1:${desk.port}/`) && !u.startsWith('data:')), [], `no request left 127.0.0.1:${desk.port} (${urls.length} requests)`);
  await page.close();
}

for (const [name, path] of [['chromium', CHROMIUM], ['firefox', FIREFOX]] as const) {
  t.test(`the page against the real tipline desk, in ${name}`, { skip: browserSkip(path, name === 'firefox' ? 'Firefox ESR' : 'Chromium'), timeout: 600_000 }, async (t) => {
    const n = await newsroom(dialect);
    t.teardown(() => n.close());
    const pic = join(n.work, 'photo.png');
    writeFileSync(pic, png());
    const hostile = join(n.work, HOSTILE_NAME);
    writeFileSync(hostile, '<html><body><script>alert(1)</script></body></html>');
    const s = await runCli(['submit', '--server', n.server.url, '--fingerprint', n.fp, '--replies', '--file', pic, '--file', hostile, '-m', 'Budget memo from the ministry\nSee the attached photo.']);
    t.equal(s.code, 0, s.stderr);
    const desk = await startDesk(['--server', n.server.staffUrl, '--key', n.deskKey, '--fingerprint', n.fp, '--data', join(n.work, 'desk-data')]);
    t.teardown(() => desk.stop());
    const browser = name === 'firefox' ? await launchFirefox({}, { width: 1440, height: 900 }) : await launchChromium({ width: 1440, height: 900 });
    t.teardown(() => browser.close());
    await flow(t, browser, desk);
  });
}
