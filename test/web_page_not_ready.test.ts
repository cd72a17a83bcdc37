// The first start, before the newsroom has made keys: the server has no directory to publish, so the page has no
// fingerprint. It must say calmly, in each language, that the tip line is not set up yet: not raise the alarm
// meant for keys that fail to verify, not show the form, not load the crypto code or ask for the directory.
// In Firefox ESR at Tor Browser's "Safer" (the script shows the notice) and "Safest" (the stylesheet does).
import t from 'tap';
import type { Page } from 'puppeteer-core';
import { dialects } from './helpers/databases.js';
import { startServer } from './helpers/server.js';
import { browserSkip, launchFirefox, FIREFOX, SAFER_PREFS, SAFEST_PREFS, SCREENSHOTS } from './helpers/browser.js';

const [pglite] = await dialects();

const PAGES = [
  { path: '/', title: /This tip line is not set up yet/, body: /has not published its keys here yet/, operator: /tipline keys init --dir keys/ },
  { path: '/es/', title: /Este buzón seguro aún no está listo/, body: /todavía no ha publicado aquí sus claves/, operator: /tipline keys init --dir keys/ },
  { path: '/de/', title: /noch nicht eingerichtet/, body: /hat ihre Schlüssel hier noch nicht veröffentlicht/, operator: /tipline keys init --dir keys/ },
];

/** Rendered (neither it nor an ancestor is display: none, whether by `hidden` or by the stylesheet) and sized. */
const shown = (page: Page, sel: string) =>
  page.$eval(sel, (e) => {
    const r = e.getBoundingClientRect();
    return e.checkVisibility() && r.width > 0 && r.height > 0;
  });

for (const level of [
  { name: 'Safer', slug: 'safer', prefs: SAFER_PREFS },
  { name: 'Safest (JavaScript off)', slug: 'safest', prefs: SAFEST_PREFS },
]) {
  t.test(`no keys yet, Firefox ESR at ${level.name}: "not set up yet" in each language, no form, no alarm`, { skip: browserSkip(FIREFOX, 'Firefox ESR') }, async (t) => {
    const bare = await pglite!.open();
    t.teardown(() => bare.drop());
    const server = await startServer({ db: bare.db, powDifficulty: 10 });
    t.teardown(() => server.close());
    const browser = await launchFirefox(level.prefs);
    t.teardown(() => browser.close());
    for (const p of PAGES) {
      const page = await browser.newPage();
      const requests: string[] = [];
      page.on('request', (r) => void requests.push(`${r.method()} ${new URL(r.url()).pathname}`));
      await page.goto(`${server.url}${p.path}`, { waitUntil: 'load' });
      // Long enough for the script to have started the worker, had it meant to.
      await new Promise((r) => setTimeout(r, 500));
      const text = await page.evaluate(() => document.body.innerText);
      t.match(text, p.title, `${p.path}: the title says it is not set up yet`);
      t.match(text, p.body, `${p.path}: and that nothing can be sent, calmly`);
      t.match(text, p.operator, `${p.path}: the operator is told how to set it up`);
      t.ok(await shown(page, '#not-ready'), `${p.path}: the notice is on screen`);
      t.notMatch(text, /could not be verified|no se pudieron verificar|nicht mit dem obigen Fingerabdruck/i, `${p.path}: no tampering alarm`);
      t.equal(await page.$eval('#error', (e) => (e as HTMLElement).hidden), true, `${p.path}: the error line stays hidden`);
      t.notOk(await shown(page, '#tip-form'), `${p.path}: no form`);
      t.notOk(await shown(page, '#fp-section'), `${p.path}: no empty fingerprint box`);
      t.notOk(await shown(page, '#returning'), `${p.path}: no codename entry either`);
      t.notMatch(text, /\bpistas?\b/i, `${p.path}: a tip is never a "pista" (a clue)`);
      t.notMatch(text, /JavaScript is needed|Se necesita JavaScript|wird JavaScript benötigt/, `${p.path}: no advice to turn JavaScript on for a page that cannot send anyway`);
      t.same(requests.filter((r) => !r.startsWith('GET ') || /worker\.js|well-known|\/api\//.test(r)), [], `${p.path}: no crypto code, no directory, no API request`);
      if (p.path === '/') await page.screenshot({ path: `${SCREENSHOTS}/firefox-${level.slug}-not-set-up-1280x800.png` });
      await page.close();
    }
  });
}
