// The server takes its retention from the signed policy beside the directory, and refuses to start when its own
// configuration, the database's tables and columns, or its log fields disagree with that policy: a 3-day policy
// gives a tip that expires 3 days after it was received and a reply kept replies_days; TIPLINE_RETENTION_DAYS=45
// against a 30-day policy, a column added by hand (PostgreSQL and PGlite) and a policy that leaves out a logged
// field each stop the start with one line naming what disagrees; a newer policy applies on SIGHUP.
import t, { type Test } from 'tap';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { runCli, type CliResult } from './helpers/cli.js';
import { quickKeysInit } from './helpers/quick-keys.js';
import { startChildServer, type ChildServer } from './helpers/child-server.js';
import { createPgDatabase, dialects, seedPglite } from './helpers/databases.js';
import { PASS, writePolicy } from './helpers/policy.js';
import { addDays, utcDay } from '../server/days.js';
import { openDatabase } from '../server/db.js';
import { LOGGED_FIELDS } from '../server/log-fields.js';
import { initCrypto } from '../crypto/node.js';

await initCrypto();

async function newsroom(t: Test): Promise<{ work: string; keys: string; fp: string; directory: string }> {
  const work = mkdtempSync(join(tmpdir(), 'tipline-policy-'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));
  const keys = join(work, 'keys');
  // Made once for this file and copied (same root for every case), key files at the least KDF cost: see quick-keys.ts.
  const init = await quickKeysInit(keys, [], PASS);
  if (init.code !== 0) throw new Error(`keys init failed: ${init.stderr}`);
  return { work, keys, fp: /fingerprint: (.+)/.exec(init.stdout)![1]!, directory: join(keys, 'directory.json') };
}

async function started(t: Test, args: string[], env: Record<string, string> = {}): Promise<ChildServer> {
  const server = await startChildServer(['--port', '0', ...args], { TIPLINE_POW_DIFFICULTY: '4', ...env });
  t.teardown(async () => {
    server.kill('SIGKILL');
    await server.exited;
  });
  return server;
}

async function stopped(server: ChildServer): Promise<void> {
  server.kill('SIGTERM');
  await server.exited;
}

/** `tipline serve` expected to refuse: exits non-zero with one `tipline:` line and no stack trace. */
async function refused(t: Test, args: string[], env: Record<string, string>, why: RegExp): Promise<CliResult> {
  const r = await runCli(['serve', '--port', '0', '--staff-port', '0', ...args], { env: { TIPLINE_POW_DIFFICULTY: '4', ...env }, timeoutMs: 90_000 });
  t.not(r.code, 0, 'serve exits with an error');
  const errors = r.stderr.split('\n').filter((l) => l.startsWith('tipline:'));
  t.equal(errors.length, 1, 'one error line');
  t.match(errors[0] ?? '', why, `naming what disagrees and the fix: ${errors[0] ?? r.stderr}`);
  t.notMatch(r.stderr, /\n\s+at .*:\d+:\d+/, 'no stack trace');
  t.notMatch(r.stdout + r.stderr, /listening on/, 'it never listened');
  return r;
}

const RECEIVED = /received (\d{4}-\d{2}-\d{2})/;
const DELETED = /deleted on: (\d{4}-\d{2}-\d{2})/;
const TIP = /tip id: ([a-z2-7]{26})/;

