// The page under the conditions a source may be in: JavaScript off (Tor Browser "Safest"), no crypto.subtle
// (some onion browsers do not treat .onion as a secure context), a directory that does not verify or has
// expired (refuse to encrypt), and photos with GPS metadata (stripped unless the source says otherwise).
import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'puppeteer-core';
import { dialects } from './helpers/databases.js';
import { newsroomServer } from './helpers/setup.js';
import { makeNewsroom } from './helpers/fixtures.js';
import { readTip } from './helpers/tips.js';
import { browserSkip, launchFirefox, FIREFOX, CHROMIUM, SAFER_PREFS, SAFEST_PREFS, SCREENSHOTS } from './helpers/browser.js';
import puppeteer from 'puppeteer-core';

const [pglite] = await dialects();
const work = mkdtempSync(join(tmpdir(), 'tipline-webc-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));

async function record(page: Page): Promise<string[]> {
  const requests: string[] = [];
  page.on('request', (r) => {
    requests.push(`${r.method()} ${r.url()}`);
  });
  return requests;
}

async function submitMessage(page: Page, url: string, text: string, files: string[] = [], strip = true): Promise<string> {
  await page.goto(url, { waitUntil: 'load' });
  await page.waitForSelector('#tip-form:not([hidden])');
  await page.type('#message', text);
  if (files.length > 0) await (await page.$('input#files'))!.uploadFile(...files);
  if (!strip) await page.click('#strip');
  await page.click('#send');
  await page.waitForSelector('#receipt:not([hidden]), #error:not([hidden])', { timeout: 120_000 });
  const error = await page.$eval('#error', (e) => ((e as HTMLElement).hidden ? '' : (e.textContent ?? '')));
  if (error) throw new Error(`page error: ${error}`);
  return page.$eval('#receipt-id', (e) => e.textContent ?? '');
}

t.test('JavaScript off ("Safest"): the page explains, offers the command line, and posts nothing', { skip: browserSkip(FIREFOX, 'Firefox ESR') }, async (t) => {
  const { server } = await newsroomServer(t, pglite!);
  const browser = await launchFirefox(SAFEST_PREFS);
  t.teardown(() => browser.close());
  for (const [path, pattern, wholeBrowser] of [
    ['/', /JavaScript is needed to encrypt/, /applies to the whole browser/],
    ['/es/', /Se necesita JavaScript/, /se aplica a todo el navegador/],
    ['/de/', /wird JavaScript benötigt/, /gilt für den ganzen Browser/],
  ] as const) {
    const page = await browser.newPage();
    const requests = await record(page);
    await page.goto(server.url + path, { waitUntil: 'load' });
    const text = await page.evaluate(() => document.body.innerText);
    t.match(text, pattern, `${path}: the explanation is shown`);
    t.match(text, /tipline submit/, `${path}: the command-line route is offered`);
    const fp = await page.$eval('#fingerprint', (e) => e.textContent ?? '');
    const command = await page.$eval('.noscript pre code', (e) => e.textContent ?? '');
    t.match(fp, /^[a-z2-7]{4}( [a-z2-7]{4})+$/i, `${path}: the fingerprint is on the page`);
    t.ok(command.includes(`--fingerprint "${fp}"`), `${path}: the command carries the real fingerprint, not a placeholder`);
    t.match(command, /--file /, `${path}: the command shows how to attach a file`);
    t.match(text, /Node\.js/, `${path}: it says how to get tipline`);
    t.match(text, wholeBrowser, `${path}: the security level is said to apply to the whole browser`);
    t.notMatch(text, /WebAssembly|JIT|this site only|solo para este sitio|nur für diese Seite/, `${path}: no jargon, no "this site only"`);
    t.equal(await page.$eval('#tip-form', (e) => (e as HTMLElement).hidden), true, `${path}: the form stays hidden`);
    t.same(requests.filter((r) => !r.startsWith('GET ')), [], `${path}: nothing is posted`);
    await page.screenshot({ path: `${SCREENSHOTS}/firefox-safest${path.replaceAll('/', '-')}noscript-1280x800.png` });
    await page.close();
  }
});

t.test('without crypto.subtle (an insecure context) the page refuses in words and sends nothing', { skip: browserSkip(CHROMIUM, 'Chromium') }, async (t) => {
  const { server, store } = await newsroomServer(t, pglite!);
  const port = new URL(server.url).port;
  // A host name other than 127.0.0.1/localhost over plain http is not a secure context: no crypto.subtle, and so
  // no PBKDF2 proof-of-work (PROTOCOL.md §Proof of work). Tor Browser has crypto.subtle on .onion at every level.
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--host-resolver-rules=MAP tipline.test 127.0.0.1'],
  });
  t.teardown(() => browser.close());
  const page = await browser.newPage();
  const requests: string[] = [];
  page.on('request', (r) => {
    requests.push(`${r.method()} ${decodeURIComponent(r.url())} ${r.postData() ?? ''}`);
  });
  const secret = 'must never leave the page in the clear';
  await page.goto(`http://tipline.test:${port}/`, { waitUntil: 'load' });
  t.same(await page.evaluate(() => [isSecureContext, typeof crypto.subtle]), [false, 'undefined'], 'no secure context, no crypto.subtle');
  await page.waitForSelector('#tip-form:not([hidden])');
  await page.type('#message', secret);
  await page.click('#send');
  await page.waitForSelector('#receipt:not([hidden]), #error:not([hidden])', { timeout: 120_000 });
  t.equal(await page.$eval('#receipt', (e) => (e as HTMLElement).hidden), true, 'no receipt');
  const error = await page.$eval('#error', (e) => e.textContent ?? '');
  t.match(error, /WebCrypto|crypto\.subtle/, 'the page says in words why it cannot send');
  t.notMatch(error, new RegExp(secret), 'the message is not echoed into the error');
  t.same(requests.filter((r) => !r.startsWith('GET ')), [], 'nothing was posted');
  t.notOk(requests.some((r) => r.includes(secret)), 'the message never left the page in the clear');
  t.equal((await store.db.selectFrom('uploads').select('id').execute()).length, 0, 'no upload stored');
  t.equal((await store.db.selectFrom('tips').select('id').execute()).length, 0, 'no tip stored');
});

