// The desk app's page in Chromium and Firefox ESR, against the desk API's test double (helpers/desk-fixture.ts):
// the inbox lists and narrows, filters send the contract's query, opening a thread marks it read, each control
// sends the right request and shows the answer; a hostile file name and note stay text; an SVG is never an
// image; axe-core is clean in en, es and de; Tab reaches the search, a thread and the status select; and the page
// asks nothing of any origin but its own.
import t, { type Test } from 'tap';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Browser, Page } from 'puppeteer-core';
import { browserSkip, launchChromium, launchFirefox, FIREFOX, CHROMIUM } from './helpers/browser.js';
import { deskFixture, HOSTILE_NAME, HOSTILE_NOTE, SVG_NAME, type DeskFixture } from './helpers/desk-fixture.js';

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

interface Watched {
  page: Page;
  urls: string[];
  dialogs: string[];
}

async function openPage(browser: Browser, fx: DeskFixture, lang = 'en'): Promise<Watched> {
  const page = await browser.newPage();
  const urls: string[] = [];
  const dialogs: string[] = [];
  page.on('request', (r) => void urls.push(r.url()));
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  await page.goto(`${fx.url}?lang=${lang}`);
  await page.waitForSelector('button.thread-row, .threads .empty');
  return { page, urls, dialogs };
}

const rows = (page: Page) => page.$$eval('button.thread-row', (b) => b.map((x) => x.querySelector('.title')?.textContent ?? ''));
const posts = (fx: DeskFixture, what: string) => fx.requests.filter((r) => r.method === 'POST' && r.path.endsWith(`/${what}`));

async function waitRows(page: Page, n: number): Promise<void> {
  await page.waitForFunction((k: number) => document.querySelectorAll('button.thread-row').length === k, { timeout: 10_000 }, n);
}

async function axe(page: Page): Promise<string[]> {
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(AXE);
  return page.evaluate(async () => {
    const w = window as unknown as { axe: { run(ctx: Document, o: object): Promise<{ violations: { id: string; impact: string | null; nodes: { target: unknown[] }[] }[] }> } };
    const r = await w.axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => `${v.id} (${v.impact}) at ${v.nodes.map((n) => JSON.stringify(n.target)).join(' ')}`);
  });
}

