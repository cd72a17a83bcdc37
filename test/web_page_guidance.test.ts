// What the page tells a source before and while sending, in Firefox ESR at Tor Browser's "Safer": an error
// goes away as soon as its cause is fixed (a message typed, a file added); files whose type may carry hidden
// details past the page are named one by one (a PDF, an office document, a photo once its cleaning is turned
// off); the page says file names are sent; "preparing" (the proof-of-work) shows a moving band and the seconds so
// far against the usual wait.
import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dialects } from './helpers/databases.js';
import { newsroomServer } from './helpers/setup.js';
import { browserSkip, launchFirefox, FIREFOX, SAFER_PREFS, SCREENSHOTS } from './helpers/browser.js';

const [pglite] = await dialects();

const hidden = (sel: string) => `document.querySelector('${sel}').hidden`;

t.test('errors clear when fixed, risky files named, preparing shown as working', { skip: browserSkip(FIREFOX, 'Firefox ESR'), timeout: 300_000 }, async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'tipline-guide-'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));
  // The default base difficulty: "preparing" lasts as long as it would for a source.
  const { server } = await newsroomServer(t, pglite!, { powDifficulty: 11 });
  const browser = await launchFirefox(SAFER_PREFS);
  t.teardown(() => browser.close());
  const page = await browser.newPage();
  await page.goto(`${server.url}/`, { waitUntil: 'load' });
  await page.waitForSelector('#tip-form:not([hidden])');
  t.match(await page.$eval('#files-help', (e) => e.textContent ?? ''), /File names are sent too/, 'the page says file names are sent');

  // An error, then its cause fixed by typing: it goes at once.
  await page.click('#send');
  await page.waitForSelector('#error:not([hidden])');
  await page.type('#message', 'x');
  t.equal(await page.evaluate(hidden('#error')), true, 'typing a message clears "write a message first"');
  await page.$eval('#message', (e) => ((e as HTMLTextAreaElement).value = ''));
  await page.click('#send');
  await page.waitForSelector('#error:not([hidden])');
  const names = ['report.pdf', 'memo.docx', 'IMG_2041.jpg', 'notes.txt', 'budget.ods'];
  for (const n of names) writeFileSync(join(work, n), `not really ${n}`);
  await (await page.$('input#files'))!.uploadFile(...names.map((n) => join(work, n)));
  await page.waitForFunction(() => document.querySelectorAll('#file-list li').length === 5);
  t.equal(await page.evaluate(hidden('#error')), true, 'adding a file clears it too');

  // The risky files, by name, before sending.
  const risky = async () => page.$eval('#risky', (e) => ((e as HTMLElement).hidden ? '' : (e as HTMLElement).innerText));
  let text = await risky();
  t.match(text, /“report\.pdf” — PDF/, 'the PDF is named');
  t.match(text, /“memo\.docx” — office document/, 'the Word document is named');
  t.match(text, /“budget\.ods” — office document/, 'the ODF spreadsheet is named');
  t.notMatch(text, /IMG_2041/, 'a photo that will be cleaned is not');
  t.notMatch(text, /notes\.txt/, 'nor a text file');
  await page.click('#strip');
  text = await risky();
  t.match(text, /“IMG_2041\.jpg” — photo that will be sent as it is/, 'the photo is named once its cleaning is turned off');
  await page.screenshot({ path: `${SCREENSHOTS}/firefox-safer-risky-files-1280x800.png`, fullPage: true });
  await page.click('#strip');
  t.notMatch(await risky(), /IMG_2041/, 'and no longer once it is on again');
  for (let i = 0; i < 2; i++) await page.click('#file-list li:first-child button');
  t.notMatch(await risky(), /report\.pdf|memo\.docx/, 'removed files are no longer named');

  // Preparing: what the page says while the proof-of-work runs.
  await page.evaluate(() => {
    const seen: { status: string; detail: string; busy: boolean }[] = [];
    (window as unknown as { seen: typeof seen }).seen = seen;
    const record = () =>
      seen.push({ status: document.getElementById('status')!.textContent ?? '', detail: document.getElementById('progress-text')!.textContent ?? '', busy: !document.getElementById('busy')!.hidden });
    const o = new MutationObserver(record);
    for (const id of ['status', 'progress-text']) o.observe(document.getElementById(id)!, { childList: true, characterData: true, subtree: true });
  });
  await page.type('#message', 'a tip to watch being prepared');
  await page.click('#send');
  await page.waitForSelector('#receipt:not([hidden]), #error:not([hidden])', { timeout: 240_000 });
  t.equal(await page.evaluate(hidden('#error')), true, 'sent');
  const seen = await page.evaluate(() => (window as unknown as { seen: { status: string; detail: string; busy: boolean }[] }).seen);
  const preparing = seen.filter((s) => /^Preparing/.test(s.status) && s.detail !== '');
  t.ok(preparing.length > 0, 'the preparing state had a line under it');
  t.match(preparing[0]?.detail ?? '', /^\d+ s so far; this usually takes about \d+ s\.$/, `elapsed and the usual time: "${preparing[0]?.detail}"`);
  t.ok(preparing.every((s) => s.busy), 'with the moving band, not an empty bar');
  t.comment(`preparing lines seen: ${[...new Set(preparing.map((s) => s.detail))].join(' | ')}`);
});
