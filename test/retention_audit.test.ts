// Expired tips and uploads are deleted on schedule; each purge and staff deletion is a link in a hash chain
// that breaks visibly when an entry is edited, removed or reordered.
import t from 'tap';
import { dialects } from './helpers/databases.js';
import { newsroomServer } from './helpers/setup.js';
import { makeEnvelope, makeNewsroom, uploadEnvelope, openUpload } from './helpers/fixtures.js';
import { purgeExpired } from '../server/retention.js';
import { readAudit } from '../server/audit.js';
import { verifyChain } from '../crypto/audit-chain.js';

const DAY = 86_400_000;

for (const dialect of await dialects()) {
  t.test(`retention and the audit chain on ${dialect.name}`, { skip: dialect.skip }, async (t) => {
    let clock = Date.parse('2026-03-01T13:37:11Z');
    const now = () => new Date(clock);
    const { store, newsroom, server } = await newsroomServer(t, dialect, { now, retentionDays: 30, uploadTtlHours: 24 });

    const receipt = await uploadEnvelope(server.url, await makeEnvelope(newsroom, 'old tip'));
    t.equal(receipt.received_day, '2026-03-01');
    const tip = await store.db.selectFrom('tips').selectAll().executeTakeFirstOrThrow();
    t.equal(new Date(tip.expires_day as string).toISOString().slice(0, 10), '2026-03-31');

    // An upload left unfinished: its expiries are rounded (idle: five minutes; overall cap: the hour), not the
    // moment it was opened.
    const created = await openUpload(server.url, await makeEnvelope(newsroom, 'left unfinished'));
    t.equal(created.chunk_count, 1);
    const upload = await store.db.selectFrom('uploads').selectAll().executeTakeFirstOrThrow();
    t.equal(new Date(upload.expires_at).getTime() % 300_000, 0, 'upload idle expiry is a whole five minutes');
    t.equal(new Date(upload.hard_expires_at).getTime() % 3_600_000, 0, 'its overall cap a whole hour');

    clock += 2 * DAY;
    t.same(await purgeExpired(store.db, now()), { tips: 0, uploads: 1, replies: 0, notes: 0 }, 'the abandoned upload is purged after a day');
    clock += 27 * DAY; // 2026-03-30
    t.same(await purgeExpired(store.db, now()), { tips: 0, uploads: 0, replies: 0, notes: 0 }, 'the tip is kept until its expiry day');
    clock += 1 * DAY; // 2026-03-31
    t.same(await purgeExpired(store.db, now()), { tips: 1, uploads: 0, replies: 0, notes: 0 }, 'and deleted on it');
    t.equal((await store.db.selectFrom('blob_chunks').select('idx').execute()).length, 0, 'with its chunks');
    t.same(await purgeExpired(store.db, now()), { tips: 0, uploads: 0, replies: 0, notes: 0 }, 'a second purge finds nothing');

    const audit = await readAudit(store.db);
    // 03-30's pass deleted nothing: its entry is the day's heartbeat (zero counts).
    t.same(audit.map((e) => e.kind), ['directory-published', 'purge', 'purge', 'purge']);
    t.same(audit.map((e) => e.day), ['2026-03-01', '2026-03-03', '2026-03-30', '2026-03-31'], 'audit entries carry days, not times');
    t.same(JSON.parse(audit[2]!.detail), { notes: 0, replies: 0, tips: 0, uploads: 0 });
    t.notMatch(JSON.stringify(audit), new RegExp(receipt.tip_id), 'purge entries do not name the tip (a receipt must not confirm it)');
    const fp = newsroom.fingerprint;
    t.match(verifyChain(audit, fp), { ok: true, head: { seq: 4 } }, 'the chain verifies');

    const edited = audit.map((e) => ({ ...e }));
    edited[1]!.detail = '{"tips":0,"uploads":0}';
    t.match(verifyChain(edited, fp), { ok: false, seq: 2, reason: 'hash' }, 'an edited entry');
    t.match(verifyChain([audit[0]!, audit[2]!], fp), { ok: false, reason: 'sequence' }, 'a removed entry');
    t.match(verifyChain([audit[0]!, audit[2]!, audit[1]!], fp), { ok: false, reason: 'sequence' }, 'reordered entries');
    const rehashedAlone = audit.map((e) => ({ ...e }));
    rehashedAlone[0]!.prev_hash = 'f'.repeat(64);
    t.match(verifyChain(rehashedAlone, fp), { ok: false, seq: 1, reason: 'link' }, 'a first entry that does not start from the genesis');
    t.match(verifyChain(audit, makeNewsroom().fingerprint), { ok: false, seq: 1, reason: 'link' }, "the chain is bound to this tip line's root: another root's genesis does not lead to it");
  });
}
