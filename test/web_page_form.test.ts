// The form as a source uses it: files added by drag and drop and by the picker, sizes shown, one removed;
// the "preparing" (proof-of-work) and sending states shown in words; nothing stored in the browser.
import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dialects } from './helpers/databases.js';
import { newsroomServer } from './helpers/setup.js';
import { readTip } from './helpers/tips.js';
import { browserSkip, launchChromium, CHROMIUM } from './helpers/browser.js';

const [pglite] = await dialects();

t.test('drag and drop, picker, remove, states in words, nothing stored', { skip: browserSkip(CHROMIUM, 'Chromium') }, async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'tipline-form-'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));
  // A harder proof-of-work than in other tests, so the "preparing" state is on screen long enough to see.
  const { server, newsroom } = await newsroomServer(t, pglite!, { powDifficulty: 11 });
  const browser = await launchChromium();
  t.teardown(() => browser.close());
  const page = await browser.newPage();
  await page.goto(`${server.url}/de/`, { waitUntil: 'load' });
  await page.waitForSelector('#tip-form:not([hidden])');

  // Record every status text the page shows.
  await page.evaluate(() => {
    const seen: string[] = [];
    (window as unknown as { seen: string[] }).seen = seen;
    new MutationObserver(() => seen.push(document.getElementById('status')!.textContent ?? '')).observe(document.getElementById('status')!, { childList: true, characterData: true, subtree: true });
  });

  await page.evaluate(() => {
    const dt = new DataTransfer();
    dt.items.add(new File(['dropped one'], 'gedroppt.txt', { type: 'text/plain' }));
    dt.items.add(new File(['to be removed'], 'weg damit.txt', { type: 'text/plain' }));
    document.getElementById('drop')!.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
  });
  const picked = join(work, 'gewählt.csv');
  writeFileSync(picked, 'a,b\n1,2\n');
  await (await page.$('input#files'))!.uploadFile(picked);
  await page.waitForFunction(() => document.querySelectorAll('#file-list li').length === 3);
  t.match(await page.$eval('#total', (e) => e.textContent ?? ''), /^Gesamt: \d+\u00a0B$/, 'the total is shown, in German');
  await page.click('#file-list li:nth-child(2) button');
  await page.waitForFunction(() => document.querySelectorAll('#file-list li').length === 2);
  t.notMatch(await page.$eval('#file-list', (e) => e.textContent ?? ''), /weg damit/, 'the removed file is gone from the list');
  t.equal(await page.evaluate(() => document.activeElement?.id), 'files', 'focus returns to the file picker');

  await page.type('#message', 'Hinweis mit zwei Dateien');
  await page.click('#send');
  await page.waitForSelector('#receipt:not([hidden])', { timeout: 120_000 });
  const seen = await page.evaluate(() => (window as unknown as { seen: string[] }).seen);
  t.ok(seen.some((s) => /Vorbereitung/.test(s)), 'the "preparing" state was shown');
  t.ok(seen.some((s) => /Verschlüsseln und senden/.test(s)), 'the sending state was shown');
  t.equal(await page.evaluate(() => document.activeElement?.id), 'receipt', 'focus moves to the receipt');

  const stored = await page.evaluate(async () => ({
    cookie: document.cookie,
    local: localStorage.length,
    session: sessionStorage.length,
    idb: (await indexedDB.databases()).length,
    caches: 'caches' in window ? (await caches.keys()).length : 0,
  }));
  t.same(stored, { cookie: '', local: 0, session: 0, idb: 0, caches: 0 }, 'no cookie, no storage of any kind');

  const id = await page.$eval('#receipt-id', (e) => e.textContent ?? '');
  const tip = await readTip(server.staffUrl, newsroom.desk, id);
  t.equal(tip.message, 'Hinweis mit zwei Dateien');
  t.same(tip.files.map((f) => [f.name, f.bytes.toString()]), [['gedroppt.txt', 'dropped one'], ['gewählt.csv', 'a,b\n1,2\n']], 'the dropped and the picked file, not the removed one');
});
