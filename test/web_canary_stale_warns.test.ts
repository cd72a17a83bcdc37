// What the page says when the documents are not what they should be, in Firefox ESR at Tor Browser's "Safer": a
// canary past its expiry raises a plain warning (role=alert) naming the day it was last signed; no canary says
// that none is published; a policy whose signature is corrupted (served by a proxy in front of the real server,
// since the server itself refuses to publish it) is said to be unverifiable, and none of its numbers shows.
import t from 'tap';
import type { Page } from 'puppeteer-core';
import { browserSkip, launchFirefox, FIREFOX, SAFER_PREFS, SCREENSHOTS } from './helpers/browser.js';
import { tamperingProxy } from './helpers/loopback-proxies.js';
import { DAY, newsroomKeys, serveKeys, writeCanary, writePolicy } from './helpers/policy-docs.js';
import { verifyCanary } from '../crypto/canary.js';

const skip = browserSkip(FIREFOX, 'Firefox ESR');

async function load(page: Page, url: string): Promise<void> {
  await page.goto(url, { waitUntil: 'load' });
  await page.waitForSelector('#policy-summary:not([hidden]), #policy-problem:not([hidden])', { timeout: 120_000 });
  await page.waitForSelector('#canary:not([hidden]), #canary-alert:not([hidden])');
}

const shown = (page: Page, sel: string) => page.$eval(sel, (e) => ((e as HTMLElement).hidden ? '' : (e.textContent ?? '')));

t.test('a stale canary warns plainly', { skip, timeout: 300_000 }, async (t) => {
  const keys = await newsroomKeys(t);
  // Signed 20 days ago for 10 days: stale for 10 days now.
  const doc = writeCanary(keys, new Date(Date.now() - 20 * DAY), 10);
  const v = verifyCanary(doc, keys.fingerprint, new Date());
  t.ok(v.stale, 'the canary written is stale');
  const server = await serveKeys(t, keys);
  const browser = await launchFirefox(SAFER_PREFS);
  t.teardown(() => browser.close());
  const page = await browser.newPage();

  for (const [path, words, month] of [
    ['/', /^⚠ The newsroom’s warrant canary has not been renewed since (.+)\. That may mean it received an order it cannot talk about\. Consider whether to send your tip\.$/, 'en'],
    ['/de/', /^⚠ Der Warrant Canary der Redaktion wurde seit dem (.+) nicht erneuert\./, 'de'],
  ] as const) {
    await load(page, `${server.url}${path}`);
    const alert = await shown(page, '#canary-alert');
    const m = words.exec(alert);
    t.ok(m, `${path}: the warning: "${alert}"`);
    const day = new Intl.DateTimeFormat(month, { dateStyle: 'long', timeZone: 'UTC' }).format(new Date(`${v.canary.issued.slice(0, 10)}T12:00:00Z`));
    t.equal(m?.[1], day, `${path}: naming the day it was signed`);
    t.equal(await page.$eval('#canary-alert', (e) => e.getAttribute('role')), 'alert', `${path}: as an alert`);
    t.equal(await shown(page, '#canary'), '', `${path}: and no line saying all is well`);
    t.match(await shown(page, '#policy-summary'), /30/, `${path}: the policy still shows (the default 30 days)`);
    if (path === '/') await page.screenshot({ path: `${SCREENSHOTS}/firefox-safer-canary-stale-en-1280x800.png`, fullPage: true });
  }
});

t.test('no canary, and a policy whose signature is corrupted', { skip, timeout: 300_000 }, async (t) => {
  const keys = await newsroomKeys(t);
  const policy = writePolicy(keys, { tips_days: 12, replies_days: 12 });
  const server = await serveKeys(t, keys, { TIPLINE_RETENTION_DAYS: '12' });
  const browser = await launchFirefox(SAFER_PREFS);
  t.teardown(() => browser.close());
  const page = await browser.newPage();

  await load(page, `${server.url}/`);
  t.equal(await shown(page, '#canary'), 'This tip line publishes no warrant canary.', 'no canary: said so');
  t.equal(await shown(page, '#canary-alert'), '', 'without an alarm');
  t.match(await shown(page, '#policy-summary'), /deletes tips 12 days after they arrive/, 'the genuine policy shows its 12 days');

  // The same policy with one character of its signature changed, served in place of the real one.
  const corrupted = { ...policy, signature: policy.signature.replace(/^./, (c) => (c === 'A' ? 'B' : 'A')) };
  const proxy = await tamperingProxy(server.url, [{ method: 'GET', path: /^\/\.well-known\/tipline\/policy$/, status: 200, json: corrupted }]);
  t.teardown(() => proxy.close());
  await load(page, `${proxy.url}/`);
  t.same(proxy.answered, ['GET /.well-known/tipline/policy'], 'the proxy served the corrupted policy');
  t.match(await shown(page, '#policy-problem'), /The retention policy could not be verified/, 'said plainly');
  t.equal(await shown(page, '#policy-summary'), '', 'no summary');
  t.equal(await page.$eval('#policy-details', (e) => (e as HTMLElement).hidden), true, 'no details');
  const body = await page.$eval('main', (e) => (e as HTMLElement).innerText);
  t.notMatch(body, /\b12 days\b|\b12\b(?![-\d])/, 'the unverified 12 appears nowhere');
  await page.screenshot({ path: `${SCREENSHOTS}/firefox-safer-policy-unverified-en-1280x800.png`, fullPage: true });
});
