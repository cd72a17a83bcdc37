// The retention job leaves a trace every day it runs, even when nothing expired: the first pass of each UTC day
// appends a `purge` entry with zero counts (a heartbeat), later passes that day append only when they delete
// something. Driven with the server's injectable clock; the chain still verifies.
import t from 'tap';
import { dialects } from './helpers/databases.js';
import { newsroomServer } from './helpers/setup.js';
import { purgeExpired } from '../server/retention.js';
import { readAudit } from '../server/audit.js';
import { verifyChain } from '../crypto/audit-chain.js';

const DAY = 86_400_000;

for (const dialect of await dialects()) {
  t.test(`daily purge heartbeat on ${dialect.name}`, { skip: dialect.skip }, async (t) => {
    let clock = Date.parse('2026-05-04T00:10:00Z');
    const now = () => new Date(clock);
    const { store, newsroom } = await newsroomServer(t, dialect, { now, retentionDays: 30 });
    const purges = async () => (await readAudit(store.db)).filter((e) => e.kind === 'purge');

    t.same(await purgeExpired(store.db, now()), { tips: 0, uploads: 0, replies: 0, notes: 0 });
    clock += 6 * 3_600_000;
    t.same(await purgeExpired(store.db, now()), { tips: 0, uploads: 0, replies: 0, notes: 0 }, 'a second pass on the same day');
    let p = await purges();
    t.equal(p.length, 1, 'one heartbeat for the day, however many passes');
    t.equal(p[0]!.day, '2026-05-04');
    t.same(JSON.parse(p[0]!.detail), { notes: 0, replies: 0, tips: 0, uploads: 0 }, 'with zero counts');

    clock += DAY; // 2026-05-05
    await purgeExpired(store.db, now());
    await purgeExpired(store.db, now());
    p = await purges();
    t.same(p.map((e) => e.day), ['2026-05-04', '2026-05-05'], 'the next day has its own');
    t.same(JSON.parse(p[1]!.detail), { notes: 0, replies: 0, tips: 0, uploads: 0 });

    // A pass that deletes something that day still records it, with its counts.
    await store.db.insertInto('tips').values({ id: 'c'.repeat(26), size: 10, chunk_size: 64, chunk_count: 0, received_day: '2026-04-01', expires_day: '2026-05-05' }).execute();
    t.same(await purgeExpired(store.db, now()), { tips: 1, uploads: 0, replies: 0, notes: 0 });
    p = await purges();
    t.equal(p.length, 3, 'a purge that deleted something is an entry of its own');
    t.same(JSON.parse(p[2]!.detail), { notes: 0, replies: 0, tips: 1, uploads: 0 });

    clock += 2 * DAY; // 2026-05-07: a day without any pass (05-06) shows as a day without a heartbeat
    await purgeExpired(store.db, now());
    p = await purges();
    t.same(p.map((e) => e.day), ['2026-05-04', '2026-05-05', '2026-05-05', '2026-05-07']);
    const audit = await readAudit(store.db);
    t.match(verifyChain(audit, newsroom.fingerprint), { ok: true, head: { seq: audit.length } }, 'the chain verifies');
  });
}

t.test('no heartbeat before a directory exists (the chain has no genesis), and no failure', async (t) => {
  const [pglite] = await dialects();
  const store = await pglite!.open();
  t.teardown(() => store.drop());
  t.same(await purgeExpired(store.db, new Date('2026-05-04T12:00:00Z')), { tips: 0, uploads: 0, replies: 0, notes: 0 });
  t.equal((await readAudit(store.db)).length, 0);
});
