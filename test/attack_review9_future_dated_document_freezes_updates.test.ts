// A document dated far ahead of the server's clock (a misset clock on the offline root machine, or a serial game
// by whoever signs) carries a serial no honest later document can exceed: once published, every renewed policy
// or client manifest would be refused as a "rollback" until that date. The server refuses such a document.
import t from 'tap';
import { dialects } from './helpers/databases.js';
import { newsroomServer } from './helpers/setup.js';
import { makePolicy, signPolicy } from '../crypto/policy.js';
import { signClientManifest } from '../crypto/client-manifest.js';
import { STORED_COLUMNS } from '../schema/db.js';
import { publishDocument } from '../server/documents.js';

const built = { v: 1 as const, version: '0.1.0', files: [{ path: '/', sha256: 'a'.repeat(64), content_type: 'text/html; charset=utf-8', csp: "default-src 'none'" }] };

for (const dialect of await dialects()) {
  t.test(`future-dated documents on ${dialect.name}`, { skip: dialect.skip }, async (t) => {
    const clock = Date.parse('2026-03-01T13:37:11Z');
    const now = () => new Date(clock);
    const { store, newsroom, server } = await newsroomServer(t, dialect, { now }, { pinRoot: true });
    const future = new Date('2100-01-01T00:00:00Z');

    const farPolicy = signPolicy(makePolicy({ now: future, stored: STORED_COLUMNS, retention: { tips_days: 3650 } }), newsroom.root);
    await t.rejects(publishDocument(store.db, 'policy', farPolicy, now(), newsroom.fingerprint), { name: 'DocumentFormatError', message: /after this server's clock/ }, 'a policy issued in 2100 is refused');
    const honest = signPolicy(makePolicy({ now: now(), stored: STORED_COLUMNS }), newsroom.root);
    t.equal((await publishDocument(store.db, 'policy', honest, now(), newsroom.fingerprint)).changed, true, "today's policy can still be published");

    const farManifest = signClientManifest(built, future, newsroom.root);
    await t.rejects(publishDocument(store.db, 'client-manifest', farManifest, now(), newsroom.fingerprint), { name: 'DocumentFormatError', message: /after this server's clock/ }, 'a manifest signed in 2100 is refused');
    const today = signClientManifest(built, now(), newsroom.root);
    t.equal((await publishDocument(store.db, 'client-manifest', today, now(), newsroom.fingerprint)).changed, true, "today's manifest can still be published");

    // Within a day of clock skew is still accepted (the signing machine's clock may run a little ahead).
    const skewed = signClientManifest(built, new Date(clock + 3_600_000), newsroom.root);
    t.equal((await publishDocument(store.db, 'client-manifest', skewed, now(), newsroom.fingerprint)).changed, true, 'an hour ahead is accepted');
    t.equal((await fetch(`${server.url}/.well-known/tipline/client-manifest`)).status, 200);
  });
}
