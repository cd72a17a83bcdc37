// Accessibility of the source's page: axe-core on every language page, in light and dark mode, in each state
// (form, file listed, error, receipt; a codename shown, refused, mistyped); keyboard-only use (Tab order, visible
// focus); a name on every control; nothing said by colour alone (the error carries "✗", the receipt "✓").
import t, { type Test } from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Browser, ElementHandle, Page } from 'puppeteer-core';
import { dialects } from './helpers/databases.js';
import { cliNewsroomServer } from './helpers/setup.js';
import { startServer } from './helpers/server.js';
import { browserSkip, launchChromium, launchFirefox, FIREFOX, CHROMIUM, SAFER_PREFS } from './helpers/browser.js';
import { initCrypto } from '../crypto/node.js';

await initCrypto();
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const PAGES = ['/', '/es/', '/de/'];

const { work, server } = await cliNewsroomServer(t);
const [pglite] = await dialects();

interface Violation {
  id: string;
  impact: string | null;
  help: string;
  nodes: string[];
}

/** Injects axe-core (page.evaluate is not subject to the page's CSP) and runs it on the whole document. */
async function axe(page: Page): Promise<Violation[]> {
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(AXE);
  return page.evaluate(async () => {
    const w = window as unknown as { axe: { run(ctx: Document, o: object): Promise<{ violations: { id: string; impact: string | null; help: string; nodes: { target: unknown[] }[] }[] }> } };
    const r = await w.axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => JSON.stringify(n.target)) }));
  });
}

async function checkAxe(t: Test, page: Page, what: string): Promise<void> {
  const found = await axe(page);
  for (const v of found) t.comment(`${what}: axe ${v.impact}: ${v.id} — ${v.help} — ${v.nodes.join(' ')}`);
  const bad = found.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  t.same(bad.map((v) => `${v.id} (${v.impact}) at ${v.nodes.join(' ')}`), [], `${what}: no serious or critical axe violation`);
}

const visible = (page: Page, sel: string) =>
  page.$eval(sel, (e) => {
    const r = e.getBoundingClientRect();
    return !(e as HTMLElement).closest('[hidden]') && r.width > 0 && r.height > 0 && getComputedStyle(e).visibility !== 'hidden';
  });

/** Shows the receipt as the page does after a tip lands (the real path is covered by web_page_submit). */
const revealReceipt = (page: Page) =>
  page.evaluate(() => {
    document.getElementById('tip-form')!.hidden = true;
    document.getElementById('receipt-id')!.textContent = 'abcdefghijklmnopqrstuvwxyz'.slice(0, 26);
    document.getElementById('receipt-day')!.textContent = '2025-01-31';
    document.getElementById('receipt-expires')!.textContent = '2025-03-02';
    document.getElementById('receipt')!.hidden = false;
  });

const chromiumSkip = browserSkip(CHROMIUM, 'Chromium');

t.test('axe-core finds no serious or critical violation on any language page, in any state', { skip: chromiumSkip, timeout: 300_000 }, async (t) => {
  const browser = await launchChromium();
  t.teardown(() => browser.close());
  const fixture = join(work, 'report.pdf');
  writeFileSync(fixture, 'not really a pdf');
  for (const scheme of ['light', 'dark'] as const) {
    for (const path of PAGES) {
      const page = await browser.newPage();
      await page.emulateMediaFeatures([{ name: 'prefers-color-scheme', value: scheme }]);
      await page.goto(`${server.url}${path}`, { waitUntil: 'load' });
      await page.waitForSelector('#tip-form:not([hidden])');
      await page.evaluate(AXE);
      t.equal(await page.evaluate(() => typeof (window as unknown as { axe?: { run?: unknown } }).axe?.run), 'function', `${path} ${scheme}: axe-core injected despite the CSP`);
      await checkAxe(t, page, `${path} ${scheme} form`);

      await (await page.$('input#files'))!.uploadFile(fixture);
      await page.waitForSelector('#file-list li button');
      await checkAxe(t, page, `${path} ${scheme} file listed`);

      await page.evaluate(() => {
        (document.getElementById('message') as HTMLTextAreaElement).value = '';
        (document.querySelector('#file-list button') as HTMLButtonElement).click();
      });
      await page.click('#send');
      await page.waitForSelector('#error:not([hidden])');
      t.ok(await visible(page, '#error'), `${path} ${scheme}: the error shows`);
      t.match(await page.$eval('#error', (e) => getComputedStyle(e, '::before').content), /✗/, `${path}: the error is marked "✗", not by colour alone`);
      await checkAxe(t, page, `${path} ${scheme} error`);

      await revealReceipt(page);
      t.ok(await visible(page, '#receipt'), `${path} ${scheme}: the receipt shows`);
      t.match(await page.$eval('#receipt-title', (e) => e.textContent ?? ''), /^✓ /, `${path}: the receipt is marked "✓", not by colour alone`);
      await checkAxe(t, page, `${path} ${scheme} receipt`);
      await page.close();
    }
  }
});

