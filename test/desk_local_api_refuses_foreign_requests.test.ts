// The desk app's local server answers only its own page: the real `tipline desk` against a real server, then raw
// HTTP requests missing the secret, with a wrong one, with a foreign Host (DNS rebinding: evil.example:PORT, and
// localhost:PORT), a foreign Origin, a cross-site Sec-Fetch-Site, a wrong content type, an oversized body, bad
// JSON or an invalid body: each a 4xx JSON answer (never a 500, never the secret echoed), with the strict headers.
// It listens on 127.0.0.1 only. Also: an auditor's key is refused with what an auditor can do, the data folder is
// 0700, and a data folder pinned to another root is refused.
import t, { type Test } from 'tap';
import { connect } from 'node:net';
import { mkdirSync, readFileSync, readdirSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { dialects } from './helpers/databases.js';
import { runCli } from './helpers/cli.js';
import { api, newsroom, raw, startDesk, type RawAnswer } from './helpers/desk.js';
import { DeskError, DeskSession } from '../schema/desk-api.js';
import { CSP } from '../client/desk/app.js';

const dialect = (await dialects()).find((d) => d.name === 'pglite')!;

function refused(t: Test, r: RawAnswer, secret: string, what: string): void {
  t.equal(r.status, 404, `${what}: 404`);
  t.ok(DeskError.safeParse(r.json()).success, `${what}: a DeskError JSON body`);
  t.notOk(r.body.toString().includes(secret), `${what}: the secret is not echoed`);
  t.equal(r.headers['content-security-policy'], CSP, `${what}: the strict CSP`);
}

function connects(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

t.test('the local API refuses foreign requests', { timeout: 300_000 }, async (t) => {
  const n = await newsroom(dialect);
  t.teardown(() => n.close());
  const data = join(n.work, 'desk-data');
  // A data folder that exists with a wide mode is narrowed to 0700.
  mkdirSync(data, { mode: 0o755 });
  chmodSync(data, 0o755);
  const desk = await startDesk(['--server', n.server.staffUrl, '--key', n.deskKey, '--fingerprint', n.fp, '--data', data]);
  t.teardown(() => desk.stop());
  t.equal(statSync(data).mode & 0o777, 0o700, 'the data folder is 0700');
  t.match(desk.output(), /Full-disk encryption is expected/, 'it says decrypted tips are stored there and FDE is expected');
  t.equal(readFileSync(join(data, 'root.fingerprint'), 'utf8').trim(), n.fp.replace(/\s/g, ''), 'the root is pinned on first use');
  t.ok(desk.secret.length >= 22, 'the secret is at least 128 bits of base64url');

  const { port, secret } = desk;
  const good = { Origin: `http://127.0.0.1:${port}`, 'Sec-Fetch-Site': 'same-origin' };

  // The right request works, with every header.
  const ok = await raw(port, `/${secret}/api/session`, { headers: good });
  t.equal(ok.status, 200, 'the page\'s own request is answered');
  t.ok(DeskSession.safeParse(ok.json()).success, 'a DeskSession');
  t.equal(ok.json().desk, 'Desk Ana', "this desk's name from the directory");
  for (const [h, v] of Object.entries({ 'content-security-policy': CSP, 'referrer-policy': 'no-referrer', 'x-content-type-options': 'nosniff', 'cache-control': 'no-store', 'cross-origin-opener-policy': 'same-origin', 'cross-origin-resource-policy': 'same-origin' })) {
    t.equal(ok.headers[h], v, `${h}: ${v}`);
  }
  const page = await raw(port, `/${secret}/`, { headers: { 'Sec-Fetch-Site': 'none' } });
  t.equal(page.status, 200, 'the page opens from the printed URL (typed: Sec-Fetch-Site none)');
  t.match(page.headers['content-type'], /text\/html/);

  const wrong = secret.slice(0, -2) + (secret.endsWith('AA') ? 'BB' : 'AA');
  refused(t, await raw(port, '/api/session'), secret, 'no secret');
  refused(t, await raw(port, '/'), secret, 'the root');
  refused(t, await raw(port, `/${wrong}/api/session`, { headers: good }), secret, 'a wrong secret');
  refused(t, await raw(port, `/${secret}x/api/session`, { headers: good }), secret, 'the secret with more after it');
  refused(t, await raw(port, `/${secret}`, { headers: good }), secret, 'the secret without the slash');
  refused(t, await raw(port, `/${secret}/api/session`, { headers: { ...good, Host: `evil.example:${port}` } }), secret, 'Host evil.example (DNS rebinding)');
  refused(t, await raw(port, `/${secret}/api/session`, { headers: { ...good, Host: `localhost:${port}` } }), secret, 'Host localhost');
  refused(t, await raw(port, `/${secret}/api/session`, { headers: { ...good, Host: '127.0.0.1' } }), secret, 'Host without the port');
  refused(t, await raw(port, `/${secret}/api/session`, { headers: { ...good, Origin: 'http://evil.example' } }), secret, 'a foreign Origin');
  refused(t, await raw(port, `/${secret}/api/session`, { headers: { ...good, Origin: `http://localhost:${port}` } }), secret, 'Origin localhost');
  refused(t, await raw(port, `/${secret}/api/session`, { headers: { ...good, 'Sec-Fetch-Site': 'cross-site' } }), secret, 'Sec-Fetch-Site cross-site');
  refused(t, await raw(port, `/${secret}/api/session`, { headers: { ...good, 'Sec-Fetch-Site': 'same-site' } }), secret, 'Sec-Fetch-Site same-site');
  refused(t, await raw(port, `/${secret}/api/threads/tip:aaaaaaaaaaaaaaaaaaaaaaaaaa/star`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"starred":true}' }), secret, 'a POST without Origin');
  refused(t, await raw(port, `/${secret}/api/sync`, { method: 'POST', headers: { 'Content-Type': 'application/json', Origin: 'null' }, body: '{}' }), secret, 'a POST from Origin null');

  // Past the gate: every mistake a 4xx JSON.
  const fourxx = async (r: RawAnswer, status: number, what: string) => {
    t.equal(r.status, status, `${what}: ${status}`);
    t.ok(DeskError.safeParse(r.json()).success, `${what}: a DeskError`);
    t.notMatch(r.body.toString(), /at .*\.js:\d+/, `${what}: no stack trace`);
  };
  const post = (path: string, body: string | Buffer, type = 'application/json') => raw(port, `/${secret}/api/${path}`, { method: 'POST', headers: { ...good, 'Content-Type': type }, body });
  await fourxx(await post('sync', '{}', 'text/plain'), 415, 'a text/plain POST');
  await fourxx(await post('sync', '{}', 'application/x-www-form-urlencoded'), 415, 'a form POST');
  await fourxx(await post('sync', Buffer.alloc(300 * 1024, 0x20)), 413, 'a body over 256 KB');
  await fourxx(await post('sync', '{"a":'), 400, 'bad JSON on sync');
  await fourxx(await post('sync', '{"unexpected":1}'), 400, 'an unexpected field');
  await fourxx(await post('threads/tip:aaaaaaaaaaaaaaaaaaaaaaaaaa/star', '{"starred":true}'), 404, 'a thread not here');
  await fourxx(await post('threads/not-a-thread/star', '{"starred":true}'), 400, 'a malformed thread id');
  await fourxx(await raw(port, `/${secret}/api/threads?status=bogus`, { headers: good }), 400, 'an invalid status filter');
  await fourxx(await raw(port, `/${secret}/api/threads?day=yesterday`, { headers: good }), 400, 'an invalid day filter');
  await fourxx(await raw(port, `/${secret}/api/threads?q=a&q=b`, { headers: good }), 400, 'a query given twice');
  await fourxx(await raw(port, `/${secret}/api/threads?what=1`, { headers: good }), 400, 'an unknown query field');
  await fourxx(await raw(port, `/${secret}/api/nothing`, { headers: good }), 404, 'an unknown route');
  await fourxx(await raw(port, `/${secret}/api/session`, { method: 'PUT', headers: { ...good, 'Content-Type': 'application/json' }, body: '{}' }), 405, 'PUT');
  await fourxx(await raw(port, `/${secret}/api/threads/%E0%A4%A`, { headers: good }), 404, 'a broken escape');
  await fourxx(await raw(port, `/${secret}/../../etc/passwd`, { headers: good }), 404, 'a path outside');
  const list = await api(desk, 'threads');
  t.equal(list.status, 200, 'the thread list answers');
  t.same(list.json().threads, [], 'an empty inbox: no threads');

  // Listening on 127.0.0.1 only: not on ::1, not on another loopback address (so not on 0.0.0.0 either).
  t.ok(await connects('127.0.0.1', port), 'connects on 127.0.0.1');
  t.notOk(await connects('127.0.0.2', port), 'not on 127.0.0.2 (not bound to 0.0.0.0)');
  t.notOk(await connects('::1', port), 'not on ::1');

  // Nothing of the secret in what it printed, past the one line with the URL.
  t.equal(desk.output().split(secret).length, 2, 'the secret is printed once, in the URL');
  t.equal(await desk.stop(), 0, 'SIGTERM: it closes cleanly, exit 0');

  // The same data folder and another root: refused.
  const other = await runCli(['keys', 'init', '--dir', join(n.work, 'other'), '--name', 'Other']);
  const otherFp = /fingerprint: (.+)/.exec(other.stdout)![1]!.trim();
  const again = await runCli(['desk', '--server', n.server.staffUrl, '--key', n.deskKey, '--fingerprint', otherFp, '--data', data], { timeoutMs: 60_000 });
  t.not(again.code, 0, 'a data folder pinned to another root refuses a different fingerprint');
  t.match(again.stderr, /pins the root/, 'and says why');

  // An auditor's key: refused, saying what an auditor can do.
  const add = await runCli(['keys', 'add-desk', '--dir', n.keys, '--name', 'Aud Itor', '--auditor']);
  t.equal(add.code, 0, add.stderr);
  const audKey = join(n.keys, readdirSync(n.keys).find((f) => /aud/i.test(f) && f.endsWith('.key'))!);
  const aud = await runCli(['desk', '--server', n.server.staffUrl, '--key', audKey, '--fingerprint', n.fp, '--data', join(n.work, 'aud-data')], { timeoutMs: 60_000 });
  t.not(aud.code, 0, 'an auditor key does not open the desk');
  t.match(aud.stderr, /auditor[\s\S]*tipline list[\s\S]*tipline audit/, 'and the refusal says what an auditor can do');

  // A data folder owned by nobody else cannot be tested without root; a file in its place is refused.
  writeFileSync(join(n.work, 'a-file'), '');
  const notDir = await runCli(['desk', '--server', n.server.staffUrl, '--key', n.deskKey, '--fingerprint', n.fp, '--data', join(n.work, 'a-file')], { timeoutMs: 60_000 });
  t.not(notDir.code, 0, '--data naming a file is refused');

  const help = await runCli(['desk', '--help']);
  t.equal(help.code, 0);
  t.match(help.stdout, /usage: tipline desk --server URL --key FILE[\s\S]*127\.0\.0\.1 only/, '--help says where it listens');
  t.match(help.stdout, /--notify-command CMD[\s\S]*even when it is\s+0, never when a tip arrives/, 'the notification schedule');
  t.match(help.stdout, /full-disk encryption/, 'and that full-disk encryption is expected');
  const noFp = await runCli(['desk', '--server', n.server.staffUrl, '--key', n.deskKey, '--data', join(n.work, 'fresh')]);
  t.equal(noFp.code, 2, 'no fingerprint and none pinned: a usage error');
  t.match(noFp.stderr, /missing --fingerprint FP/);
});
