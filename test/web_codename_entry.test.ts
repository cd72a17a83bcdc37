// "I have a codename" at Tor Browser's "Safer", in Firefox ESR: a mistyped codename is reported as mistyped,
// naming the word (or saying the words do not fit together); a valid codename with no replies says so kindly,
// in every language; one with more replies than a visit fetches shows the first and says more are waiting.
// Either way the page makes the same visit: the same requests, with bodies of the same sizes, so the server
// cannot tell them apart.
import t from 'tap';
import { request as httpRequest, createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Page } from 'puppeteer-core';
import { dialects } from './helpers/databases.js';
import { newsroomServer } from './helpers/setup.js';
import { browserSkip, launchFirefox, FIREFOX, SAFER_PREFS, SCREENSHOTS } from './helpers/browser.js';
import { generateCodename, deriveCodenameKeys } from '../crypto/codename.js';
import { initCrypto } from '../crypto/node.js';
import { sealReply } from '../crypto/reply.js';
import { makeReplyTag } from '../crypto/reply-tags.js';
import { signStaffRequest } from '../crypto/staff-request.js';
import { toBase64, toBase64Url, utf8Encode } from '../crypto/bytes.js';
import { REPLY_FETCH_SLOTS } from '../schema/wire.js';

await initCrypto();
const [pglite] = await dialects();

/** What the server sees of each API request: method, path, request and answer body sizes. A proxy in front of
 * the server records it (Firefox's remote protocol does not give request bodies). */
