// The configuration a server runs with goes into the audit chain when it changes, and only then: the first start
// records one `config` entry (days and counts, no time, no id), a restart with the same configuration records
// none, a restart under a newer signed policy (10 days) records one with tips_days 10, and the chain still
// verifies from the newsroom's root. On PGlite and PostgreSQL.
import t from 'tap';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { quickKeysInit } from './helpers/quick-keys.js'; // keys init made once per test run, at the least KDF cost
import { startChildServer } from './helpers/child-server.js';
import { createPgDatabase, dialects, seedPglite } from './helpers/databases.js';
import { PASS, writePolicy } from './helpers/policy.js';
import { openDatabase } from '../server/db.js';
import { readAudit } from '../server/audit.js';
import { verifyChain } from '../crypto/audit-chain.js';
import { verifyPolicy } from '../crypto/policy.js';
import { initCrypto } from '../crypto/node.js';

await initCrypto();

for (const dialect of await dialects()) {
  t.test(`configuration changes are audited (${dialect.name})`, { skip: dialect.skip }, async (t) => {
    const work = mkdtempSync(join(tmpdir(), 'tipline-config-'));
    t.teardown(() => rmSync(work, { recursive: true, force: true }));
    const keys = join(work, 'keys');
    const init = await quickKeysInit(keys, [], PASS);
    t.equal(init.code, 0, init.stderr);
    const fp = /fingerprint: (.+)/.exec(init.stdout)![1]!;
    const first = verifyPolicy(JSON.parse(readFileSync(join(keys, 'policy.json'), 'utf8')), fp);

    const data = join(work, 'data');
    let args = ['--port', '0', '--data', data, '--directory', join(keys, 'directory.json')];
    let env: Record<string, string> = { TIPLINE_POW_DIFFICULTY: '5', TIPLINE_LOG_LEVEL: 'warn' };
    let where: { url: string } | { dataDir: string };
    if (dialect.name === 'postgres') {
      const created = await createPgDatabase();
      t.teardown(() => created.drop());
      args = [...args, '--fingerprint', fp];
      env = { ...env, DATABASE_URL: created.url };
      where = { url: created.url };
    } else {
      await seedPglite(join(data, 'pg'));
      where = { dataDir: join(data, 'pg') };
    }
    /** Starts serve, stops it gracefully, and returns what it said and the audit chain it left. */
    const run = async () => {
      const server = await startChildServer(args, env);
      t.teardown(() => server.kill('SIGKILL'));
      const said = server.output();
      server.kill('SIGTERM');
      t.equal(await server.exited, 0, 'serve stops cleanly');
      const opened = await openDatabase(where);
      try {
        return { said, chain: await readAudit(opened.db) };
      } finally {
        await opened.close();
      }
    };
    const configs = (chain: Awaited<ReturnType<typeof run>>['chain']) => chain.filter((e) => e.kind === 'config').map((e) => JSON.parse(e.detail) as Record<string, unknown>);

    const one = await run();
    t.match(one.said, /config: changed since the last start, recorded in the audit chain/, 'serve says it recorded the configuration');
    t.same(configs(one.chain), [{ tips_days: 30, replies_days: 30, uploads_hours: 24, policy_serial: first.serial, pow_difficulty: 5, log_level: 'warn' }], 'the first start appends one config entry: days, hours, the policy serial and two settings; no time, no id');

    const two = await run();
    t.notMatch(two.said, /config: changed/, 'a restart with the same configuration says nothing');
    t.equal(configs(two.chain).length, 1, 'and appends no entry');
    t.same(two.chain.slice(one.chain.length).filter((e) => e.kind !== 'purge'), [], 'nor anything but the retention pass\'s daily heartbeat');

    const newer = writePolicy(keys, fp, { tips_days: 10, replies_days: 10 });
    const three = await run();
    t.match(three.said, new RegExp(`policy: serial ${newer.serial} in force: tips kept 10 days`), 'the newer policy is in force');
    const after = configs(three.chain);
    t.equal(after.length, 2, 'a restart under a newer policy appends one config entry');
    t.match(after[1], { tips_days: 10, replies_days: 10, uploads_hours: 24, policy_serial: newer.serial }, 'with the new policy\'s days and serial');
    t.ok(three.chain.findIndex((e) => e.kind === 'policy-published' && e.seq > one.chain.length) >= 0, 'after the policy-published entry');
    t.match(verifyChain(three.chain, fp), { ok: true }, 'the chain still verifies from its root-bound genesis');
    t.ok(three.chain.every((e) => /^\d{4}-\d{2}-\d{2}$/.test(e.day)), 'entries carry days only');

    // Another setting (the proof-of-work difficulty) under the same policy is a change too.
    env = { ...env, TIPLINE_POW_DIFFICULTY: '6' };
    const four = await run();
    t.match(configs(four.chain).at(-1), { tips_days: 10, pow_difficulty: 6 }, 'a changed difficulty appends an entry');
    t.equal(configs(four.chain).length, 3);
  });
}
