// The page checks every server answer against the wire schemas, as the command line does: a server (or
// something in between) that answers `chunk_size: 0`, on which the upload would loop forever, is refused with
// a message the source can read, and nothing more is sent. Firefox at Tor Browser's "Safer" prefs.
import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dialects } from './helpers/databases.js';
import { newsroomServer } from './helpers/setup.js';
import { browserSkip, launchFirefox, FIREFOX, SAFER_PREFS } from './helpers/browser.js';
import { tamperingProxy, type Rule } from './helpers/loopback-proxies.js';

const [pglite] = await dialects();

t.test('the page refuses a malformed server answer with a clear message', { skip: browserSkip(FIREFOX, 'Firefox ESR') }, async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'tipline-webm-'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));
  // Small chunks, so that a tip with a 40 kB file takes several.
  const { store, server } = await newsroomServer(t, pglite!, { uploadChunkSize: 16 * 1024 }, { pinRoot: true });
  const file = join(work, 'statement.bin');
  writeFileSync(file, randomBytes(40_000));
  const browser = await launchFirefox(SAFER_PREFS);
  t.teardown(() => browser.close());

  const cases: { name: string; rule: Rule; files: string[]; pattern: RegExp }[] = [
    {
      name: 'a proof-of-work challenge with chunk_size 0',
      // The request carries ?size=N; the fake answer has today's shape (64-character token, size) so that only chunk_size is wrong.
      rule: { method: 'GET', path: /^\/api\/v1\/pow(\?|$)/, status: 200, json: { token: 'x'.repeat(64), difficulty: 0, expires_in: 600, size: 1_000_000, chunk_size: 0 } },
      files: [],
      pattern: /^Sending failed: fetching a proof-of-work challenge: the server's answer is malformed \(chunk_size: [^)]+\)\. Nothing readable was sent\./,
    },
    {
      name: 'an opened upload with chunk_size 0',
      rule: { method: 'POST', path: /^\/api\/v1\/uploads\?/, status: 201, json: { id: 'a'.repeat(26), chunk_size: 0, chunk_count: 3, expires_in: 86400 } },
      files: [file],
      pattern: /^Sending failed: opening the upload: the server's answer is malformed \(chunk_size: [^)]+\)\. Nothing readable was sent\./,
    },
  ];
  for (const c of cases) {
    await t.test(c.name, async (t) => {
      const proxy = await tamperingProxy(server.url, [c.rule]);
      t.teardown(() => proxy.close());
      const page = await browser.newPage();
      t.teardown(() => page.close());
      await page.goto(`${proxy.url}/`, { waitUntil: 'load' });
      await page.waitForSelector('#tip-form:not([hidden])');
      await page.type('#message', 'must not be stored');
      if (c.files.length > 0) await (await page.$('input#files'))!.uploadFile(...c.files);
      await page.click('#send');
      await page.waitForSelector('#error:not([hidden])', { timeout: 90_000 });
      t.match(await page.$eval('#error', (e) => e.textContent ?? ''), c.pattern, 'the source is told what went wrong');
      t.equal(await page.$eval('#receipt', (e) => (e as HTMLElement).hidden), true, 'no receipt');
      t.equal(await page.$eval('#send', (e) => (e as HTMLButtonElement).disabled), false, 'the form can be used again');
      t.equal(proxy.answered.length, 1, 'the malformed answer was asked for once: not retried');
      t.same(proxy.seen.filter((r) => r.startsWith('PUT ')), [], 'no chunk was sent after it');
      t.equal((await store.db.selectFrom('tips').select('id').execute()).length, 0, 'no tip stored');
    });
  }
});