t.test('a 3-day policy decides the tip\'s and the reply\'s expiry; a newer one applies on SIGHUP', async (t) => {
  const { work, keys, fp, directory } = await newsroom(t);
  const policy = writePolicy(keys, fp, { tips_days: 3, replies_days: 5, uploads_hours: 6 });
  const data = join(work, 'data');
  await seedPglite(join(data, 'pg'));
  const server = await started(t, ['--data', data, '--directory', directory]);
  t.match(server.output(), new RegExp(`policy: serial ${policy.serial} in force: tips kept 3 days, replies 5 days, unfinished uploads 6 hours`), 'serve says which policy is in force');
  t.notMatch(server.output(), /no signed policy/, 'and does not warn that there is none');

  const source = ['--server', server.url, '--fingerprint', fp];
  const sent = await runCli(['submit', ...source, '--replies', '-m', 'the council sold the land']);
  t.equal(sent.code, 0, sent.stderr);
  const received = RECEIVED.exec(sent.stdout)![1]!;
  t.equal(DELETED.exec(sent.stdout)?.[1], addDays(received, 3), "the receipt's expiry: the day received + the policy's 3 days (not the default 30)");

  const deskKey = join(keys, readdirSync(keys).find((f) => f.endsWith('.key') && !['root.key', 'signing.key'].includes(f))!);
  const desk = ['--server', server.staffUrl, '--key', deskKey];
  const inbox = join(work, 'inbox');
  t.equal((await runCli(['fetch', ...desk, '--out', inbox])).code, 0, 'the desk fetches the tip');
  const before = utcDay(new Date());
  const replied = await runCli(['reply', ...desk, '--inbox', inbox, TIP.exec(sent.stdout)![1]!, '-m', 'Thank you.']);
  const after = utcDay(new Date());
  t.equal(replied.code, 0, replied.stderr);
  const kept = /kept until: (\d{4}-\d{2}-\d{2})/.exec(replied.stdout)?.[1];
  t.ok(kept === addDays(before, 5) || kept === addDays(after, 5), `the reply is kept the policy's replies_days (5) after it was posted: ${kept}`);

  // The request lines hold exactly the fields the policy lists as logged.
  const lines = server.output().split('\n').filter((l) => l.includes('"route"')).map((l) => JSON.parse(l) as Record<string, unknown>);
  t.ok(lines.length > 0, 'requests were logged');
  for (const l of lines) t.same(Object.keys(l).sort(), [...LOGGED_FIELDS].sort(), `a request line holds the logged fields only: ${JSON.stringify(l)}`);
  t.same([...policy.logged].sort(), [...LOGGED_FIELDS].sort(), 'which are the policy\'s');

  // A newer policy, published and applied on SIGHUP: the next tip expires after its 10 days.
  const newer = writePolicy(keys, fp, { tips_days: 10, replies_days: 10, uploads_hours: 24 });
  server.kill('SIGHUP');
  for (let i = 0; i < 200 && !/config: changed, recorded/.test(server.output()); i++) await new Promise((r) => setTimeout(r, 100));
  t.match(server.output(), new RegExp(`policy: serial ${newer.serial} now in force: tips kept 10 days`), 'SIGHUP applies the newer policy');
  t.match(server.output(), /config: changed, recorded in the audit chain/, 'and records the change');
  const again = await runCli(['submit', ...source, '-m', 'a second tip']);
  t.equal(again.code, 0, again.stderr);
  t.equal(DELETED.exec(again.stdout)?.[1], addDays(RECEIVED.exec(again.stdout)![1]!, 10), 'a tip sent after it expires 10 days after it was received');

  // An older policy file is not applied: the serial only grows.
  const older = writePolicy(keys, fp, { tips_days: 4 }, (p) => ({ ...p, serial: policy.serial }));
  server.kill('SIGHUP');
  for (let i = 0; i < 100 && !/policy\.json is not published/.test(server.output()); i++) await new Promise((r) => setTimeout(r, 100));
  t.match(server.output(), /policy\.json is not published: policy serial \d+ is older/, `a rolled-back policy (serial ${older.serial}) is refused`);
  const third = await runCli(['submit', ...source, '-m', 'a third tip']);
  t.equal(DELETED.exec(third.stdout)?.[1], addDays(RECEIVED.exec(third.stdout)![1]!, 10), 'and the 10 days stay in force');
  await stopped(server);
});

t.test('TIPLINE_RETENTION_DAYS that disagrees with the signed policy stops the start', async (t) => {
  const { work, keys, directory } = await newsroom(t);
  const data = join(work, 'data');
  await seedPglite(join(data, 'pg'));
  await refused(t, ['--data', data, '--directory', directory], { TIPLINE_RETENTION_DAYS: '45' }, new RegExp(`TIPLINE_RETENTION_DAYS is 45, but the signed policy \\(serial \\d+\\) keeps tips 30 days: .*tipline policy set --dir ${keys.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} --tips-days 45\`, then restart`));
  // The same setting equal to the policy's is no disagreement.
  const server = await started(t, ['--data', data, '--directory', directory], { TIPLINE_RETENTION_DAYS: '30' });
  t.match(server.output(), /policy: serial \d+ in force: tips kept 30 days/, 'TIPLINE_RETENTION_DAYS=30 agrees with the 30-day policy: serve starts');
  await stopped(server);
});

