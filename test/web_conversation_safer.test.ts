// The whole conversation from the page in Firefox ESR at Tor Browser's "Safer" (no JIT, no WebAssembly): a tip
// that asks for replies shows a codename, refuses a copy with a wrong word (naming it), and is sent once the copy
// matches; the desk, with the real command line, fetches it and answers with `tipline reply`; the source comes
// back with the codename typed with extra spaces and capitals, reads the reply and the desk's name, sends a
// follow-up with a file, which `tipline fetch` puts in one thread with the first tip, and deletes the reply:
// the replies table is empty. The times of the codename's key derivation and of the visit are logged.
import t from 'tap';
import { writeFileSync, mkdtempSync, rmSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dialects } from './helpers/databases.js';
import { startServer } from './helpers/server.js';
import { runCli } from './helpers/cli.js';
import { quickKeysInit } from './helpers/quick-keys.js'; // keys init made once per test run, at the least KDF cost
import { browserSkip, launchFirefox, FIREFOX, SAFER_PREFS, SCREENSHOTS } from './helpers/browser.js';
import { publishDirectory } from '../server/directory.js';
import type { Manifest } from '../crypto/envelope/index.js';
import { tipFolder } from '../client/cli/inbox.js';

const [pglite] = await dialects();
const DESK_NAME = 'María López';

/** A tip as `tipline fetch` wrote it into the inbox. */
function fetched(inbox: string, id: string): { message: string; reply: Manifest['reply'] | null; thread?: string; files: { original_name: string; saved_as: string }[] } {
  const meta = JSON.parse(readFileSync(join(tipFolder(inbox, id)!, 'manifest.json'), 'utf8'));
  return { ...meta, message: readFileSync(join(tipFolder(inbox, id)!, 'message.txt'), 'utf8') };
}

/** The codename as a hurried person types it: capitals here and there, spaces doubled, a comma. */
function sloppy(words: string[]): string {
  return `  ${words.map((w, i) => (i % 2 === 0 ? w.toUpperCase() : w[0]!.toUpperCase() + w.slice(1))).join(' ,  ')}  `;
}

