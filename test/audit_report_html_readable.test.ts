// The HTML report of `tipline audit` is one self-contained page a lawyer can read and file: opened in Debian's
// Chromium it loads nothing but itself, axe-core finds no accessibility violation, a screenshot is kept in
// test-output/, and the page shows every check's title, the word FAIL for a failing run, and what a FAIL means.
import t from 'tap';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { runCli } from './helpers/cli.js';
import { browserSkip, launchChromium, CHROMIUM, SCREENSHOTS } from './helpers/browser.js';
import { CHECKS } from '../client/cli/audit/types.js';

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const FP = 'abcd efgh ijkl mnop qrst uvwx yz23 4567';

t.test('the HTML report of a failing run', { skip: browserSkip(CHROMIUM, 'Chromium'), timeout: 300_000 }, async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'tipline-audit-html-'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));
  const out = join(work, 'report.html');
  // Nothing listens on port 9: every published document is missing, so those checks FAIL.
  const r = await runCli(['audit', '--server', 'http://127.0.0.1:9', '--fingerprint', FP, '--format', 'html', '--out', out]);
  t.equal(r.code, 1, 'a failing run exits 1');
  t.match(r.stderr, /checks? failed; report written to/);
  const html = readFileSync(out, 'utf8');
  t.notMatch(html, /<script/i, 'no script');
  t.notMatch(html, /\b(src|href)\s*=/i, 'no link to anything');
  t.notMatch(html, /url\(|@import/i, 'no resource from the style sheet');

  const browser = await launchChromium({ width: 1000, height: 900 });
  t.teardown(() => browser.close());
  const page = await browser.newPage();
  const requests: string[] = [];
  page.on('request', (req) => void requests.push(req.url()));
  await page.goto(pathToFileURL(out).href, { waitUntil: 'load' });
  t.same(requests, [pathToFileURL(out).href], 'the page loads nothing but itself');
  await page.screenshot({ path: join(SCREENSHOTS, 'audit-report-failing.png'), fullPage: true });

  const text = await page.evaluate(() => document.body.innerText);
  for (const c of Object.values(CHECKS)) t.ok(text.includes(c.title), `shows "${c.title}"`);
  t.match(text, /\bFAIL\b/, 'shows the word FAIL');
  t.match(text, /checks? failed/);
  t.ok(text.includes(CHECKS.policy.meaning), 'says what the policy check\'s failure means');
  t.match(text, /abcd efgh ijkl mnop qrst uvwx yz23 4567|abcdefghijklmnopqrstuvwxyz234567/, 'names the tip line by its fingerprint');

  await page.evaluate(AXE);
  const violations = await page.evaluate(async () => {
    const w = window as unknown as { axe: { run(ctx: Document, o: object): Promise<{ violations: { id: string; impact: string | null; help: string; nodes: { target: unknown[] }[] }[] }> } };
    const res = await w.axe.run(document, { resultTypes: ['violations'] });
    return res.violations.map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => JSON.stringify(n.target)).join(' ')}`);
  });
  t.same(violations, [], 'axe-core finds no violation');
});