t.test('axe-core on the codename states: a fresh codename shown, a mistyped codename, in every language', { skip: chromiumSkip, timeout: 300_000 }, async (t) => {
  const browser = await launchChromium();
  t.teardown(() => browser.close());
  for (const path of PAGES) {
    const page = await browser.newPage();
    await page.goto(`${server.url}${path}`, { waitUntil: 'load' });
    await page.waitForSelector('#tip-form:not([hidden])');
    await page.type('#message', 'x');
    await page.click('#want-replies');
    await page.click('#send');
    await page.waitForFunction(() => document.querySelectorAll('#codename-words li').length === 9, { timeout: 120_000 });
    t.equal(await page.evaluate(() => document.activeElement?.id), 'codename-box', `${path}: focus moves to the codename`);
    await checkAxe(t, page, `${path} codename shown`);
    await page.click('#codename-written');
    await page.type('#codename-confirm', 'abandon');
    await page.click('#codename-send');
    await page.waitForSelector('#codename-error:not([hidden])');
    await checkAxe(t, page, `${path} codename copy refused`);
    await page.click('#codename-cancel');
    await page.type('#codename', 'not a codename');
    await page.click('#check');
    await page.waitForSelector('#visit-error:not([hidden])', { timeout: 120_000 });
    t.match(await page.$eval('#visit-error', (e) => getComputedStyle(e, '::before').content), /✗/, `${path}: the mistyped codename is marked "✗"`);
    await checkAxe(t, page, `${path} codename mistyped`);
    await page.close();
  }
});