t.test('a policy that does not say what is logged stops the start', async (t) => {
  const { work, keys, fp, directory } = await newsroom(t);
  writePolicy(keys, fp, {}, (p) => ({ ...p, logged: p.logged.filter((f) => f !== 'duration_ms') }));
  const data = join(work, 'data');
  await seedPglite(join(data, 'pg'));
  await refused(t, ['--data', data, '--directory', directory], {}, /the signed policy \(serial \d+\) lists the logged fields as level, method, route, status, but this server logs .*duration_ms.*: the server logs duration_ms, which the policy does not list/);
});

t.test('no signed policy: the server runs on its configuration and says so once', async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'tipline-policy-'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));
  const data = join(work, 'data');
  await seedPglite(join(data, 'pg'));
  const server = await started(t, ['--data', data], { TIPLINE_RETENTION_DAYS: '45' });
  t.equal(server.output().match(/no signed policy/g)?.length, 1, 'one warning');
  t.match(server.output(), /warning: no signed policy: tips kept 45 days, replies 45 days, unfinished uploads 24 hours, from this server's configuration/, 'naming the values in force');
  t.match(server.output(), /config: not recorded in the audit chain \(no directory published yet/, 'and that the chain has not started');
  await stopped(server);
});

for (const dialect of await dialects()) {
  t.test(`a column added by hand stops the start (${dialect.name})`, { skip: dialect.skip }, async (t) => {
    const { work, fp, directory } = await newsroom(t);
    const data = join(work, 'data');
    let args: string[];
    let env: Record<string, string> = {};
    let alter: (statement: string) => Promise<void>;
    if (dialect.name === 'postgres') {
      const created = await createPgDatabase();
      t.teardown(() => created.drop());
      args = ['--fingerprint', fp, '--directory', directory];
      env = { DATABASE_URL: created.url };
      alter = async (statement) => {
        const client = new pg.Client({ connectionString: created.url });
        await client.connect();
        try {
          await client.query(statement);
        } finally {
          await client.end();
        }
      };
    } else {
      await seedPglite(join(data, 'pg'));
      args = ['--data', data, '--directory', directory];
      // What someone with the data folder can do while the server is stopped.
      alter = async (statement) => {
        const db = new PGlite(join(data, 'pg'));
        try {
          await db.exec(statement);
        } finally {
          await db.close();
        }
      };
    }
    const first = await started(t, args, env);
    t.match(first.output(), /policy: serial \d+ in force/, 'the database as migrated matches the policy: serve starts');
    await stopped(first);
    await alter('ALTER TABLE tips ADD COLUMN ip text');
    await refused(t, args, env, /the database differs from what the signed policy \(serial \d+\) says is stored: column tips\.ip is not in the policy; remove what the policy does not list/);
    await alter('ALTER TABLE tips DROP COLUMN ip');
    await alter('CREATE SCHEMA shadow; CREATE TABLE shadow.copies (id text, ip text)');
    await refused(t, args, env, /table shadow\.copies is not in the policy/);
    await alter('DROP SCHEMA shadow CASCADE');
    const again = await started(t, args, env);
    t.match(again.output(), /policy: serial \d+ in force/, 'with the database put back, serve starts again');
    await stopped(again);
  });
}

t.test('a stored policy changed by hand stops the start instead of falling back to defaults', async (t) => {
  const { work, directory } = await newsroom(t);
  const data = join(work, 'data');
  await seedPglite(join(data, 'pg'));
  const server = await started(t, ['--data', data, '--directory', directory]);
  await stopped(server);
  // Someone with the data folder makes the published policy say 300 days (its signature no longer holds).
  const opened = await openDatabase({ dataDir: join(data, 'pg') });
  const row = await opened.db.selectFrom('documents').select('body').where('kind', '=', 'policy').executeTakeFirstOrThrow();
  const doc = JSON.parse(row.body) as { payload: string };
  const payload = JSON.parse(Buffer.from(doc.payload, 'base64').toString('utf8')) as { retention: { tips_days: number } };
  t.equal(payload.retention.tips_days, 30, 'the published policy says 30 days');
  payload.retention.tips_days = 300;
  const forged = JSON.stringify({ ...doc, payload: Buffer.from(JSON.stringify(payload)).toString('base64') });
  await opened.db.updateTable('documents').set({ body: forged }).where('kind', '=', 'policy').execute();
  await opened.close();
  // Started without the policy file (the data folder's pin names the root): nothing to heal the row from.
  await refused(t, ['--data', data], {}, /the stored policy does not verify under the pinned root/);
});
