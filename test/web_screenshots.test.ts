// Screenshots of every step of the source's page — form, file listed, sending, receipt, error, the codename of a
// tip that asks for replies, a mistyped codename at "I have a codename", and the page with JavaScript off — at
// 1280×800 and 390×844, in Firefox ESR at Tor Browser's "Safer" and in Chromium (light and dark), saved under test-output/screenshots/ to be looked at. Each step also asserts what must be on
// screen and that nothing scrolls sideways on a phone.
//
// The "sending" step is a real submit held mid-upload: a small proxy in front of the server holds the second
// chunk until the screenshot is taken, so the step is caught every time without racing the upload.
import t, { type Test } from 'tap';
import { writeFileSync } from 'node:fs';
import { request as httpRequest, createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Browser, Page } from 'puppeteer-core';

import { cliNewsroomServer } from './helpers/setup.js';
import { browserSkip, launchChromium, launchFirefox, FIREFOX, CHROMIUM, SAFER_PREFS, SAFEST_PREFS, SCREENSHOTS as SHOTS } from './helpers/browser.js';
import { initCrypto } from '../crypto/node.js';

await initCrypto();

const { work, server } = await cliNewsroomServer(t);

// The proxy: passes everything through, except that while `hold` is set, the second chunk of an upload waits.
let hold: Promise<void> | undefined;
let release: () => void = () => {};
function holdUploads(): void {
  hold = new Promise((r) => (release = r));
}
function releaseUploads(): void {
  hold = undefined;
  release();
}
const backend = new URL(server.url);
const proxy = createServer((req: IncomingMessage, res: ServerResponse) => {
  const forward = () => {
    const up = httpRequest({ host: backend.hostname, port: backend.port, method: req.method, path: req.url, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  };
  const waiting = hold;
  if (waiting && req.method === 'PUT' && /\/chunks\/1(\?|$)/.test(req.url ?? '')) void waiting.then(forward);
  else forward();
});
await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
t.teardown(() => {
  releaseUploads();
  proxy.closeAllConnections();
  return new Promise<void>((r) => proxy.close(() => r()));
});
const url = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;

// Three chunks of upload, with a long name to show how the list wraps.
const file = join(work, 'Datenanforderung-Behörde-2024-03-15-vollständige-Liste-aller-Konten-final-v2.pdf');
writeFileSync(file, randomBytes(2_500_000));

const SIZES = [
  { width: 1280, height: 800 },
  { width: 390, height: 844 },
];

interface Target {
  slug: string;
  name: string;
  skip: string | false;
  launch: (size: { width: number; height: number }) => Promise<Browser>;
  dark?: boolean;
}
const TARGETS: Target[] = [
  { slug: 'firefox-safer', name: 'Firefox ESR at "Safer"', skip: browserSkip(FIREFOX, 'Firefox ESR'), launch: (size) => launchFirefox(SAFER_PREFS, size) },
  { slug: 'chromium', name: 'Chromium', skip: browserSkip(CHROMIUM, 'Chromium'), launch: (size) => launchChromium(size) },
  { slug: 'chromium-dark', name: 'Chromium in dark mode', skip: browserSkip(CHROMIUM, 'Chromium'), launch: (size) => launchChromium(size), dark: true },
];

async function shot(t: Test, page: Page, name: string, width: number): Promise<void> {
  await page.screenshot({ path: `${SHOTS}/${name}.png` as `${string}.png`, fullPage: true });
  const m = await page.evaluate(() => ({ inner: window.innerWidth, scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth }));
  t.equal(m.inner, width, `${name}: the viewport is ${width} px wide`);
  // clientWidth leaves out a classic vertical scrollbar (Firefox on Linux draws one): nothing may overflow it.
  t.ok(m.scroll <= m.client && m.scroll <= width, `${name}: no horizontal scrolling (scrollWidth ${m.scroll}, clientWidth ${m.client}, viewport ${width})`);
}

/** On screen: not inside anything hidden, with a size, and not scrolled off sideways. */
const visible = (page: Page, sel: string) =>
  page.$eval(sel, (e) => {
    const r = e.getBoundingClientRect();
    return !e.closest('[hidden]') && r.width > 0 && r.height > 0 && r.left >= 0 && r.right <= document.documentElement.clientWidth + 1;
  });

for (const target of TARGETS) {
  for (const size of SIZES) {
    const dim = `${size.width}x${size.height}`;
    t.test(`${target.name} at ${dim}: every step`, { skip: target.skip, timeout: 300_000 }, async (t) => {
      const browser = await target.launch(size);
      t.teardown(() => browser.close());
      const page = await browser.newPage();
      await page.setViewport(size); // a headless Firefox window will not go below ~450 px: set the viewport itself
      if (target.dark) await page.emulateMediaFeatures([{ name: 'prefers-color-scheme', value: 'dark' }]);
      const base = `${target.slug}-${dim}`;

      await page.goto(`${url}/`, { waitUntil: 'load' });
      await page.waitForSelector('#tip-form:not([hidden])');
      for (const sel of ['#message', '#files', '#strip', '#send', '#fingerprint']) t.ok(await visible(page, sel), `1: ${sel} on screen`);
      await shot(t, page, `${base}-1-form-empty`, size.width);

      await page.type('#message', 'The agency demanded the names behind every account that criticised it, with no court order.');
      await (await page.$('input#files'))!.uploadFile(file);
      await page.waitForSelector('#file-list li');
      t.ok(await visible(page, '#file-list li button'), '2: the remove button is on screen');
      t.ok(await visible(page, '#total'), '2: the total is on screen');
      t.match(await page.$eval('#file-list', (e) => e.textContent ?? ''), /2[.,]5\u00a0MB/, '2: the file is listed with its size');
      await shot(t, page, `${base}-2-file-added`, size.width);

      holdUploads();
      await page.click('#send');
      await page.waitForFunction(() => (document.getElementById('progress') as HTMLProgressElement).value > 0, { timeout: 240_000 });
      t.ok(await visible(page, '#progress'), '3: the progress bar is on screen');
      t.ok(await page.$eval('#send', (e) => (e as HTMLButtonElement).disabled), '3: the send button is disabled while sending');
      t.match(await page.$eval('#progress-text', (e) => e.textContent ?? ''), /B \/ .*MB/, '3: bytes sent and total are shown');
      await shot(t, page, `${base}-3-sending`, size.width);
      releaseUploads();

      await page.waitForSelector('#receipt:not([hidden])', { timeout: 240_000 });
      t.match(await page.$eval('#receipt-id', (e) => e.textContent ?? ''), /^[a-z2-7]{26}$/, '4: the receipt shows the tip id');
      t.ok(await visible(page, '#receipt-id'), '4: the tip id fits on screen');
      t.ok(await visible(page, '#again'), '4: "send another" is on screen');
      await shot(t, page, `${base}-4-receipt`, size.width);

      await page.click('#again');
      await page.waitForSelector('#tip-form:not([hidden])');
      await page.click('#send');
      await page.waitForSelector('#error:not([hidden])');
      t.ok(await visible(page, '#error'), '5: the error is on screen');
      await shot(t, page, `${base}-5-error`, size.width);

      // 7. A tip that asks for replies: its codename, large, with the advice, before anything is sent.
      await page.type('#message', 'A tip that asks for replies.');
      t.notOk(await visible(page, '#error'), '7: typing a message cleared the error');
      await page.click('#want-replies');
      await page.click('#send');
      await page.waitForFunction(() => document.querySelectorAll('#codename-words li').length === 9, { timeout: 120_000 });
      t.ok(await visible(page, '#codename-words li:last-child'), '7: every word of the codename is on screen');
      t.ok(await visible(page, '#codename-written'), '7: "I have written it down" is on screen');
      await shot(t, page, `${base}-7-codename`, size.width);
      await page.click('#codename-cancel');

      // 8. "I have a codename", mistyped: said so, naming the word.
      await page.type('#codename', 'these are surely not the nine words wanted');
      await page.click('#check');
      await page.waitForSelector('#visit-error:not([hidden])', { timeout: 120_000 });
      t.ok(await visible(page, '#visit-error'), '8: the mistyped codename is reported on screen');
      await shot(t, page, `${base}-8-codename-mistyped`, size.width);
    });
  }
}

// Spanish and German run longer than English: the form with a file listed, on a phone.
t.test('Spanish and German on a phone', { skip: browserSkip(CHROMIUM, 'Chromium'), timeout: 120_000 }, async (t) => {
  const size = SIZES[1]!;
  const browser = await launchChromium(size);
  t.teardown(() => browser.close());
  for (const lang of ['es', 'de']) {
    const page = await browser.newPage();
    await page.goto(`${url}/${lang}/`, { waitUntil: 'load' });
    await page.waitForSelector('#tip-form:not([hidden])');
    await (await page.$('input#files'))!.uploadFile(file);
    await page.waitForSelector('#file-list li');
    for (const sel of ['#files', '#file-list li button', '#strip', '#send']) t.ok(await visible(page, sel), `${lang}: ${sel} on screen`);
    await shot(t, page, `chromium-${size.width}x${size.height}-2-file-added-${lang}`, size.width);
    await page.close();
  }
});

for (const size of SIZES) {
  const dim = `${size.width}x${size.height}`;
  t.test(`Firefox ESR with JavaScript off at ${dim}`, { skip: browserSkip(FIREFOX, 'Firefox ESR'), timeout: 120_000 }, async (t) => {
    const browser = await launchFirefox(SAFEST_PREFS, size);
    t.teardown(() => browser.close());
    const page = await browser.newPage();
    await page.setViewport(size);
    const posts: string[] = [];
    page.on('request', (r) => {
      if (r.method() !== 'GET') posts.push(`${r.method()} ${r.url()}`);
    });
    for (const path of ['/', '/de/']) {
      await page.goto(`${url}${path}`, { waitUntil: 'load' });
      t.ok(await visible(page, '.noscript'), `${path}: the explanation shows`);
      t.ok(await visible(page, '.noscript code'), `${path}: the command line fits on screen`);
      t.notOk(await visible(page, '#message'), `${path}: the form stays hidden`);
      await shot(t, page, `firefox-safest-${dim}-6-javascript-off${path === '/' ? '' : `-${path.slice(1, -1)}`}`, size.width);
    }
    t.same(posts, [], 'nothing is posted');
  });
}