let seen: string[] | undefined;
async function recordingProxy(target: string): Promise<{ url: string; close(): Promise<void> }> {
  const backend = new URL(target);
  const proxy = createServer((req: IncomingMessage, res: ServerResponse) => {
    let sent = 0;
    req.on('data', (c: Buffer) => (sent += c.length));
    const up = httpRequest({ host: backend.hostname, port: backend.port, method: req.method, path: req.url, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      let got = 0;
      r.on('data', (c: Buffer) => (got += c.length));
      r.on('end', () => {
        const path = new URL(req.url ?? '/', 'http://x').pathname;
        if (path.startsWith('/api/') || path.startsWith('/.well-known/')) seen?.push(`${req.method} ${path} sent ${sent} got ${r.headers['content-encoding'] ?? ''}${got}`);
      });
      r.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`,
    close: () => {
      proxy.closeAllConnections();
      return new Promise<void>((r) => proxy.close(() => r()));
    },
  };
}

/** Enters a codename as typed and checks; returns what the page then says and the requests the visit made. */
async function visit(page: Page, url: string, typed: string): Promise<{ error: string; status: string; followup: boolean; requests: string[] }> {
  await page.goto(url, { waitUntil: 'load' });
  await page.waitForSelector('#returning-top:not([hidden])');
  await page.click('#returning-link');
  await page.waitForFunction(() => document.activeElement?.id === 'codename');
  await page.type('#codename', typed);
  // The worker loads while the page is idle: wait for it, so only the visit's requests are recorded.
  await new Promise((r) => setTimeout(r, 1500));
  const requests: string[] = [];
  seen = requests;
  await page.click('#check');
  // The button is disabled while the visit runs (from the click on): enabled again, the visit is over.
  await page.waitForFunction(() => !(document.getElementById('check') as HTMLButtonElement).disabled, { timeout: 120_000 });
  seen = undefined;
  return {
    error: await page.$eval('#visit-error', (e) => ((e as HTMLElement).hidden ? '' : (e.textContent ?? ''))),
    status: await page.$eval('#visit-status', (e) => e.textContent ?? ''),
    followup: await page.$eval('#followup', (e) => !(e as HTMLElement).hidden),
    requests: requests.sort(),
  };
}

t.test('mistyped codenames are named as mistyped; a valid one with no replies is told so kindly', { skip: browserSkip(FIREFOX, 'Firefox ESR'), timeout: 600_000 }, async (t) => {
  const { server: direct, newsroom } = await newsroomServer(t, pglite!);
  const server = await recordingProxy(direct.url);
  t.teardown(() => server.close());
  const browser = await launchFirefox(SAFER_PREFS);
  t.teardown(() => browser.close());
  const page = await browser.newPage();
  const words = generateCodename().words;

  const unknown = [...words];
  unknown[2] = 'zzzz';
  const a = await visit(page, `${server.url}/`, unknown.join(' '));
  t.match(a.error, /mistyped/, 'a word that is not a codename word: reported as mistyped');
  t.match(a.error, /word 3 \(“zzzz”\)/, 'naming the word and where it is');
  t.equal(a.followup, false, 'no follow-up form for a mistyped codename');
  await page.screenshot({ path: `${SCREENSHOTS}/firefox-safer-codename-entry-mistyped-1280x800.png`, fullPage: true });

  const swapped = [...words];
  [swapped[0], swapped[1]] = [swapped[1]!, swapped[0]!];
  const b = await visit(page, `${server.url}/`, swapped.join(' '));
  if (swapped[0] !== words[0]) t.match(b.error, /do not fit together/, 'two words swapped: the check word says it is mistyped');

  const c = await visit(page, `${server.url}/`, words.slice(0, 8).join(' '));
  t.match(c.error, /9 words, and you typed 8/, 'a word missing: says how many there are');

  const ok = await visit(page, `${server.url}/`, `  ${words.join('-').toUpperCase()} `);
  t.equal(ok.error, '', 'the codename (dashes, capitals, spaces) is accepted');
  t.match(ok.status, /No replies yet/, 'no replies: said kindly');
  t.match(ok.status, /come back later|Come back later/i, 'with what to do next');
  t.equal(ok.followup, true, 'the follow-up form is offered');
  await page.screenshot({ path: `${SCREENSHOTS}/firefox-safer-codename-entry-no-replies-1280x800.png`, fullPage: true });

  // The server sees the same visit whatever was typed.
  t.ok(ok.requests.some((r) => r.startsWith('GET /api/v1/replies ')), `the list of tags was fetched: ${ok.requests.join(', ')}`);
  t.ok(ok.requests.some((r) => r.startsWith('POST /api/v1/replies/fetch ')), 'envelopes were fetched');
  for (const [name, other] of [['unknown word', a], ['swapped', b], ['count', c]] as const) t.same(other.requests, ok.requests, `${name}: the same requests, with bodies of the same sizes`);

  // More replies than one visit fetches: the first ones shown, and "more are waiting".
  const keys = await deriveCodenameKeys(generateCodename(), newsroom.fingerprint);
  const many = generateCodename();
  const manyKeys = await deriveCodenameKeys(many, newsroom.fingerprint);
  for (let i = 0; i < REPLY_FETCH_SLOTS + 1; i++) {
    // Another source's reply too, so the list is not only this codename's.
    const batch: [typeof keys, string][] = [[manyKeys, `reply ${i}`], ...(i === 0 ? ([[keys, 'for someone else']] as [typeof keys, string][]) : [])];
    for (const [k, text] of batch) {
      const sealed = await sealReply({ toBoxKey: k.boxPublic, message: text, desk: newsroom.desk, now: new Date() });
      const body = utf8Encode(JSON.stringify({ tag: toBase64Url(await makeReplyTag(k.tagKey)), delete_hash: toBase64Url(sealed.deleteHash), envelope: toBase64(sealed.envelope) }));
      const path = '/api/v1/staff/replies';
      const headers = signStaffRequest({ host: new URL(direct.staffUrl).host, method: 'POST', pathAndQuery: path, body, contentType: 'application/json', timestamp: Math.floor(Date.now() / 1000), nonce: crypto.getRandomValues(new Uint8Array(16)) }, newsroom.desk.signSecret);
      const res = await fetch(direct.staffUrl + path, { method: 'POST', headers, body: body as BodyInit });
      t.equal(res.status, 201, 'a reply is posted');
    }
  }
  const more = await visit(page, `${server.url}/`, many.words.join(' '));
  await page.screenshot({ path: `${SCREENSHOTS}/firefox-safer-codename-entry-more-waiting-1280x800.png`, fullPage: true });
  const listed = await page.$$eval('#reply-list .reply-text', (els) => els.map((e) => e.textContent ?? ''));
  t.equal(listed.length, REPLY_FETCH_SLOTS, `one visit shows ${REPLY_FETCH_SLOTS} replies`);
  t.ok(listed.every((x) => /^reply \d$/.test(x)), 'all of them this codename\'s');
  t.ok(await page.$eval('#replies-more', (e) => !(e as HTMLElement).hidden), '"more are waiting" is said');
  // The list of tags is everyone's, so it grew with the replies: compared with a visit that finds none now.
  const noneNow = await visit(page, `${server.url}/`, words.join(' '));
  t.match(noneNow.status, /No replies yet/);
  t.same(more.requests, noneNow.requests, 'a visit that finds replies: the same requests and sizes as one that finds none');
  const mistypedNow = await visit(page, `${server.url}/`, unknown.join(' '));
  t.same(mistypedNow.requests, noneNow.requests, 'and as a mistyped one');

  for (const [path, none] of [['/es/', /Todavía no hay respuestas/], ['/de/', /Noch keine Antworten/]] as const) {
    const r = await visit(page, `${server.url}${path}`, words.join(' '));
    t.match(r.status, none, `${path}: no replies, in its language`);
    const m = await visit(page, `${server.url}${path}`, unknown.join(' '));
    t.match(m.error, /zzzz/, `${path}: the mistyped word is named`);
  }
});