async function flow(t: Test, browser: Browser): Promise<void> {
  const fx = await deskFixture();
  t.teardown(() => fx.close());
  const { page, urls, dialogs } = await openPage(browser, fx);

  t.same(await rows(page), ['Invoices from the water utility show double billing', 'Hospital waiting lists are being edited', 'Road contract awarded to the mayor’s cousin'], 'the inbox lists the threads newest first');
  t.match(await page.$eval('.count', (e) => e.textContent), /3 of 3/, 'with a count');
  t.equal(await page.$$eval('button.thread-row.unread .badge', (b) => b.map((x) => x.textContent).join()), 'Unread,Unread', 'unread threads carry a text marker, not only bold');

  // Search: debounced, answered by the desk app.
  await page.type('input[type=search]', 'clinic');
  await waitRows(page, 1);
  t.same(await rows(page), ['Hospital waiting lists are being edited'], 'search narrows the list');
  t.ok(fx.requests.some((r) => r.path === 'api/threads?q=clinic'), 'the search is asked of api/threads?q=');
  t.notOk(fx.requests.some((r) => /q=clin(&|$)/.test(r.path)), 'typing is debounced (no request per keystroke)');
  await page.click('.filters button.link');
  await waitRows(page, 3);

  const filter = async (what: string, act: () => Promise<unknown>, expect: string[], query: string) => {
    await act();
    await waitRows(page, expect.length);
    t.same(await rows(page), expect, `filter by ${what}`);
    t.ok(fx.requests.some((r) => r.path.startsWith('api/threads?') && r.path.includes(query)), `${what} sends ${query}`);
    await page.click('.filters button.link');
    await waitRows(page, 3);
  };
  await filter('status', () => page.select('.filters select', 'in-progress'), ['Hospital waiting lists are being edited'], 'status=in-progress');
  await filter('tag', () => page.select('.filters .field:nth-of-type(2) select', 'roads'), ['Road contract awarded to the mayor’s cousin'], 'tag=roads');
  await filter('starred', () => page.click('.filters label.check:nth-of-type(1) input'), ['Hospital waiting lists are being edited'], 'starred=1');
  await filter('unread', () => page.click('.filters label.check:nth-of-type(2) input'), ['Invoices from the water utility show double billing', 'Road contract awarded to the mayor’s cousin'], 'unread=1');
  await filter('day', () => page.$eval('.filters input[type=date]', (e) => {
    const i = e as HTMLInputElement;
    i.value = '2026-11-24';
    i.dispatchEvent(new Event('change'));
  }), ['Invoices from the water utility show double billing'], 'day=2026-11-24');

  // Opening an unread thread marks it read.
  await page.click('button.thread-row[data-thread^="tip:ddd"]');
  await page.waitForSelector('.thread[data-thread^="tip:ddd"]');
  await page.waitForFunction(() => !document.querySelector('button.thread-row[data-thread^="tip:ddd"]')?.classList.contains('unread'));
  t.same(posts(fx, 'read').map((r) => r.body), [{ read: true }], 'opening an unread thread posts read: true');
  t.equal(await page.$eval('#thread-read', (e) => e.textContent), 'Mark as unread', 'and the view offers to mark it unread');

  await page.click('#thread-star');
  await page.waitForFunction(() => document.querySelector('#thread-star')?.getAttribute('aria-pressed') === 'true');
  t.same(posts(fx, 'star').at(-1)?.body, { starred: true }, 'star posts starred: true and shows it');

  await page.select('#thread-status', 'done');
  await page.waitForFunction(() => document.querySelector('.history')?.textContent?.includes('status: done'));
  t.same(posts(fx, 'status').at(-1)?.body, { status: 'done' }, 'the status select posts the status; history shows it');
  t.equal(await page.$eval('#thread-status', (e) => (e as HTMLSelectElement).value), 'done', 'the select shows the new status');

  await page.select('#thread-assign', 'Health desk');
  await page.waitForFunction(() => document.querySelector('button.thread-row[data-thread^="tip:ddd"] .assignee')?.textContent?.includes('Health desk'));
  t.same(posts(fx, 'assign').at(-1)?.body, { desk: 'Health desk' }, 'who is on it posts the desk; the inbox shows it');

  await page.type('#thread-tag', 'urgent');
  await page.click('.tags-field .inline button');
  await page.waitForFunction(() => [...document.querySelectorAll('.tag-list .tag span')].some((e) => e.textContent === 'urgent'));
  t.same(posts(fx, 'tags').at(-1)?.body, { add: ['urgent'], remove: [] }, 'adding a tag posts it and shows it');
  await page.click('.tag-list button[aria-label="Remove tag roads"]');
  await page.waitForFunction(() => ![...document.querySelectorAll('.tag-list .tag span')].some((e) => e.textContent === 'roads'));
  t.same(posts(fx, 'tags').at(-1)?.body, { add: [], remove: ['roads'] }, 'removing a tag posts it');

  await page.type('.note textarea', 'Ask the council for the tender file.');
  await page.click('.note .actions button');
  await page.waitForFunction(() => document.querySelector('.note .hint')?.textContent?.includes('Investigations desk'));
  t.same(posts(fx, 'note').at(-1)?.body, { text: 'Ask the council for the tender file.', supersedes: [] }, 'a first note supersedes nothing');

  // The note conflict: saving supersedes every version shown.
  await page.click('button.thread-row[data-thread^="tip:ccc"]');
  await page.waitForSelector('.note .versions');
  t.equal(await page.$$eval('.note .versions > li', (l) => l.length), 2, 'both concurrent versions are shown');
  t.match(await page.$eval('.note .versions', (e) => e.textContent), /Health desk.*Investigations desk/s, 'labelled by desk');
  await page.click('.note .actions button');
  await page.waitForFunction(() => !document.querySelector('.note .versions'));
  t.same((posts(fx, 'note').at(-1)?.body as { supersedes: string[] }).supersedes, ['n2', 'n3'], 'saving supersedes all shown versions');
  t.equal(await page.$('.reply textarea'), null, 'no reply box when the source did not ask for replies');
  t.match(await page.$eval('.reply', (e) => e.textContent), /did not ask for replies/, 'and it says why');

  // Hostile names and notes stay text; the SVG is not an image.
  await page.click('button.thread-row[data-thread^="Ab"]');
  await page.waitForSelector('.thread img.preview');
  const names = await page.$$eval('.file-name', (e) => e.map((x) => x.textContent));
  t.ok(names.includes(HOSTILE_NAME), 'the hostile file name is shown as literal text');
  t.equal(await page.$eval('.note textarea', (e) => (e as HTMLTextAreaElement).value), HOSTILE_NOTE, 'the note with <script> is literal text');
  const dom = await page.evaluate(() => ({
    scripts: [...document.querySelectorAll('script')].map((s) => s.getAttribute('src')),
    imgs: [...document.querySelectorAll('img')].map((i) => i.getAttribute('src') ?? ''),
    bold: document.querySelectorAll('.thread b').length,
    svg: document.querySelectorAll('svg, object, embed, iframe').length,
  }));
  t.same(dom.scripts, ['desk.js'], 'no script element was made from the note');
  t.equal(dom.bold, 0, 'no element was made from the note’s markup');
  t.equal(dom.imgs.length, 1, 'exactly one image: the re-encoded PNG');
  t.match(dom.imgs[0], /\/files\/0\/image$/, 'shown from the desk app’s re-encoded image');
  t.equal(dom.svg, 0, 'no svg, object, embed or iframe');
  const svgFile = await page.$$eval('.file', (files, n) => files.filter((f) => f.querySelector('.file-name')?.textContent === n).map((f) => ({ img: f.querySelectorAll('img').length, save: f.querySelector('a')?.getAttribute('href') ?? '', warned: f.querySelector('.warning')?.textContent ?? '' })), SVG_NAME);
  t.same(svgFile.map((f) => f.img), [0], 'the SVG (with a script) is not rendered as an image');
  t.match(svgFile[0]?.save, /\/files\/3\/download$/, 'only saved to disk');
  t.match(svgFile[0]?.warned, /tracking or exploits.*offline machine/, 'after the warning');
  await page.waitForFunction(() => document.querySelector('.file-text')?.textContent?.includes('payee'));
  t.equal(await page.$eval('.file-text', (e) => e.tagName), 'PRE', 'a text file is shown as text in a <pre>');
  t.match(await page.$eval('.reply-as', (e) => e.textContent), /The source will see this from: Investigations desk/, 'the reply box names the desk');
  await page.type('.reply textarea', 'Thanks — which months?');
  await page.click('.reply .actions button');
  await page.waitForFunction(() => [...document.querySelectorAll('.reply-item pre')].some((e) => e.textContent === 'Thanks — which months?'));
  t.same(posts(fx, 'reply').at(-1)?.body, { text: 'Thanks — which months?' }, 'a reply is posted and shown in the thread');
  t.match(await page.$eval('.message', (e) => getComputedStyle(e).whiteSpace), /pre/, 'messages keep their line breaks');

  // Sync, and its answer in the live region.
  await page.click('button.sync');
  await page.waitForFunction(() => document.querySelector('.live')?.textContent?.includes('Sync done'));
  t.equal(posts(fx, 'sync').length, 1, 'the sync button posts api/sync');

  // Delete: the dialog, then the request.
  await page.click('.controls button.danger');
  await page.waitForSelector('dialog[open]');
  await page.click('dialog[open] button.danger');
  await page.waitForFunction(() => document.querySelectorAll('button.thread-row').length === 2);
  t.ok(fx.requests.some((r) => r.method === 'DELETE' && /^api\/threads\/Ab/.test(r.path)), 'delete asks, then sends DELETE');

  t.same(dialogs, [], 'no alert or other dialog fired');
  // data: URLs never leave the browser (Chromium's own date-picker icon is one); everything else must be ours.
  const foreign = urls.filter((u) => !u.startsWith(`${fx.origin}/`) && !u.startsWith('data:'));
  t.same(foreign, [], `every request went to ${fx.origin} (${urls.length} requests)`);
  await page.close();
}

