// A source submits through the web page in real browsers — Firefox ESR with Tor Browser's "Safer" prefs
// (no WebAssembly, no JIT: everything interpreted) and Chromium — a message and a 20 MB file; `tipline fetch`
// decrypts byte-identical content. No request leaves for another origin.
import t from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import type { Browser, Page } from 'puppeteer-core';
import { runCli } from './helpers/cli.js';
import { cliNewsroomServer } from './helpers/setup.js';
import { browserSkip, launchChromium, launchFirefox, FIREFOX, CHROMIUM, SAFER_PREFS, SCREENSHOTS as SHOTS } from './helpers/browser.js';
import { initCrypto } from '../crypto/node.js';
import { tipFolder } from '../client/cli/inbox.js';

await initCrypto();

const { work, keys, fingerprint, server } = await cliNewsroomServer(t);

const bigPath = join(work, 'leaked-demand-20MB.bin');
const big = randomBytes(20 * 1024 * 1024);
writeFileSync(bigPath, big);
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

async function shot(page: Page, name: string) {
  await page.screenshot({ path: `${SHOTS}/${name}.png` as `${string}.png`, fullPage: true });
}

const sent: { tipId: string; message: string; browser: string }[] = [];

const BROWSERS: { name: string; slug: string; skip: string | false; launch: () => Promise<Browser>; safer: boolean }[] = [
  { name: 'Firefox ESR at Tor Browser "Safer"', slug: 'firefox-safer', skip: browserSkip(FIREFOX, 'Firefox ESR'), launch: () => launchFirefox(SAFER_PREFS), safer: true },
  { name: 'Firefox ESR at Tor Browser "Standard"', slug: 'firefox-standard', skip: browserSkip(FIREFOX, 'Firefox ESR'), launch: () => launchFirefox(), safer: false },
  { name: 'Chromium at default settings', slug: 'chromium', skip: browserSkip(CHROMIUM, 'Chromium'), launch: () => launchChromium(), safer: false },
];

for (const b of BROWSERS) {
  t.test(`submit a message and a 20 MB file from ${b.name}`, { skip: b.skip, timeout: 600_000 }, async (t) => {
    const browser = await b.launch();
    t.teardown(() => browser.close());
    const page = await browser.newPage();
    const requests: string[] = [];
    page.on('request', (r) => {
      requests.push(`${r.method()} ${r.url()}`);
    });
    await page.goto(`${server.url}/`, { waitUntil: 'load' });
    if (b.safer) {
      t.equal(await page.evaluate(() => typeof WebAssembly), 'undefined', 'WebAssembly is off, as at "Safer"');
    }
    await page.waitForSelector('#tip-form:not([hidden])');
    t.equal(await page.$eval('#fingerprint', (e) => e.textContent), fingerprint, 'the page shows the root fingerprint');
    await shot(page, `${b.slug}-1-form-1280x800`);

    const message = `A tip from ${b.name}: the agency demanded every account that criticised it. ${Date.now()}`;
    await page.type('#message', message);
    const input = await page.$('input#files');
    await input!.uploadFile(bigPath);
    await page.waitForFunction(() => document.querySelectorAll('#file-list li').length === 1);
    t.match(await page.$eval('#file-list', (e) => e.textContent), /leaked-demand-20MB\.bin — 21\.0\u00a0MB/);
    await shot(page, `${b.slug}-2-file-added-1280x800`);

    await page.click('#send');
    await page.waitForSelector('#progress-box:not([hidden])');
    await shot(page, `${b.slug}-3-sending-1280x800`);
    await page.waitForSelector('#receipt:not([hidden])', { timeout: 480_000 });
    await shot(page, `${b.slug}-4-receipt-1280x800`);
    const tipId = await page.$eval('#receipt-id', (e) => e.textContent ?? '');
    t.match(tipId, /^[a-z2-7]{26}$/, 'the receipt shows the tip id');
    t.match(await page.$eval('#receipt-day', (e) => e.getAttribute('datetime') ?? ''), /^\d{4}-\d{2}-\d{2}$/, 'the receipt has the day it arrived');
    t.match(await page.$eval('#receipt-day', (e) => e.textContent ?? ''), /^[A-Z][a-z]+ \d{1,2}, \d{4}$/, 'shown as the page writes dates ("November 26, 2026")');
    t.match(await page.$eval('#receipt', (e) => (e as HTMLElement).innerText), /cannot answer you/, 'without a codename, the receipt says the newsroom cannot answer');
    sent.push({ tipId, message, browser: b.slug });

    const foreign = requests.filter((r) => !r.split(' ')[1]!.startsWith(`${server.url}/`));
    t.same(foreign, [], 'no request left for another origin');
    t.ok(requests.some((r) => r.startsWith('PUT ') && r.includes('?finish=1')), 'the upload finished from the page');
    t.notOk(requests.some((r) => r.startsWith('POST') && r.endsWith(`${server.url}/`)), 'the form itself never posts');
  });
}

t.test('tipline fetch decrypts what the browsers sent, byte for byte', { skip: BROWSERS.every((b) => b.skip) ? 'no browser' : false }, async (t) => {
  const out = join(work, 'inbox');
  const r = await runCli(['fetch', '--server', server.staffUrl, '--key', join(keys, 'desk.key'), '--out', out], { timeoutMs: 300_000 });
  t.equal(r.code, 0, r.stderr);
  for (const s of sent) {
    t.equal(readFileSync(join(tipFolder(out, s.tipId)!, 'message.txt'), 'utf8'), s.message, `${s.browser}: message`);
    t.equal(sha(readFileSync(join(tipFolder(out, s.tipId)!, 'files', 'leaked-demand-20MB.bin'))), sha(big), `${s.browser}: the 20 MB file is identical`);
  }
  t.equal(sent.length, BROWSERS.filter((b) => !b.skip).length);
});
