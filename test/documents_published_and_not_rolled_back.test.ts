// The policy, canary and client manifest beside the directory are published as signed, served byte for byte at
// /.well-known/tipline/*, each change recorded in the audit chain (serial and days only); an older document is
// refused, and a row swapped in the database that does not verify under the root is not served.
import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dialects } from './helpers/databases.js';
import { newsroomServer } from './helpers/setup.js';
import { makePolicy, signPolicy, verifyPolicy } from '../crypto/policy.js';
import { makeCanary, signCanary, verifyCanary } from '../crypto/canary.js';
import { signClientManifest, verifyClientManifest } from '../crypto/client-manifest.js';
import { generateSigningKey } from '../crypto/keys.js';
import { verifyChain } from '../crypto/audit-chain.js';
import { STORED_COLUMNS } from '../schema/db.js';
import { publishDocument, publishDocumentsBeside } from '../server/documents.js';
import { readAudit } from '../server/audit.js';

const DAY = 86_400_000;

for (const dialect of await dialects()) {
  t.test(`signed documents on ${dialect.name}`, { skip: dialect.skip }, async (t) => {
    const clock = Date.parse('2026-03-01T13:37:11Z');
    const now = () => new Date(clock);
    const { store, newsroom, server } = await newsroomServer(t, dialect, { now }, { pinRoot: true });
    const get = (kind: string) => fetch(`${server.url}/.well-known/tipline/${kind}`);

    for (const kind of ['policy', 'canary', 'client-manifest']) {
      const res = await get(kind);
      t.equal(res.status, 404, `${kind}: 404 before one is published`);
      t.match(await res.json(), { error: { code: 'TIPLINE_ERR_NO_DOCUMENT', message: new RegExp(`no signed ${kind}`) } });
    }

    const policy = signPolicy(makePolicy({ now: now(), stored: STORED_COLUMNS, retention: { tips_days: 12 } }), newsroom.root);
    const canary = signCanary(makeCanary(now(), 14), newsroom.certificate, newsroom.signer);
    const manifest = signClientManifest({ v: 1, version: '0.1.0', files: [{ path: '/', sha256: 'a'.repeat(64), content_type: 'text/html; charset=utf-8', csp: "default-src 'none'" }] }, now(), newsroom.root);

    // Published from files beside the directory, as `tipline serve --directory DIR/directory.json` does.
    const dir = mkdtempSync(join(tmpdir(), 'tipline-docs-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'directory.json'), JSON.stringify(newsroom.doc));
    writeFileSync(join(dir, 'policy.json'), JSON.stringify(policy));
    writeFileSync(join(dir, 'canary.json'), JSON.stringify(canary));
    writeFileSync(join(dir, 'client-manifest.json'), JSON.stringify(manifest));
    const said: string[] = [];
    await publishDocumentsBeside(store.db, join(dir, 'directory.json'), now(), newsroom.fingerprint, (s) => said.push(s));
    t.equal(said.filter((s) => /published/.test(s)).length, 3, 'all three published');

    const p = await get('policy');
    t.equal(p.status, 200);
    t.same(await p.json(), policy, 'the policy served exactly as signed');
    t.equal(verifyPolicy(policy, newsroom.fingerprint).retention.tips_days, 12);
    t.same(await (await get('canary')).json(), canary, 'the canary served exactly as signed');
    t.equal(verifyCanary(canary, newsroom.fingerprint, now()).stale, false);
    t.same(await (await get('client-manifest')).json(), manifest, 'the client manifest served exactly as signed');
    t.equal(verifyClientManifest(manifest, newsroom.fingerprint).files.length, 1);

    // Published again: nothing changes, nothing is audited twice.
    await publishDocumentsBeside(store.db, join(dir, 'directory.json'), now(), newsroom.fingerprint, () => {});
    let log = await readAudit(store.db);
    t.same(log.filter((e) => e.kind.endsWith('-published') && e.kind !== 'directory-published').map((e) => e.kind).sort(), ['canary-published', 'client-manifest-published', 'policy-published'], 'one audit entry per document change');
    const pe = log.find((e) => e.kind === 'policy-published')!;
    t.same(JSON.parse(pe.detail), { key_period_days: 7, replies_days: 30, serial: verifyPolicy(policy, newsroom.fingerprint).serial, tips_days: 12, uploads_hours: 24 }, 'the policy entry: serial and days');
    t.notMatch(log.map((e) => e.detail).join('\n'), /T\d\d:\d\d/, 'no time of day in any entry');
    const de = JSON.parse(log.find((e) => e.kind === 'directory-published')!.detail) as Record<string, unknown>;
    t.match(de, { recipients: 2, desks: 1, new_desk_keys: 1, expires_day: '2026-03-08' }, 'the directory entry counts desks and new desk keys (rotations), to the day');

    // A newer canary replaces it; the older one is then refused (rollback).
    const later = new Date(clock + DAY);
    const canary2 = signCanary(makeCanary(later, 14, verifyCanary(canary, newsroom.fingerprint, now()).canary.serial), newsroom.certificate, newsroom.signer);
    t.equal((await publishDocument(store.db, 'canary', canary2, later, newsroom.fingerprint)).changed, true);
    await t.rejects(publishDocument(store.db, 'canary', canary, later, newsroom.fingerprint), { name: 'DocumentRollbackError', message: /older than serial/ }, 'an older canary is refused');
    t.same(await (await get('canary')).json(), canary2, 'the newer canary stays published');

    // A policy signed by another root is refused; a row swapped in by hand is not served.
    const stranger = generateSigningKey();
    const foreign = signPolicy(makePolicy({ now: later, stored: STORED_COLUMNS, retention: { tips_days: 3650 }, keyPeriodDays: 7 }), stranger);
    await t.rejects(publishDocument(store.db, 'policy', foreign, later, newsroom.fingerprint), /fingerprint|root/i, "another root's policy is refused");
    await store.db.updateTable('documents').set({ body: JSON.stringify(foreign) }).where('kind', '=', 'policy').execute();
    t.equal((await get('policy')).status, 404, 'a policy swapped into the database is not served');
    const flipped = { ...policy, signature: policy.signature.replace(/^./, (c) => (c === 'A' ? 'B' : 'A')) };
    await store.db.updateTable('documents').set({ body: JSON.stringify(flipped) }).where('kind', '=', 'policy').execute();
    t.equal((await get('policy')).status, 404, 'nor one with a corrupted signature');
    await store.db.updateTable('documents').set({ body: JSON.stringify(policy) }).where('kind', '=', 'policy').execute();
    t.equal((await get('policy')).status, 200, 'the signed one put back is served again');

    log = await readAudit(store.db);
    t.equal(verifyChain(log, newsroom.fingerprint).ok, true, 'the chain verifies');
  });
}