async function keyboard(t: Test, browser: Browser): Promise<void> {
  const fx = await deskFixture();
  t.teardown(() => fx.close());
  const { page } = await openPage(browser, fx);
  const active = () => page.evaluate(() => {
    const a = document.activeElement as HTMLElement | null;
    return a ? `${a.tagName}${a.id ? `#${a.id}` : ''}${a.getAttribute('type') ? `[${a.getAttribute('type')}]` : ''}.${a.className}` : '';
  });
  const tabUntil = async (re: RegExp, max = 40): Promise<number> => {
    for (let i = 1; i <= max; i++) {
      await page.keyboard.press('Tab');
      if (re.test(await active())) return i;
    }
    return -1;
  };
  t.ok((await tabUntil(/INPUT.*\[search\]/)) > 0, 'Tab reaches the search box');
  t.ok((await tabUntil(/BUTTON.*thread-row/)) > 0, 'Tab reaches a thread');
  await page.keyboard.press('Enter');
  await page.waitForSelector('.thread');
  t.ok((await tabUntil(/SELECT#thread-status/)) > 0, 'Tab reaches the status select');
  const outline = await page.evaluate(() => getComputedStyle(document.activeElement!).outlineStyle);
  t.not(outline, 'none', 'the focused control shows a focus ring');
  await page.close();
}

async function accessibility(t: Test, browser: Browser): Promise<void> {
  const fx = await deskFixture();
  t.teardown(() => fx.close());
  for (const lang of ['en', 'es', 'de']) {
    const { page } = await openPage(browser, fx, lang);
    t.equal(await page.evaluate(() => document.documentElement.lang), lang, `${lang}: the page says its language`);
    t.same(await axe(page), [], `${lang}: axe-core finds nothing on the inbox`);
    await page.click('button.thread-row[data-thread^="Ab"]');
    await page.waitForSelector('.thread img.preview');
    t.same(await axe(page), [], `${lang}: axe-core finds nothing on a thread with files`);
    await page.click('button.thread-row[data-thread^="tip:ccc"]');
    await page.waitForSelector('.note .versions');
    t.same(await axe(page), [], `${lang}: axe-core finds nothing on a note conflict`);
    await page.click('.controls button.danger');
    await page.waitForSelector('dialog[open]');
    t.same(await axe(page), [], `${lang}: axe-core finds nothing with the delete dialog open`);
    await page.close();
  }
}

for (const [name, path] of [['chromium', CHROMIUM], ['firefox', FIREFOX]] as const) {
  t.test(`desk page in ${name}`, { skip: browserSkip(path, name === 'firefox' ? 'Firefox ESR' : 'Chromium'), timeout: 400_000 }, async (t) => {
    const browser = name === 'firefox' ? await launchFirefox({}, { width: 1440, height: 900 }) : await launchChromium({ width: 1440, height: 900 });
    t.teardown(() => browser.close());
    t.comment(`${name} ${await browser.version()}`);
    await t.test('inbox, filters, controls, hostile content, requests', (t) => flow(t, browser));
    await t.test('keyboard', (t) => keyboard(t, browser));
    await t.test('axe-core in en, es, de', (t) => accessibility(t, browser));
  });
}
