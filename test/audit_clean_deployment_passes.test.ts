// `tipline audit` against a clean deployment (real PostgreSQL, `tipline serve` as a child, keys from the real
// CLI, a tip submitted): every check passes, the heads file is created private and grows, and the JSON report
// says the same. Usage mistakes exit 2 with one line.
import t from 'tap';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deployment, lines } from './helpers/audit-deployment.js';
import { runCli } from './helpers/cli.js';
import { CHECKS } from '../client/cli/audit/types.js';

t.test('a clean deployment passes every check', { timeout: 600_000 }, async (t) => {
  const d = await deployment(t);
  // A second tip, deleted by the desk: its entry carries the desk's signed statement.
  const sent = await runCli(['submit', '--server', d.server.url, '--fingerprint', d.fp, '-m', 'a tip to delete']);
  t.equal(sent.code, 0, sent.stderr);
  const id = /tip id: ([a-z2-7]{26})/.exec(sent.stdout)![1]!;
  const del = await runCli(['delete', '--yes', '--server', d.server.staffUrl, '--key', d.deskKey, id]);
  t.equal(del.code, 0, del.stderr);
  const heads = join(d.work, 'heads.json');
  const first = await d.audit(['--heads', heads]);
  t.comment(first.stdout);
  t.equal(first.code, 0, `exit 0 when every check passes\n${first.stdout}${first.stderr}`);
  const got = lines(first.stdout);
  t.same(Object.keys(got).sort(), Object.keys(CHECKS).sort(), 'one line per check');
  for (const [id, l] of Object.entries(got)) t.equal(l.status, 'PASS', `${id}: ${l.detail}`);
  t.match(got['database-schema']?.detail, /exactly as the policy lists them/);
  t.match(got['audit-sources']?.detail, /the same \d+ entries/, 'the database and the staff API show the same log');
  t.match(got.deletions?.detail, /1 deletion by staff, each with the statement signed by a desk the directory lists/);

  t.ok(existsSync(heads), 'the heads file is created');
  t.equal(statSync(heads).mode & 0o777, 0o600, 'mode 0600');
  const kept = JSON.parse(readFileSync(heads, 'utf8')) as { heads: { seq: number; signature?: string }[]; policy?: { serial: number } };
  t.ok(kept.heads.length >= 1, 'it keeps the head seen');
  t.ok(kept.heads.some((h) => h.signature), 'including the server\'s signed head');
  t.ok(kept.policy && kept.policy.serial > 0, 'and the policy serial');

  const again = await d.audit(['--heads', heads, '--format', 'json']);
  t.equal(again.code, 0, again.stderr);
  const report = JSON.parse(again.stdout) as { tipline: string; checked_at: string; checks: { id: string; status: string; title: string; detail: string }[]; summary: { pass: number; fail: number; skip: number } };
  t.match(report.checked_at, /^\d{4}-\d{2}-\d{2}$/, 'checked_at is a day');
  t.equal(report.summary.fail, 0);
  t.equal(report.checks.find((c) => c.id === 'kept-heads')?.status, 'PASS');
  t.match(report.checks.find((c) => c.id === 'kept-heads')?.detail, /heads? kept since/, 'the second audit compares with the head kept by the first');
  t.equal(report.checks.find((c) => c.id === 'policy')?.title, CHECKS.policy.title);

  // A policy older than one seen at an earlier audit (the heads file remembers the highest serial).
  const rolled = join(d.work, 'heads-rolled.json');
  writeFileSync(rolled, JSON.stringify({ ...kept, policy: { serial: kept.policy!.serial + 1, digest: '0'.repeat(64) } }), { mode: 0o600 });
  const older = await d.audit(['--heads', rolled]);
  t.equal(older.code, 1);
  t.match(lines(older.stdout).policy?.detail, /serial \d+ is older than serial \d+ seen at an earlier audit/, 'a rolled-back policy is named');
  // A heads file kept for another tip line is refused, not silently mixed.
  const other = join(d.work, 'heads-other.json');
  writeFileSync(other, JSON.stringify({ v: 1, fingerprint: 'abcdefghijklmnopqrstuvwxyz234567', heads: [] }));
  const mixed = await d.audit(['--heads', other]);
  t.equal(mixed.code, 2);
  t.match(mixed.stderr, /was kept for another tip line/);

  // Without the database or an auditor key: those checks are SKIPped, not failed.
  const outside = await runCli(['audit', '--server', d.server.url, '--fingerprint', d.fp]);
  const o = lines(outside.stdout);
  t.equal(o['database-schema']?.status, 'SKIP');
  t.equal(o['audit-chain']?.status, 'SKIP');
  t.equal(o.policy?.status, 'PASS');
  t.equal(outside.code, 0, `the public checks alone pass: ${outside.stdout}`);

  // The HTML report to a file.
  const page = join(d.work, 'report.html');
  const html = await d.audit(['--format', 'html', '--out', page]);
  t.equal(html.code, 0, html.stderr);
  t.match(readFileSync(page, 'utf8'), /Every check that was run passed/);
});

t.test('usage mistakes exit 2 with one line that says what to do', async (t) => {
  const fp = 'abcd efgh ijkl mnop qrst uvwx yz23 4567';
  for (const [argv, re] of [
    [['audit', '--fingerprint', fp], /missing --server URL/],
    [['audit', '--server', 'http://127.0.0.1:9'], /missing --fingerprint FP/],
    [['audit', '--server', 'http://127.0.0.1:9', '--fingerprint', fp, '--format', 'pdf'], /--format must be text, json or html/],
    [['audit', '--server', 'http://127.0.0.1:9', '--fingerprint', fp, '--key', '/nonexistent.key'], /--key reads the log through the staff API/],
    [['audit', '--server', 'http://127.0.0.1:9', '--fingerprint', fp, '--bogus'], /unknown option --bogus/],
    [['audit', '--server', 'http://127.0.0.1:9', '--fingerprint', 'not a fingerprint'], /--fingerprint/],
    [['audit', '--server', 'http://127.0.0.1:9', '--fingerprint', fp, '--pglite', '/nonexistent'], /--pglite \/nonexistent: not a PGlite data folder/],
  ] as const) {
    const r = await runCli([...argv]);
    t.equal(r.code, 2, `${argv.join(' ')}: exit 2`);
    t.match(r.stderr, re);
    t.notMatch(r.stderr, /at .*\.js:\d+/, 'no stack trace');
  }
  const help = await runCli(['audit', '--help']);
  t.equal(help.code, 0);
  t.match(help.stdout, /usage: tipline audit --server URL --fingerprint FP/);
});
