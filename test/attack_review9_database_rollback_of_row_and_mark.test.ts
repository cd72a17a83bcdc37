// Someone with write access to the database (a compelled operator, a stolen backup restored) puts back an older
// policy AND its serial mark: both live in the same `documents` table, so the "only grows" check compares the old
// row with the old mark and the old, laxer policy is served again as current. The audit chain still records that
// a newer serial was published; the server does not consult it. (A full database writer can also extend the
// chain, so the lasting defence is client-side: auditors and `tipline audit` remember the highest serial seen;
// the server-side check would at least force a visible, decreasing-serial entry into the chain.)
import t from 'tap';
import { dialects } from './helpers/databases.js';
import { newsroomServer } from './helpers/setup.js';
import { makePolicy, payloadDigest, signPolicy, verifyPolicy } from '../crypto/policy.js';
import { STORED_COLUMNS } from '../schema/db.js';
import { publishDocument } from '../server/documents.js';

const DAY = 86_400_000;

for (const dialect of await dialects()) {
  t.test(`row and mark swapped back on ${dialect.name}`, { skip: dialect.skip }, async (t) => {
    const clock = Date.parse('2026-03-01T13:37:11Z');
    const now = () => new Date(clock + DAY);
    const { store, newsroom, server } = await newsroomServer(t, dialect, { now }, { pinRoot: true });
    const lax = signPolicy(makePolicy({ now: new Date(clock), stored: STORED_COLUMNS, retention: { tips_days: 3650 } }), newsroom.root);
    const strict = signPolicy(makePolicy({ now: new Date(clock + DAY), stored: STORED_COLUMNS, retention: { tips_days: 7 } }), newsroom.root);
    await publishDocument(store.db, 'policy', lax, new Date(clock), newsroom.fingerprint);
    await publishDocument(store.db, 'policy', strict, now(), newsroom.fingerprint);

    // The swap: the old row and the old mark, in one UPDATE each.
    await store.db.updateTable('documents').set({ body: JSON.stringify(lax) }).where('kind', '=', 'policy').execute();
    const mark = JSON.stringify({ serial: verifyPolicy(lax, newsroom.fingerprint).serial, digest: payloadDigest(lax) });
    await store.db.updateTable('documents').set({ body: mark }).where('kind', '=', 'policy-serial').execute();

    const res = await fetch(`${server.url}/.well-known/tipline/policy`);
    const served = res.status === 200 ? verifyPolicy(await res.json(), newsroom.fingerprint) : undefined;
    t.not(served?.retention.tips_days, 3650, 'the rolled-back 10-year policy is not served as current (the audit chain says a newer serial was published)');
  });
}
