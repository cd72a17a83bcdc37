// The server is killed (-9) in the middle of an upload from the page and started again: the page says what
// is happening and finishes the upload where it stopped, without the source starting again.
import t from 'tap';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import type { ChildProcess } from 'node:child_process';
import { runCli, startCliServer } from './helpers/cli.js';
import { seedPglite } from './helpers/databases.js';
import { browserSkip, launchChromium, launchFirefox, CHROMIUM, FIREFOX, SAFER_PREFS, SCREENSHOTS } from './helpers/browser.js';
import { tipFolder } from '../client/cli/inbox.js';

const cases = [
  { name: 'Chromium', slug: 'chromium', skip: browserSkip(CHROMIUM, 'Chromium'), launch: () => launchChromium() },
  { name: 'Firefox ESR at "Safer"', slug: 'firefox-safer', skip: browserSkip(FIREFOX, 'Firefox ESR'), launch: () => launchFirefox(SAFER_PREFS) },
];

for (const c of cases) {
  t.test(`${c.name}: the page resumes an upload after the server is killed and restarted`, { skip: c.skip, timeout: 600_000 }, async (t) => {
    const work = mkdtempSync(join(tmpdir(), 'tipline-resume-'));
    t.teardown(() => rmSync(work, { recursive: true, force: true }));
    const keys = join(work, 'keys');
    t.equal((await runCli(['keys', 'init', '--dir', keys])).code, 0);
    const env = { DATABASE_URL: '', TIPLINE_POW_DIFFICULTY: '8' };
    const args = (port: string, staffPort: string) => ['--port', port, '--staff-port', staffPort, '--data', join(work, 'data'), '--directory', join(keys, 'directory.json')];
    const children: ChildProcess[] = [];
    t.teardown(() => children.forEach((ch) => ch.kill('SIGKILL')));
    await seedPglite(join(work, 'data', 'pg'));
    let server = await startCliServer(args('0', '0'), env);
    children.push(server.child);
    const url = server.url;
    const port = new URL(url).port;
    const staffUrl = server.staffUrl;

    const file = join(work, 'archive.bin');
    const bytes = randomBytes(48 * 1024 * 1024);
    writeFileSync(file, bytes);

    const browser = await c.launch();
    t.teardown(() => browser.close());
    const page = await browser.newPage();
    await page.goto(`${url}/`, { waitUntil: 'load' });
    await page.waitForSelector('#tip-form:not([hidden])');
    await page.type('#message', 'resumed from the page');
    await (await page.$('input#files'))!.uploadFile(file);
    await page.click('#send');

    const stored = () => (server.output().match(/chunks\/:n","status":200/g) ?? []).length;
    const deadline = Date.now() + 120_000;
    while (stored() < 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const before = stored();
    t.ok(before >= 4 && before < 49, `killed after ${before} of 49 chunks`);
    const exited = once(server.child, 'exit');
    server.child.kill('SIGKILL');
    await exited;

    await page.waitForFunction(() => /connection dropped/i.test(document.getElementById('status')?.textContent ?? ''), { timeout: 60_000 });
    t.pass('the page tells the source the connection dropped and that it will continue');
    await page.screenshot({ path: `${SCREENSHOTS}/${c.slug}-resume-retrying-1280x800.png` as `${string}.png` });

    server = await startCliServer(args(port, new URL(staffUrl).port), env);
    children.push(server.child);
    await page.waitForSelector('#receipt:not([hidden])', { timeout: 300_000 });
    const id = await page.$eval('#receipt-id', (e) => e.textContent ?? '');
    const after = (server.output().match(/chunks\/:n","status":20[01]/g) ?? []).length;
    t.ok(after <= 49 - before + 1, `after the restart only the rest was sent (${after} chunks)`);

    const out = join(work, 'inbox');
    const fetched = await runCli(['fetch', '--server', staffUrl, '--key', join(keys, 'desk.key'), '--out', out]);
    t.equal(fetched.code, 0, fetched.stderr);
    const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
    t.equal(sha(readFileSync(join(tipFolder(out, id)!, 'files', 'archive.bin'))), sha(bytes), 'the file arrived whole');
  });
}
