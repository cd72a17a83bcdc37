// The audit chain's head is signed by the server's own key and published at /.well-known/tipline/audit-head:
// after a retention pass it verifies and names the chain's last entry, a deletion moves it, the staff audit
// answer carries the same head, and the head key is the same after the server and its database restart.
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPgDatabase, dialects, seedPglite } from './helpers/databases.js';
import { startServer } from './helpers/server.js';
import { makeEnvelope, makeNewsroom, staffHeaders, uploadEnvelope } from './helpers/fixtures.js';
import { signedDelete } from './helpers/deletion.js';
import { openDatabase, type OpenedDatabase } from '../server/db.js';
import { publishDirectory } from '../server/directory.js';
import { purgeExpired } from '../server/retention.js';
import { readAudit } from '../server/audit.js';
import { verifySignedHead, type SignedHead } from '../crypto/audit-head.js';
import { verifyChain } from '../crypto/audit-chain.js';

const DAY = 86_400_000;

async function head(url: string): Promise<{ status: number; body: unknown }> {
  const r = await fetch(`${url}/.well-known/tipline/audit-head`);
  return { status: r.status, body: await r.json() };
}

for (const dialect of await dialects()) {
  t.test(`signed audit head on ${dialect.name}`, { skip: dialect.skip }, async (t) => {
    // A database this test can close and open again, as a restart does.
    let open: () => Promise<OpenedDatabase>;
    if (dialect.name === 'pglite') {
      const dir = mkdtempSync(join(tmpdir(), 'tipline-head-'));
      await seedPglite(dir);
      t.teardown(() => rmSync(dir, { recursive: true, force: true }));
      open = () => openDatabase({ dataDir: dir });
    } else {
      const created = await createPgDatabase();
      t.teardown(() => created.drop());
      open = () => openDatabase({ url: created.url });
    }
    let clock = Date.now();
    const now = () => new Date(clock);
    const first = await open();
    let server = await startServer({ db: first.db, now });

    const none = await head(server.url);
    t.equal(none.status, 404, 'no head before a directory is published');
    t.match(none.body, { error: { code: 'TIPLINE_ERR_NO_DOCUMENT' } });
    await purgeExpired(first.db, now());
    t.equal((await head(server.url)).status, 404, 'a pass without a directory signs nothing (the chain has no genesis)');

    const newsroom = makeNewsroom(now());
    await publishDirectory(first.db, newsroom.doc, now());
    await purgeExpired(first.db, now());
    const a = await head(server.url);
    t.equal(a.status, 200);
    const h1 = verifySignedHead(a.body);
    const chain = await readAudit(first.db);
    const last = chain[chain.length - 1]!;
    t.same({ seq: h1.seq, hash: h1.hash }, { seq: last.seq, hash: last.hash }, 'the head names the last entry');
    t.equal(h1.day, now().toISOString().slice(0, 10), 'signed for the UTC day of the pass');
    t.match(verifyChain(chain, newsroom.fingerprint), { ok: true, head: { seq: h1.seq, hash: h1.hash } }, 'the chain verifies to the signed head');
    const forged = { ...h1, seq: h1.seq + 1 };
    t.throws(() => verifySignedHead(forged), /bad signature/, 'an edited head does not verify');

    const receipt = await uploadEnvelope(server.url, await makeEnvelope(newsroom, 'to delete'));
    const del = `/api/v1/staff/tips/${receipt.tip_id}`;
    const r = await fetch(server.staffUrl + del, signedDelete(newsroom.desk, server.staffUrl, del));
    t.equal(r.status, 200, await r.clone().text());
    const h2 = verifySignedHead((await head(server.url)).body, h1.key);
    const after = await readAudit(first.db);
    t.equal(h2.seq, h1.seq + 1, 'the deletion moved the head at once');
    t.equal(h2.hash, after[after.length - 1]!.hash);
    t.not(h2.hash, h1.hash);

    const auditPath = '/api/v1/staff/audit';
    const viaStaff = (await (await fetch(server.staffUrl + auditPath, { headers: staffHeaders(newsroom.auditor, 'GET', auditPath) })).json()) as { entries: unknown[]; head: SignedHead };
    t.same(viaStaff.head, h2, 'the staff audit answer carries the same signed head');
    t.equal(viaStaff.entries.length, after.length);

    // Restart: server and database closed, then opened again; a day later the pass signs with the same key.
    await server.close();
    await first.close();
    const second = await open();
    t.teardown(() => second.close());
    server = await startServer({ db: second.db, now });
    t.teardown(() => server.close());
    t.same(verifySignedHead((await head(server.url)).body), h2, 'the stored head is served after the restart');
    clock += DAY;
    await purgeExpired(second.db, now());
    const h3 = verifySignedHead((await head(server.url)).body, h1.key);
    t.equal(h3.key, h1.key, 'the head key survived the restart');
    t.equal(h3.day, now().toISOString().slice(0, 10), 'and signed the next day');
    const final = await readAudit(second.db);
    t.equal(h3.seq, final[final.length - 1]!.seq, "the next day's heartbeat entry is the head");
    t.notMatch(server.logs(), /"status":500/);
  });
}