t.test('tip with replies, a reply, the reply read, a follow-up with a file, the reply deleted: at "Safer"', { skip: browserSkip(FIREFOX, 'Firefox ESR'), timeout: 600_000 }, async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'tipline-conv-'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));
  // The newsroom's keys as `tipline keys init` makes them: the desk side below is the real command line.
  const keys = join(work, 'keys');
  const inbox = join(work, 'inbox');
  const init = await quickKeysInit(keys, ['--name', DESK_NAME]);
  t.equal(init.code, 0, init.stderr);
  const deskKey = join(keys, readdirSync(keys).find((f) => f.endsWith('.key') && !['root.key', 'signing.key'].includes(f))!);
  const store = await pglite!.open();
  t.teardown(() => store.drop());
  await publishDirectory(store.db, JSON.parse(readFileSync(join(keys, 'directory.json'), 'utf8')), new Date());
  const server = await startServer({ db: store.db, powDifficulty: 8 });
  t.teardown(() => server.close());
  const desk = ['--server', server.staffUrl, '--key', deskKey];
  const browser = await launchFirefox(SAFER_PREFS);
  t.teardown(() => browser.close());
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`${server.url}/`, { waitUntil: 'load' });
  t.equal(await page.evaluate(() => typeof WebAssembly), 'undefined', 'WebAssembly is off, as at "Safer"');
  await page.waitForSelector('#tip-form:not([hidden])');

  // 1. A tip that asks for replies: the codename first.
  const tipText = `The ministry asked for every subscriber of the forum. ${Date.now()}`;
  await page.type('#message', tipText);
  await page.click('#want-replies');
  await page.click('#send');
  await page.waitForFunction(() => document.querySelectorAll('#codename-words li').length === 9, { timeout: 120_000 });
  const words = await page.$$eval('#codename-words li', (els) => els.map((e) => e.textContent ?? ''));
  t.equal(words.length, 9, 'nine words are shown');
  t.ok(words.every((w) => /^[a-z]{3,8}$/.test(w)), `the words are list words: ${words.join(' ')}`);
  const advice = await page.$eval('#codename-box', (e) => (e as HTMLElement).innerText);
  t.match(advice, /Write it down/, 'the page says to write it down');
  t.match(advice, /only way/, 'that it is the only way back');
  t.match(advice, /Nobody can recover it/, 'that nobody can recover it');
  t.equal(await page.$eval('#message', (e) => (e as HTMLTextAreaElement).disabled), true, 'the form is frozen while the codename is shown');
  await page.screenshot({ path: `${SCREENSHOTS}/firefox-safer-codename-1-shown-1280x800.png`, fullPage: true });
  await page.click('#codename-written');
  await page.waitForSelector('#codename-confirm-form:not([hidden])');
  t.equal(await page.$eval('#codename-words', (e) => (e as HTMLElement).hidden), true, 'the words are hidden while the source types them back');

  // 2. A copy with word 4 wrong: refused, naming word 4; nothing sent.
  const wrong = [...words];
  wrong[3] = words[3] === 'abandon' ? 'ability' : 'abandon';
  await page.type('#codename-confirm', wrong.join(' '));
  await page.click('#codename-send');
  await page.waitForSelector('#codename-error:not([hidden])');
  t.match(await page.$eval('#codename-error', (e) => e.textContent ?? ''), /Word 4 /, 'the wrong copy is refused, naming word 4');
  t.equal((await store.db.selectFrom('tips').select('id').execute()).length, 0, 'nothing was sent');
  await page.screenshot({ path: `${SCREENSHOTS}/firefox-safer-codename-2-wrong-word-1280x800.png`, fullPage: true });
  await page.click('#codename-confirm', { count: 3 });
  await page.$eval('#codename-confirm', (e) => ((e as HTMLInputElement).value = ''));
  await page.type('#codename-confirm', words.join(' ').toUpperCase());
  t.equal(await page.$eval('#codename-error', (e) => (e as HTMLElement).hidden), true, 'the error went away as the copy was corrected');
  await page.click('#codename-send');
  await page.waitForSelector('#receipt:not([hidden]), #error:not([hidden])', { timeout: 300_000 });
  t.equal(await page.$eval('#error', (e) => (e as HTMLElement).hidden), true, 'no error');
  const deriveNewMs = Number(await page.$eval('#codename-box', (e) => (e as HTMLElement).dataset['deriveMs'] ?? 'NaN'));
  const receipt = await page.$eval('#receipt', (e) => (e as HTMLElement).innerText);
  t.match(receipt, /can answer you/, 'the receipt says the newsroom can answer');
  t.match(receipt, /Keep your codename/, 'what to keep');
  t.match(receipt, /Destroy/, 'what to destroy');
  const expires = await page.$eval('#receipt-expires', (e) => [e.getAttribute('datetime') ?? '', e.textContent ?? '']);
  t.match(expires[0], /^\d{4}-\d{2}-\d{2}$/, 'the receipt has the day the tip is kept until');
  t.notMatch(expires[1], /^\d{4}-\d{2}-\d{2}$/, `shown in the local date form: "${expires[1]}"`);
  await page.screenshot({ path: `${SCREENSHOTS}/firefox-safer-codename-3-receipt-1280x800.png`, fullPage: true });
  const tipId = await page.$eval('#receipt-id', (e) => e.textContent ?? '');
  const fetch1 = await runCli(['fetch', ...desk, '--out', inbox]);
  t.equal(fetch1.code, 0, fetch1.stderr);
  const first = fetched(inbox, tipId);
  t.equal(first.message, tipText);
  t.ok(first.reply, 'the tip carries a reply field');
  t.notOk(readFileSync(join(tipFolder(inbox, tipId)!, 'manifest.json'), 'utf8').includes(words.join(' ')), 'the codename itself is not in the tip');

  // 3. The desk answers with tipline reply.
  const replyText = `Thank you. Which office sent the demand?\nA second line. ${Date.now()}`;
  const replied = await runCli(['reply', ...desk, '--inbox', inbox, tipId], { input: replyText });
  t.equal(replied.code, 0, `tipline reply: ${replied.stderr}`);
  t.match(replied.stdout, new RegExp(`as from "${DESK_NAME}"`), 'tipline reply names the author the source will see');

  // 4. The source comes back with the codename, typed sloppily.
  const back = await browser.newPage();
  back.on('pageerror', (e) => errors.push(String(e)));
  await back.goto(`${server.url}/`, { waitUntil: 'load' });
  await back.waitForSelector('#returning-top:not([hidden])');
  await back.click('#returning-link');
  await back.waitForFunction(() => document.activeElement?.id === 'codename');
  await back.type('#codename', sloppy(words));
  await back.click('#check');
  await back.waitForSelector('#reply-list li, #visit-error:not([hidden])', { timeout: 120_000 });
  t.equal(await back.$eval('#visit-error', (e) => (e as HTMLElement).hidden), true, 'the codename is accepted');
  const shown = await back.$eval('#reply-list li', (e) => ({ desk: e.querySelector('.reply-desk')?.textContent, text: e.querySelector('.reply-text')?.textContent, day: e.querySelector('time')?.getAttribute('datetime'), dayText: e.querySelector('time')?.textContent }));
  t.equal(shown.text, replyText, 'the reply is read, decrypted in the browser');
  t.equal(shown.desk, DESK_NAME, "the desk's name from the signed directory");
  t.match(shown.day, /^\d{4}-\d{2}-\d{2}$/);
  t.notMatch(shown.dayText ?? '', /^\d{4}-\d{2}-\d{2}$/, `the day in the local date form: "${shown.dayText}"`);
  await back.waitForFunction(() => document.getElementById('returning')!.dataset['deriveMs'] !== undefined, { timeout: 60_000 });
  const timing = await back.$eval('#returning', (e) => ({ visit: Number((e as HTMLElement).dataset['visitMs']), derive: Number((e as HTMLElement).dataset['deriveMs']) }));
  t.comment(`Firefox at Safer: codename key derivation ${deriveNewMs} ms (new codename), ${timing.derive} ms (returning); the whole visit ${timing.visit} ms`);
  t.ok(deriveNewMs > 0 && timing.derive > 0 && timing.visit > 0, 'the timings were recorded');
  await back.screenshot({ path: `${SCREENSHOTS}/firefox-safer-replies-1-read-1280x800.png`, fullPage: true });

  // 5. A follow-up with a file: the same reply key as the first tip.
  const file = join(work, 'demand-letter.txt');
  writeFileSync(file, 'the letter, word for word');
  const followText = `It was the regional office. ${Date.now()}`;
  await back.type('#followup-message', followText);
  await (await back.$('input#followup-files'))!.uploadFile(file);
  await back.waitForSelector('#followup-file-list li');
  await back.click('#followup-send');
  await back.waitForSelector('#followup-receipt:not([hidden]), #followup-error:not([hidden])', { timeout: 300_000 });
  t.equal(await back.$eval('#followup-error', (e) => (e as HTMLElement).hidden), true, 'the follow-up is sent');
  const followId = await back.$eval('#followup-receipt-id', (e) => e.textContent ?? '');
  const fetch2 = await runCli(['fetch', ...desk, '--out', inbox]);
  t.equal(fetch2.code, 0, fetch2.stderr);
  const follow = fetched(inbox, followId);
  t.equal(follow.message, followText);
  t.same(follow.files.map((f) => f.original_name), ['demand-letter.txt'], 'with its file');
  t.equal(readFileSync(join(tipFolder(inbox, followId)!, follow.files[0]!.saved_as), 'utf8'), 'the letter, word for word');
  t.equal(follow.reply?.box_key, first.reply!.box_key, 'the follow-up carries the same reply key as the first tip');
  const threads = JSON.parse(readFileSync(join(inbox, 'threads.json'), 'utf8')) as Record<string, string[]>;
  t.same(Object.values(threads), [[tipId, followId]], 'tipline fetch threads the follow-up with the first tip');
  t.notOk(readFileSync(join(tipFolder(inbox, followId)!, 'manifest.json'), 'utf8').includes(words[0]!), 'the codename is not in the follow-up');
  await back.screenshot({ path: `${SCREENSHOTS}/firefox-safer-replies-2-followup-sent-1280x800.png`, fullPage: true });

  // 6. The reply deleted: gone from the database.
  t.equal((await store.db.selectFrom('replies').select('tag').execute()).length, 1, 'one reply stored before deleting');
  await back.click('#delete-replies');
  await back.waitForFunction(() => /Deleted/.test(document.getElementById('delete-status')?.textContent ?? ''), { timeout: 60_000 });
  t.equal((await store.db.selectFrom('replies').select('tag').execute()).length, 0, 'the replies table is empty');

  const stored = await back.evaluate(() => ({ cookie: document.cookie, local: localStorage.length, session: sessionStorage.length }));
  t.same(stored, { cookie: '', local: 0, session: 0 }, 'the page stored nothing');
  // libsodium's try at WebAssembly, refused at Safer before it falls back to plain JavaScript, is expected.
  t.same(errors.filter((e) => !/WebAssembly\.instantiate\(\).*Content Security Policy|WebAssembly is not defined/s.test(e)), [], 'no other page error');
});
