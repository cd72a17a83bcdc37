// A staff deletion's audit entry holds the desk's own signed deletion statement: `tipline delete` sends one, the
// entry verifies (verifyDeletionEntry, checkDeletionEntries), and an entry written by someone with database
// access — a statement signed by another key, a changed `by`, a statement copied into a second entry — does not,
// even though they can keep the hash chain itself consistent. A DELETE without a statement (a tipline from before
// statements) is refused with a 4xx saying to update. No tip id appears anywhere in the audit log.
import t from 'tap';
import { join } from 'node:path';
import { runCli } from './helpers/cli.js';
import { cliNewsroomServer } from './helpers/setup.js';
import { signedDelete } from './helpers/deletion.js';
import { readAudit, appendAudit } from '../server/audit.js';
import { loadStaffKey } from '../client/cli/keyfiles.js';
import { verifyChain } from '../crypto/audit-chain.js';
import { checkDeletionEntries, signDeletionStatement, verifyDeletionEntry, verifyDeletionStatement } from '../crypto/deletion-statement.js';
import { generateDeskKey } from '../crypto/keys.js';
import { loadDirectory } from '../server/directory.js';

process.env.TIPLINE_PASSPHRASE = 'correct horse battery staple'; // the key files runCli's keys init made

t.test('staff deletion entries no one else can write', async (t) => {
  const { keys, fingerprint, store, server } = await cliNewsroomServer(t);
  const staffHost = new URL(server.staffUrl).host;
  const submit = async (m: string) => {
    const r = await runCli(['submit', '--server', server.url, '--fingerprint', fingerprint, '-m', m]);
    t.equal(r.code, 0, r.stderr);
    return /tip id: ([a-z2-7]{26})/.exec(r.stdout)![1]!;
  };
  const tipId = await submit('delete me');

  const del = await runCli(['delete', '--yes', '--server', server.staffUrl, '--key', join(keys, 'desk.key'), tipId]);
  t.equal(del.code, 0, del.stderr);
  t.match(del.stdout, `deleted ${tipId}`);
  t.equal((await store.db.selectFrom('tips').select('id').execute()).length, 0, 'the tip is gone');

  const desk = await loadStaffKey(join(keys, 'desk.key'));
  const deskKey = Buffer.from(desk.signPublic).toString('base64');
  let audit = await readAudit(store.db);
  const entry = audit.find((e) => e.kind === 'staff-delete')!;
  t.ok(entry, 'a staff-delete entry');
  const st = verifyDeletionEntry(entry.detail, staffHost);
  t.equal(st.by, desk.name, 'it names the desk');
  t.equal(st.key, deskKey, "and holds the desk's key");
  t.equal(st.tips, 1);
  t.equal(st.day, entry.day);
  t.same(Object.keys(JSON.parse(entry.detail)).sort(), ['by', 'day', 'host_hash', 'key', 'nonce', 'signature', 'tips'], 'the statement and nothing else');
  const published = (await loadDirectory(store.db, new Date()))!.directory.recipients;
  t.same(checkDeletionEntries(audit, { staffHost, desks: published }), [], 'every staff-delete entry of the chain checks out');
  t.throws(() => verifyDeletionEntry(entry.detail, 'another.onion'), /another staff address/, 'made for this staff address only');

  await t.test('a DELETE without a statement (an older tipline) is refused, saying to update', async (t) => {
    const id = await submit('kept');
    const path = `/api/v1/staff/tips/${id}`;
    const bare = await fetch(server.staffUrl + path, signedDelete(desk, server.staffUrl, path, { body: undefined }));
    t.equal(bare.status, 400);
    const body = (await bare.json()) as { error: { code: string; message: string } };
    t.equal(body.error.code, 'TIPLINE_ERR_DELETION_STATEMENT');
    t.match(body.error.message, /update tipline/);
    const other = generateDeskKey();
    for (const [name, o, why] of [
      ['signed by another key', { statementKey: other }, /another key/],
      ['naming another desk', { by: 'someone-else' }, /another desk/],
      ['for another staff address', { statementHost: 'elsewhere.onion' }, /another staff address/],
      ['dated another day', { day: '2020-01-01' }, /dated 2020-01-01/],
      ['an empty object', { body: {} }, /update tipline/],
      ['malformed', { body: { statement: { by: 1 } } }, /malformed deletion statement/],
    ] as const) {
      const r = await fetch(server.staffUrl + path, signedDelete(desk, server.staffUrl, path, o));
      t.equal(r.status, 400, name);
      t.match(await r.json(), { error: { code: 'TIPLINE_ERR_DELETION_STATEMENT', message: why } }, name);
    }
    t.equal((await store.db.selectFrom('tips').select('id').where('id', '=', id).execute()).length, 1, 'the tip is still there');
  });

  await t.test('entries forged with database access do not verify', async (t) => {
    const outsider = generateDeskKey();
    const day = entry.day;
    const nonce = new Uint8Array(16).fill(7);
    // 1. Signed by another key, which the entry then names: the signature holds, but the key is no desk's.
    const ownKey = signDeletionStatement({ host: staffHost, by: desk.name, day, nonce }, outsider.signSecret);
    // 2. Signed by another key, naming the desk's key: the signature fails.
    const wrongSig = { ...ownKey, key: deskKey };
    // 3. The real statement with `by` changed: `by` is signed, so the signature fails.
    const renamed = { ...st, by: 'another-desk' };
    // 4. The real statement copied into a second entry (a deletion that never happened): its nonce repeats.
    const copied = { ...st };
    const forged = [ownKey, wrongSig, renamed, copied];
    await store.db.transaction().execute(async (trx) => {
      for (const f of forged) await appendAudit(trx, day, 'staff-delete', { ...f });
    });
    audit = await readAudit(store.db);
    t.match(verifyChain(audit, fingerprint), { ok: true }, 'the forger kept the hash chain consistent');
    const seqs = audit.slice(-4).map((e) => e.seq);
    t.doesNotThrow(() => verifyDeletionEntry(audit[audit.length - 4]!.detail), 'a statement by an outsider key verifies for its own key…');
    t.throws(() => verifyDeletionEntry(audit[audit.length - 3]!.detail), /bad signature/, 'another key naming the desk');
    t.throws(() => verifyDeletionEntry(audit[audit.length - 2]!.detail), /bad signature/, 'a changed by');
    t.throws(() => verifyDeletionStatement(audit[audit.length - 2]!.detail, deskKey), /bad signature/);
    const problems = checkDeletionEntries(audit, { staffHost, desks: published });
    t.same(problems.map((p) => p.seq), seqs, 'checkDeletionEntries flags all four forged entries and not the real one');
    t.match(problems[0]!.message, /not a desk key the directory lists/, '…but it is no desk key of this tip line');
    t.match(problems[3]!.message, /repeats the statement of entry/);
  });

  t.test('no tip id anywhere in the audit log', async (t) => {
    const rows = await store.db.selectFrom('audit_log').selectAll().execute();
    const text = JSON.stringify(rows);
    t.notMatch(text, tipId, 'not the deleted tip');
    for (const r of await store.db.selectFrom('tips').select('id').execute()) t.notMatch(text, r.id, 'not a kept one');
  });
  t.notMatch(server.logs(), /"status":500/);
});
