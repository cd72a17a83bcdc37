// The source's page shows the newsroom's signed retention policy and warrant canary in plain words, in English,
// Spanish and German, in Firefox ESR at Tor Browser's "Safer": the retention days of the signed policy (an unusual
// 12, so it cannot be a default), the canary's days, what is stored and who holds which keys; axe-core finds no
// serious or critical violation with the details open; the two documents cost two requests, fetched once each.
import t from 'tap';
import type { Test } from 'tap';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Page } from 'puppeteer-core';
import { browserSkip, launchFirefox, FIREFOX, SAFER_PREFS, SCREENSHOTS } from './helpers/browser.js';
import { newsroomKeys, serveKeys, writeCanary, writePolicy } from './helpers/policy-docs.js';
import { DEFAULT_KEYS } from '../crypto/policy.js';
import { verifyCanary } from '../crypto/canary.js';

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** axe-core on the whole document (injected by page.evaluate, which the page's CSP does not govern). */
async function checkAxe(t: Test, page: Page, what: string): Promise<void> {
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(AXE);
  const found = await page.evaluate(async () => {
    const w = window as unknown as { axe: { run(ctx: Document, o: object): Promise<{ violations: { id: string; impact: string | null; help: string; nodes: { target: unknown[] }[] }[] }> } };
    const r = await w.axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => JSON.stringify(n.target)) }));
  });
  for (const v of found) t.comment(`${what}: axe ${v.impact}: ${v.id} — ${v.help} — ${v.nodes.join(' ')}`);
  const bad = found.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  t.same(bad.map((v) => `${v.id} (${v.impact}) at ${v.nodes.join(' ')}`), [], `${what}: no serious or critical axe violation`);
}

const LANGS = [
  { path: '/', lang: 'en', days: /deletes tips 12 days after they arrive, and replies 12 days after they are sent, whether or not they were read\. It keeps no address, browser details or exact times\./, tips: 'your tip, encrypted; the day it arrived; its size' },
  { path: '/es/', lang: 'es', days: /borra la información 12 días después de que llega, y las respuestas 12 días después de enviarse/, tips: 'su información, cifrada; el día en que llegó; su tamaño' },
  { path: '/de/', lang: 'de', days: /löscht Hinweise 12 Tage nach ihrem Eingang und Antworten 12 Tage nach dem Versand/, tips: 'Ihr Hinweis, verschlüsselt; der Tag des Eingangs; seine Größe' },
];

t.test('the signed policy and canary in plain words, in every language', { skip: browserSkip(FIREFOX, 'Firefox ESR'), timeout: 300_000 }, async (t) => {
  const keys = await newsroomKeys(t);
  // Replies the same 12 days: the server's configured retention (TIPLINE_RETENTION_DAYS) covers both.
  writePolicy(keys, { tips_days: 12, replies_days: 12, uploads_hours: 5 });
  const canaryDoc = writeCanary(keys, new Date(), 9);
  const { canary } = verifyCanary(canaryDoc, keys.fingerprint, new Date());
  const issuedDay = canary.issued.slice(0, 10);
  const expiresDay = canary.expires.slice(0, 10);
  const server = await serveKeys(t, keys, { TIPLINE_RETENTION_DAYS: '12' });

  const browser = await launchFirefox(SAFER_PREFS);
  t.teardown(() => browser.close());
  const page = await browser.newPage();
  const requests: string[] = [];
  page.on('request', (r) => void requests.push(`${r.method()} ${new URL(r.url()).pathname}`));

  for (const l of LANGS) {
    requests.length = 0;
    await page.goto(`${server.url}${l.path}`, { waitUntil: 'load' });
    await page.waitForSelector('#policy-summary:not([hidden]), #policy-problem:not([hidden])', { timeout: 120_000 });
    await page.waitForSelector('#canary:not([hidden]), #canary-alert:not([hidden])');
    const text = (sel: string) => page.$eval(sel, (e) => ((e as HTMLElement).hidden ? '' : (e.textContent ?? '')));
    t.match(await text('#policy-summary'), l.days, `${l.lang}: the signed retention, 12 days, in words`);
    t.equal(await text('#policy-problem'), '', `${l.lang}: no problem reported`);
    t.equal(await page.$eval('#canary-issued', (e) => e.getAttribute('datetime')), issuedDay, `${l.lang}: the canary's signing day`);
    t.equal(await page.$eval('#canary-expires', (e) => e.getAttribute('datetime')), expiresDay, `${l.lang}: the day it must be renewed by`);
    const canaryLine = await text('#canary');
    t.ok(canaryLine.includes(issuedDay.slice(0, 4)) && canaryLine.includes(String(Number(expiresDay.slice(8)))), `${l.lang}: the days written out: "${canaryLine}"`);
    t.equal(await text('#canary-alert'), '', `${l.lang}: no canary warning`);
    t.equal(await page.$eval('#policy-title', (e) => e.closest('section')!.nextElementSibling?.id), 'tip-form', `${l.lang}: just above the form`);

    // What is stored, in the page's words, and the signed names after them; the keys in the newsroom's words.
    await page.$eval('#policy-details', (e) => ((e as HTMLDetailsElement).open = true));
    const stored = await page.$$eval('#policy-stored li', (ls) => ls.map((li) => li.textContent ?? ''));
    const tipsLine = stored.find((s) => s.includes('tips: id, size'));
    t.ok(tipsLine?.startsWith(l.tips), `${l.lang}: the tips table in plain words: "${tipsLine}"`);
    t.match(await text('#policy-uploads'), /\b5\b/, `${l.lang}: unfinished uploads, 5 hours`);
    const keysText = await text('#policy-keys');
    for (const k of DEFAULT_KEYS) t.ok(keysText.includes(k.holder) && keysText.includes(k.can), `${l.lang}: the ${k.role} key's holder and powers as signed`);
    t.equal(await page.$eval('#policy-keys dd span', (e) => e.getAttribute('lang')), 'en', `${l.lang}: marked as English, the newsroom's words`);
    await page.screenshot({ path: `${SCREENSHOTS}/firefox-safer-policy-${l.lang}-1280x800.png`, fullPage: true });
    await checkAxe(t, page, `${l.lang} with the policy's details open`);

    const count = (p: string) => requests.filter((r) => r === `GET ${p}`).length;
    t.equal(count('/.well-known/tipline/policy'), 1, `${l.lang}: the policy is fetched once`);
    t.equal(count('/.well-known/tipline/canary'), 1, `${l.lang}: the canary once`);
    t.comment(`${l.lang}: requests on load: ${requests.join(', ')}`);
  }
});