function refusalTest(name: string, arrange: (db: Awaited<ReturnType<typeof newsroomServer>>) => Promise<void>, pattern: RegExp) {
  t.test(name, { skip: browserSkip(FIREFOX, 'Firefox ESR') }, async (t) => {
    // Pinned, as production should be: the page announces the newsroom's real fingerprint.
    const setup = await newsroomServer(t, pglite!, {}, { pinRoot: true });
    await arrange(setup);
    const browser: Browser = await launchFirefox(SAFER_PREFS);
    t.teardown(() => browser.close());
    const page = await browser.newPage();
    const requests = await record(page);
    await page.goto(`${setup.server.url}/`, { waitUntil: 'load' });
    await page.waitForSelector('#tip-form:not([hidden])');
    await page.type('#message', 'must never be sent');
    await page.click('#send');
    await page.waitForSelector('#error:not([hidden])', { timeout: 60_000 });
    t.match(await page.$eval('#error', (e) => e.textContent ?? ''), pattern);
    t.same(requests.filter((r) => !r.startsWith('GET ')), [], 'nothing was posted');
    t.equal((await setup.store.db.selectFrom('tips').select('id').execute()).length, 0, 'no tip stored');
    t.equal((await setup.store.db.selectFrom('uploads').select('id').execute()).length, 0, 'no upload opened');
  });
}

refusalTest(
  'a directory re-signed by another key is refused (the page checks the fingerprint it shows)',
  async ({ store }) => {
    const other = makeNewsroom();
    // The page announces the real fingerprint, but the directory in the database is someone else's.
    await store.db.updateTable('documents').set({ body: JSON.stringify(other.doc) }).where('kind', '=', 'directory').execute();
  },
  /could not be verified/,
);

refusalTest(
  'an expired directory is refused',
  async ({ store, newsroom }) => {
    const { signNewsroomDirectory, recipientOf } = await import('./helpers/fixtures.js');
    const past = new Date(Date.now() - 10 * 86_400_000);
    const { certifySigner } = await import('../crypto/directory.js');
    // A certificate from before `past`, so that the only thing wrong is the directory's own expiry.
    const certificate = certifySigner(newsroom.signer.publicKey, new Date(past.getTime() - 5 * 86_400_000), new Date(past.getTime() + 60 * 86_400_000), newsroom.root);
    const expired = signNewsroomDirectory({ signer: newsroom.signer, certificate }, [recipientOf('desk-a', 'desk', newsroom.desk, past)], { now: past, days: 1 });
    await store.db.updateTable('documents').set({ body: JSON.stringify(expired) }).where('kind', '=', 'directory').execute();
  },
  /expired/,
);