t.test('every control has an accessible name', { skip: chromiumSkip, timeout: 120_000 }, async (t) => {
  const browser = await launchChromium();
  t.teardown(() => browser.close());
  const fixture = join(work, 'photo.jpg');
  writeFileSync(fixture, 'x');
  for (const path of PAGES) {
    const page = await browser.newPage();
    await page.goto(`${server.url}${path}`, { waitUntil: 'load' });
    await page.waitForSelector('#tip-form:not([hidden])');
    await (await page.$('input#files'))!.uploadFile(fixture);
    await page.waitForSelector('#file-list li button');
    const named = async (c: ElementHandle<Element>) => {
      const id = await c.evaluate((e) => `${e.tagName.toLowerCase()}${e.id ? `#${e.id}` : ''}${e.getAttribute('type') ? `[type=${e.getAttribute('type')}]` : ''}`);
      const node = await page.accessibility.snapshot({ root: c, interestingOnly: false });
      t.ok((node?.name ?? '').trim().length > 1, `${path} ${id} has an accessible name: "${node?.name ?? ''}"`);
    };
    // Every control on screen, then the receipt's link with the receipt shown.
    let n = 0;
    for (const c of await page.$$('input, textarea, button, select, a[href]')) {
      if (await c.evaluate((e) => !e.closest('[hidden]'))) {
        await named(c);
        n++;
      }
    }
    t.ok(n >= 8, `${path}: ${n} controls on screen`);
    await revealReceipt(page);
    await named((await page.$('#again'))!);
    await page.close();
  }
});

const EXPECTED_ORDER = ['a[hreflang=en]', 'a[hreflang=es]', 'a[hreflang=de]', 'a#returning-link', 'textarea#message', 'input#files', 'input#strip', 'input#want-replies', 'button#send'];

async function tabThrough(t: Test, page: Page, label: string): Promise<void> {
  const order: string[] = [];
  for (let i = 0; i < 20 && order.at(-1) !== 'button#send'; i++) {
    await page.keyboard.press('Tab');
    const f = await page.evaluate(() => {
      const e = document.activeElement as HTMLElement | null;
      if (!e || e === document.body) return null;
      const cs = getComputedStyle(e);
      const sel = `${e.tagName.toLowerCase()}${e.getAttribute('hreflang') ? `[hreflang=${e.getAttribute('hreflang')}]` : ''}${e.id ? `#${e.id}` : ''}`;
      return { sel, outline: cs.outlineStyle, outlineWidth: parseFloat(cs.outlineWidth), shadow: cs.boxShadow };
    });
    if (!f) continue;
    order.push(f.sel);
    const shows = (f.outline !== 'none' && f.outlineWidth >= 2) || (f.shadow !== 'none' && f.shadow !== '');
    t.ok(shows, `${label}: ${f.sel} shows focus (outline ${f.outline} ${f.outlineWidth}px, box-shadow ${f.shadow})`);
  }
  t.same(order, EXPECTED_ORDER, `${label}: Tab reaches the language links, "I have a codename", the message, the files, the strip option, the replies choice and the send button in order`);
}

const keyboardBrowsers: { name: string; skip: string | false; launch: () => Promise<Browser> }[] = [
  { name: 'Chromium', skip: chromiumSkip, launch: () => launchChromium() },
  { name: 'Firefox ESR at "Safer"', skip: browserSkip(FIREFOX, 'Firefox ESR'), launch: () => launchFirefox(SAFER_PREFS) },
];

for (const b of keyboardBrowsers) {
  t.test(`keyboard only in ${b.name}: Tab order and visible focus`, { skip: b.skip, timeout: 180_000 }, async (t) => {
    const browser = await b.launch();
    t.teardown(() => browser.close());
    for (const path of PAGES) {
      const page = await browser.newPage();
      await page.goto(`${server.url}${path}`, { waitUntil: 'load' });
      await page.waitForSelector('#tip-form:not([hidden])');
      await tabThrough(t, page, `${b.name} ${path}`);
      // Enter on the send button with nothing written: the error shows, with its "✗".
      await page.keyboard.press('Enter');
      await page.waitForSelector('#error:not([hidden])');
      t.match(await page.$eval('#error', (e) => getComputedStyle(e, '::before').content), /✗/, `${b.name} ${path}: the error is marked "✗"`);
      await page.close();
    }
  });
}

t.test('with no newsroom keys yet, the "not set up" notice stands on its own (no form, no error)', { skip: chromiumSkip, timeout: 120_000 }, async (t) => {
  const bare = await pglite!.open();
  t.teardown(() => bare.drop());
  const empty = await startServer({ db: bare.db, powDifficulty: 10 });
  t.teardown(() => empty.close());
  const browser = await launchChromium();
  t.teardown(() => browser.close());
  for (const path of PAGES) {
    const page = await browser.newPage();
    await page.goto(`${empty.url}${path}`, { waitUntil: 'load' });
    await page.waitForSelector('#not-ready:not([hidden])');
    t.ok(await visible(page, '#not-ready h2'), `${path}: the notice is on screen although the form is not`);
    t.notOk(await visible(page, '#message'), `${path}: the form stays hidden`);
    t.equal(await page.$eval('#error', (e) => (e as HTMLElement).hidden), true, `${path}: no error: nothing is wrong, it is only not set up`);
    await checkAxe(t, page, `${path} no keys`);
    await page.close();
  }
});
