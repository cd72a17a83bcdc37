// The newsroom's signing commands through the real CLI: `tipline policy set` re-signs DIR/policy.json with the
// root (a higher serial, only the fields asked changed, verified under the directory's root), `policy show` reads
// it (the folder's without any key, or the one a tip line serves, checked against the fingerprint), and `tipline
// canary sign` signs DIR/canary.json with the directory signing key under the root's certificate. A wrong
// passphrase is a clear error (exit 1) with nothing written; bad values are one line and exit 2.
import t, { type Test } from 'tap';
import { createServer } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './helpers/cli.js';
import { quickKeysInit } from './helpers/quick-keys.js';
import { initCrypto } from '../crypto/node.js';
import { toBase64 } from '../crypto/bytes.js';
import { generateSigningKey } from '../crypto/keys.js';
import { verifyPolicy } from '../crypto/policy.js';
import { verifyCanary } from '../crypto/canary.js';
import type { SignedDocument } from '../crypto/signed.js';

await initCrypto();

const DAY = 86_400_000;
const work = mkdtempSync(join(tmpdir(), 'tipline-policy-canary-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));
const keys = join(work, 'keys');
const policyFile = join(keys, 'policy.json');
const canaryFile = join(keys, 'canary.json');
const readDoc = (f: string) => JSON.parse(readFileSync(f, 'utf8')) as SignedDocument;

function oneLine(t: Test, r: { code: number | null; stderr: string }, code: number, re: RegExp, what: string): void {
  t.equal(r.code, code, `${what}: exit ${code}`);
  t.equal(r.stderr.trim().split('\n').length, 1, `${what}: one line (${r.stderr.trim()})`);
  t.match(r.stderr, re, what);
  t.notMatch(r.stderr, /\n\s+at .*:\d+:\d+/, `${what}: no stack trace`);
}

// keys init by the real CLI, its key files resealed at the least KDF cost the product accepts: every policy set
// and canary sign below opens the root or signing key (see helpers/quick-keys.ts).
const init = await quickKeysInit(keys, ['--name', 'desk']);
if (init.code !== 0) throw new Error(`keys init: ${init.stderr}`);
const fp = /fingerprint: (.+)/.exec(init.stdout)![1]!;

t.test('policy show: the default policy in plain words, no key needed', async (t) => {
  const r = await runCli(['policy', 'show', '--dir', keys], { env: { TIPLINE_PASSPHRASE: '' } });
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /tips: +kept 30 days after the day they arrive, then deleted/);
  t.match(r.stdout, /uploads: +an unfinished upload is deleted after 24 hours at most/);
  t.match(r.stdout, new RegExp(`signed \\d{4}-\\d{2}-\\d{2} by the root ${fp}`));
  t.match(r.stdout, /stored: +\w+: /);
  const bare = await runCli(['policy', 'set', '--dir', keys], { env: { TIPLINE_PASSPHRASE: '' } });
  t.equal(bare.code, 0, 'policy set without a change shows it too');
  t.equal(bare.stdout, r.stdout);
});

t.test('policy set --tips-days 12: re-signed, verified, a higher serial, the rest kept', async (t) => {
  const before = verifyPolicy(readDoc(policyFile), fp);
  const r = await runCli(['policy', 'set', '--dir', keys, '--tips-days', '12']);
  t.equal(r.code, 0, r.stderr);
  const after = verifyPolicy(readDoc(policyFile), fp);
  t.equal(after.retention.tips_days, 12);
  t.ok(after.serial > before.serial, `serial ${after.serial} > ${before.serial}`);
  t.same([after.retention.replies_days, after.retention.uploads_hours, after.key_period_days], [before.retention.replies_days, before.retention.uploads_hours, before.key_period_days], 'what was not asked stays');
  t.same([after.stored, after.logged, after.keys], [before.stored, before.logged, before.keys]);
  t.match(r.stdout, /changed: +tips are kept 12 days \(was 30 days\)/, 'says what changed');
  t.notMatch(r.stdout, /replies are kept \d+ days \(was/, 'and only that');
  t.match(r.stdout, /copy .*policy\.json beside the server's directory file, then systemctl kill -s HUP tipline/, 'and how to publish it');
  t.same(readdirSync(keys).filter((f) => f.endsWith('.tmp')), [], 'no temporary file left');

  const same = await runCli(['policy', 'set', '--dir', keys, '--tips-days', '12']);
  t.equal(same.code, 0);
  t.match(same.stdout, /already says this: nothing signed/);
  t.equal(verifyPolicy(readDoc(policyFile), fp).serial, after.serial, 'no change, no new serial');
});

t.test('policy set: a shorter retention shortens the key period; the audit key is pinned and kept', async (t) => {
  const head = toBase64(generateSigningKey().publicKey);
  const r = await runCli(['policy', 'set', '--dir', keys, '--tips-days', '5', '--replies-days', '9', '--uploads-hours', '6', '--audit-key', head]);
  t.equal(r.code, 0, r.stderr);
  let p = verifyPolicy(readDoc(policyFile), fp);
  t.same(p.retention, { tips_days: 5, replies_days: 9, uploads_hours: 6 });
  t.equal(p.key_period_days, 5, 'the key period follows tips down to 5 days');
  t.equal(p.audit_key, head);
  t.match(r.stdout, /desk encryption keys change every 5 days \(was 7 days\)/);
  const r2 = await runCli(['policy', 'set', '--dir', keys, '--tips-days', '12', '--key-period-days', '3']);
  t.equal(r2.code, 0, r2.stderr);
  p = verifyPolicy(readDoc(policyFile), fp);
  t.same([p.retention.tips_days, p.retention.replies_days, p.key_period_days, p.audit_key], [12, 9, 3, head], 'the audit key and other fields kept');
  const r3 = await runCli(['policy', 'set', '--dir', keys, '--audit-key', 'none', '--key-period-days', '7']);
  t.equal(r3.code, 0, r3.stderr);
  p = verifyPolicy(readDoc(policyFile), fp);
  t.notOk('audit_key' in p, '--audit-key none removes it');
  t.equal(p.key_period_days, 7);
});

t.test('policy set: a wrong passphrase is a clear error and nothing is written', async (t) => {
  const before = readFileSync(policyFile);
  const r = await runCli(['policy', 'set', '--dir', keys, '--tips-days', '20'], { env: { TIPLINE_PASSPHRASE: 'not the passphrase at all' } });
  oneLine(t, r, 1, /^tipline: wrong passphrase for .*root\.key/, 'wrong passphrase');
  t.same(readFileSync(policyFile), before, 'policy.json unchanged');
  t.same(readdirSync(keys).filter((f) => f.endsWith('.tmp')), [], 'no temporary file');
});

t.test('policy set: bad values are one line and exit 2, nothing written', async (t) => {
  const before = readFileSync(policyFile);
  const cases: [string[], RegExp][] = [
    [['--tips-days', '0'], /--tips-days must be a whole number from 1 to 3650, not "0"/],
    [['--tips-days', '3651'], /--tips-days must be a whole number from 1 to 3650/],
    [['--replies-days', 'ten'], /--replies-days must be a whole number/],
    [['--uploads-hours', '169'], /--uploads-hours must be a whole number from 1 to 168/],
    [['--key-period-days', '13'], /--key-period-days 13 exceeds the 12 days tips are kept/],
    [['--tips-days', '4', '--key-period-days', '5'], /--key-period-days 5 exceeds the 4 days/],
    [['--audit-key', 'AAAA'], /--audit-key must be base64 of a 32-byte Ed25519 key/],
    [['--tips', '3'], /unknown option --tips/],
  ];
  for (const [extra, re] of cases) oneLine(t, await runCli(['policy', 'set', '--dir', keys, ...extra]), 2, re, extra.join(' '));
  oneLine(t, await runCli(['policy', 'set', '--tips-days', '3']), 2, /missing --dir DIR/, 'no --dir');
  oneLine(t, await runCli(['policy', 'sett', '--dir', keys]), 2, /"sett" is not a policy command/, 'a mistyped subcommand');
  oneLine(t, await runCli(['policy']), 2, /policy needs a subcommand/, 'no subcommand');
  t.same(readFileSync(policyFile), before, 'policy.json unchanged by any of them');
});

t.test('policy show refuses a policy.json that does not verify', async (t) => {
  const good = readFileSync(policyFile);
  const doc = readDoc(policyFile);
  const sig = Buffer.from(doc.signature, 'base64');
  sig[5] = sig[5]! ^ 1;
  writeFileSync(policyFile, JSON.stringify({ ...doc, signature: sig.toString('base64') }));
  try {
    oneLine(t, await runCli(['policy', 'show', '--dir', keys]), 1, /policy\.json does not verify under the root of .*directory\.json: .*bad signature/, 'a flipped signature byte');
    oneLine(t, await runCli(['policy', 'set', '--dir', keys, '--tips-days', '3']), 1, /does not verify/, 'set does not build on it either');
  } finally {
    writeFileSync(policyFile, good);
  }
});

t.test('policy show --server: the policy a tip line serves, checked against the fingerprint', async (t) => {
  let body = readFileSync(policyFile);
  const server = createServer((req, res) => {
    if (req.url !== '/.well-known/tipline/policy') return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'application/json' }).end(body);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => server.close());
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const r = await runCli(['policy', 'show', '--server', url, '--fingerprint', fp]);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /tips: +kept 12 days/);
  t.match(r.stdout, /\/\.well-known\/tipline\/policy, serial \d+/);
  const other = await runCli(['keys', 'init', '--dir', join(work, 'other'), '--name', 'desk']);
  const otherFp = /fingerprint: (.+)/.exec(other.stdout)![1]!;
  body = readFileSync(join(work, 'other', 'policy.json'));
  oneLine(t, await runCli(['policy', 'show', '--server', url, '--fingerprint', fp]), 1, /does not verify under .*expected/, "another newsroom's policy");
  t.equal((await runCli(['policy', 'show', '--server', url, '--fingerprint', otherFp])).code, 0, 'which verifies under its own root');
  oneLine(t, await runCli(['policy', 'show', '--server', url]), 2, /missing --fingerprint FP/, 'no fingerprint');
});

t.test('canary sign --days 3: verifies, not stale, serial grows', async (t) => {
  t.notOk(existsSync(canaryFile), 'no canary before');
  const r = await runCli(['canary', 'sign', '--dir', keys, '--days', '3']);
  t.equal(r.code, 0, r.stderr);
  const v = verifyCanary(readDoc(canaryFile), fp, new Date());
  t.equal(v.stale, false, 'fresh');
  t.equal(Date.parse(v.canary.expires) - Date.parse(v.canary.issued), 3 * DAY, 'valid 3 days');
  t.ok(Math.abs(Date.parse(v.canary.issued) - Date.now()) < DAY, 'issued now');
  t.equal(verifyCanary(readDoc(canaryFile), fp, new Date(Date.parse(v.canary.expires) + 1)).stale, true, 'stale once 3 days have passed');
  t.match(r.stdout, new RegExp(`issued: +${v.canary.issued.slice(0, 10)}`));
  t.match(r.stdout, new RegExp(`expires: +${v.canary.expires.slice(0, 10)}`));
  t.match(r.stdout, /copy .*canary\.json beside the server's directory file, then systemctl kill -s HUP tipline/);
  const again = await runCli(['canary', 'sign', '--dir', keys]);
  t.equal(again.code, 0, again.stderr);
  const w = verifyCanary(readDoc(canaryFile), fp, new Date());
  t.ok(w.canary.serial > v.canary.serial, 'signed again: a higher serial');
  t.equal(Date.parse(w.canary.expires) - Date.parse(w.canary.issued), 14 * DAY, '14 days by default');
});

t.test('canary sign --statement-file: the newsroom\'s words, one paragraph', async (t) => {
  const f = join(work, 'statement.txt');
  writeFileSync(f, 'La redacción no ha recibido\nninguna orden secreta.\n');
  const r = await runCli(['canary', 'sign', '--dir', keys, '--days', '7', '--statement-file', f]);
  t.equal(r.code, 0, r.stderr);
  t.equal(verifyCanary(readDoc(canaryFile), fp, new Date()).canary.statement, 'La redacción no ha recibido ninguna orden secreta.');
  writeFileSync(f, 'x'.repeat(2001));
  oneLine(t, await runCli(['canary', 'sign', '--dir', keys, '--statement-file', f]), 2, /at most 2000/, 'a statement too long');
  oneLine(t, await runCli(['canary', 'sign', '--dir', keys, '--statement-file', join(work, 'missing.txt')]), 2, /cannot read it \(ENOENT\)/, 'no such file');
});

t.test('canary sign: bad days exit 2, a wrong passphrase exit 1, nothing written', async (t) => {
  const before = readFileSync(canaryFile);
  oneLine(t, await runCli(['canary', 'sign', '--dir', keys, '--days', '0']), 2, /--days must be a whole number from 1 to 92, not "0"/, '--days 0');
  oneLine(t, await runCli(['canary', 'sign', '--dir', keys, '--days', '93']), 2, /--days must be a whole number from 1 to 92, not "93"/, '--days 93');
  oneLine(t, await runCli(['canary', 'sign', '--dir', keys, '--days', '92']), 1, /would outlive the signing key's certificate .*use --days \d+ or have the root certify the key again/, 'past the certificate');
  oneLine(t, await runCli(['canary', 'sign', '--dir', keys], { env: { TIPLINE_PASSPHRASE: 'not the passphrase at all' } }), 1, /^tipline: wrong passphrase for .*signing\.key/, 'wrong passphrase');
  oneLine(t, await runCli(['canary', 'sign']), 2, /missing --dir DIR/, 'no --dir');
  oneLine(t, await runCli(['canary', 'renew', '--dir', keys]), 2, /"renew" is not a canary command/, 'a subcommand that does not exist');
  t.same(readFileSync(canaryFile), before, 'canary.json unchanged by any of them');
});

t.test('--help', async (t) => {
  const cases: [string[], RegExp][] = [
    [['policy', '--help'], /usage: tipline policy set --dir DIR[\s\S]*tipline policy show/],
    [['policy', 'set', '--help'], /usage: tipline policy set --dir DIR \[--tips-days N\][\s\S]*--uploads-hours N[\s\S]*systemctl kill -s HUP tipline/],
    [['policy', 'show', '-h'], /usage: tipline policy show --dir DIR[\s\S]*--server URL --fingerprint FP/],
    [['policy', 'set', '--tips-days', 'x', '--help'], /usage: tipline policy set/],
    [['canary', '--help'], /usage: tipline canary sign --dir DIR/],
    [['canary', 'sign', '--help'], /usage: tipline canary sign --dir DIR \[--days N\] \[--statement-file FILE\][\s\S]*1 to 92/],
  ];
  for (const [argv, re] of cases) {
    const r = await runCli(argv);
    t.equal(r.code, 0, `${argv.join(' ')}: exit 0`);
    t.match(r.stdout, re, argv.join(' '));
  }
});
