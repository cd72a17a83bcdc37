// Screenshots of every view of the desk app's page — inbox, thread with files, note conflict, reply box, delete
// dialog, empty inbox, a thread in German — at 1440×900 and 1280×720, in Chromium and Firefox ESR, saved under
// test-output/screenshots/desk/ to be looked at. Each step also asserts what must be on screen, and that the page
// never scrolls sideways.
import t, { type Test } from 'tap';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'puppeteer-core';
import { browserSkip, launchChromium, launchFirefox, FIREFOX, CHROMIUM, SCREENSHOTS } from './helpers/browser.js';
import { deskFixture, type DeskFixture } from './helpers/desk-fixture.js';

const SHOTS = join(SCREENSHOTS, 'desk');
mkdirSync(SHOTS, { recursive: true });
const SIZES = [
  { width: 1440, height: 900 },
  { width: 1280, height: 720 },
];

async function noSideways(t: Test, page: Page, what: string): Promise<void> {
  const { sw, cw } = await page.evaluate(() => ({ sw: document.documentElement.scrollWidth, cw: document.documentElement.clientWidth }));
  t.ok(sw <= cw, `${what}: nothing scrolls sideways (${sw} <= ${cw})`);
}

async function shoot(t: Test, page: Page, name: string): Promise<void> {
  await new Promise((r) => setTimeout(r, 150));
  await noSideways(t, page, name);
  await page.screenshot({ path: join(SHOTS, `${name}.png`) as `${string}.png` });
}

async function views(t: Test, browser: Browser, tag: string, fx: DeskFixture, empty: DeskFixture): Promise<void> {
  const page = await browser.newPage();
  await page.goto(`${fx.url}?lang=en`);
  await page.waitForSelector('button.thread-row');
  t.equal(await page.$$eval('button.thread-row', (b) => b.length), 3, `${tag}: inbox lists 3 threads`);
  await shoot(t, page, `${tag}-inbox`);

  await page.click('button.thread-row[data-thread^="Ab"]');
  await page.waitForSelector('.thread img.preview');
  await page.waitForFunction(() => document.querySelector('.file-text')?.textContent?.includes('payee'));
  await page.waitForFunction(() => [...document.querySelectorAll<HTMLImageElement>('img.preview')].every((i) => i.complete && i.naturalWidth > 0));
  t.ok(await page.$eval('.thread h2', (e) => e.textContent?.includes('water utility')), `${tag}: thread view shows the title`);
  await shoot(t, page, `${tag}-thread-files`);

  await page.$eval('.thread .files', (e) => e.scrollIntoView());
  await shoot(t, page, `${tag}-thread-files-list`);

  await page.$eval('.thread .reply', (e) => e.scrollIntoView());
  t.match(await page.$eval('.reply-as', (e) => e.textContent), /The source will see this from: Investigations desk/, `${tag}: the reply box names the desk`);
  await page.type('.reply textarea', 'Thank you. Could you send the April invoices too?');
  await shoot(t, page, `${tag}-reply`);

  await page.click('button.thread-row[data-thread^="tip:ccc"]');
  await page.waitForSelector('.note .versions');
  await page.$eval('.thread .note', (e) => e.scrollIntoView());
  t.equal(await page.$$eval('.note .versions > li', (l) => l.length), 2, `${tag}: both concurrent note versions shown`);
  await shoot(t, page, `${tag}-note-conflict`);

  await page.$eval('.thread h2', (e) => e.scrollIntoView());
  await page.click('.controls button.danger');
  await page.waitForSelector('dialog[open]');
  t.match(await page.$eval('dialog[open]', (e) => e.textContent), /on the server \(the deletion is audited\) and on this machine/, `${tag}: the dialog says where it deletes`);
  await shoot(t, page, `${tag}-delete-dialog`);
  await page.close();

  const ep = await browser.newPage();
  await ep.goto(`${empty.url}?lang=en`);
  await ep.waitForSelector('.threads .empty');
  await shoot(t, ep, `${tag}-empty-inbox`);
  await ep.close();

  // German, the longest strings: the thread view with its controls.
  const de = await browser.newPage();
  await de.goto(`${fx.url}?lang=de`);
  await de.waitForSelector('button.thread-row');
  await de.click('button.thread-row[data-thread^="tip:ccc"]');
  await de.waitForSelector('.note .versions');
  t.equal(await de.$eval('.controls button.danger', (e) => e.textContent), 'Vorgang löschen', `${tag}: German strings`);
  await shoot(t, de, `${tag}-thread-de`);
  await de.close();
}

for (const [name, path] of [['chromium', CHROMIUM], ['firefox', FIREFOX]] as const) {
  t.test(`screenshots in ${name}`, { skip: browserSkip(path, name === 'firefox' ? 'Firefox ESR' : 'Chromium'), timeout: 400_000 }, async (t) => {
    const fx = await deskFixture();
    const empty = await deskFixture({ empty: true });
    t.teardown(() => Promise.all([fx.close(), empty.close()]));
    for (const size of SIZES) {
      const browser = name === 'firefox' ? await launchFirefox({}, size) : await launchChromium(size);
      try {
        await views(t, browser, `${name}-${size.width}x${size.height}`, fx, empty);
      } finally {
        await browser.close();
      }
    }
  });
}