// A tiny JPEG made by the browser, then given an EXIF segment with GPS tags as a camera would write it.
function exifApp1(): Buffer {
  const tiff = Buffer.concat([
    Buffer.from('MM\u0000\u002a\u0000\u0000\u0000\u0008', 'latin1'),
    Buffer.from([0x00, 0x01, 0x88, 0x25, 0x00, 0x04, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x1a, 0x00, 0x00, 0x00, 0x00]), // IFD0: GPSInfo pointer
    Buffer.from('GPS-MARKER 52.5163N 13.3777E CAMERA-SERIAL-4711', 'latin1'),
  ]);
  const body = Buffer.concat([Buffer.from('Exif\u0000\u0000', 'latin1'), tiff]);
  const len = Buffer.alloc(2);
  len.writeUInt16BE(body.length + 2);
  return Buffer.concat([Buffer.from([0xff, 0xe1]), len, body]);
}

t.test('a JPEG with GPS EXIF arrives without it; the original when the source unticks the box', { skip: browserSkip(FIREFOX, 'Firefox ESR') }, async (t) => {
  const { server, newsroom } = await newsroomServer(t, pglite!);
  const browser = await launchFirefox(SAFER_PREFS);
  t.teardown(() => browser.close());
  const page = await browser.newPage();
  await page.goto(`${server.url}/`, { waitUntil: 'load' });
  const jpegB64 = await page.evaluate(() => {
    const c = document.createElement('canvas');
    c.width = 8;
    c.height = 8;
    const g = c.getContext('2d')!;
    g.fillStyle = '#c33';
    g.fillRect(0, 0, 8, 8);
    return c.toDataURL('image/jpeg', 0.9).split(',')[1]!;
  });
  const plain = Buffer.from(jpegB64, 'base64');
  t.equal(plain[0], 0xff);
  const withGps = Buffer.concat([plain.subarray(0, 2), exifApp1(), plain.subarray(2)]);
  const photo = join(work, 'IMG_2041.jpg');
  writeFileSync(photo, withGps);

  const strippedId = await submitMessage(page, `${server.url}/`, 'photo, cleaned', [photo]);
  const stripped = (await readTip(server.staffUrl, newsroom.desk, strippedId)).files[0]!;
  t.equal(stripped.name, 'IMG_2041.jpg');
  t.notOk(stripped.bytes.includes(Buffer.from('GPS-MARKER')), 'the GPS tag is gone');
  t.notOk(stripped.bytes.includes(Buffer.from('Exif\u0000', 'latin1')), 'the whole EXIF segment is gone');
  t.equal(stripped.bytes[0], 0xff, 'still a JPEG');
  t.ok(stripped.bytes.subarray(stripped.bytes.length - 2).equals(Buffer.from([0xff, 0xd9])), 'ends with the image data intact');
  t.ok(withGps.includes(stripped.bytes.subarray(stripped.bytes.indexOf(Buffer.from([0xff, 0xda])))), 'the image data is byte-identical');

  const originalId = await submitMessage(page, `${server.url}/`, 'photo, as it is', [photo], false);
  const original = (await readTip(server.staffUrl, newsroom.desk, originalId)).files[0]!;
  t.ok(original.bytes.equals(withGps), 'unticked: the original is sent byte for byte');

  // A photo the stripper cannot walk (a stray byte between segments) is not sent with its metadata.
  const odd = join(work, 'IMG_ODD.jpg');
  const afterExif = 2 + exifApp1().length;
  writeFileSync(odd, Buffer.concat([withGps.subarray(0, afterExif), Buffer.from([0x00]), withGps.subarray(afterExif)]));
  const before = (await listTipIds()).length;
  await page.goto(`${server.url}/`, { waitUntil: 'load' });
  await page.waitForSelector('#tip-form:not([hidden])');
  await page.type('#message', 'odd photo');
  await (await page.$('input#files'))!.uploadFile(odd);
  await page.click('#send');
  await page.waitForSelector('#error:not([hidden])', { timeout: 60_000 });
  t.match(await page.$eval('#error', (e) => e.textContent ?? ''), /IMG_ODD\.jpg.*could not be removed.*not sent/, 'the page names the photo and says it was not sent');
  t.equal((await listTipIds()).length, before, 'nothing was stored');
  await page.click('#strip');
  await page.click('#send');
  await page.waitForSelector('#receipt:not([hidden])', { timeout: 60_000 });
  t.equal((await listTipIds()).length, before + 1, 'unticked, the source can send it as it is');

  async function listTipIds() {
    const { listTips } = await import('./helpers/tips.js');
    return listTips(server.staffUrl, newsroom.desk);
  }
});
