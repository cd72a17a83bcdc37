// `tipline audit` fails, naming the cause, when the database of a real deployment (PostgreSQL, `tipline serve` as
// a child) is tampered with by someone holding a superuser connection: a column added, an old row planted, an
// audit entry edited, removed or reordered, the log rewritten consistently (or cut short) after the auditor kept a
// head, statement logging turned on. Each change is undone before the next, and the audit passes again.
import t from 'tap';
import { join } from 'node:path';
import { deployment, lines, type Deployment } from './helpers/audit-deployment.js';
import { genesisHead, nextEntry, type AuditEntry } from '../crypto/audit-chain.js';

const DAY = 86_400_000;
const iso = (t: number) => new Date(t).toISOString().slice(0, 10);

async function entries(d: Deployment): Promise<AuditEntry[]> {
  const rows = await d.sql('select seq, day::text as day, kind, detail, prev_hash, hash from audit_log order by seq');
  return rows.map((r) => ({ seq: Number(r.seq), day: String(r.day), kind: String(r.kind), detail: String(r.detail), prev_hash: String(r.prev_hash), hash: String(r.hash) }));
}

/** Runs `fn` as a superuser who also switches off any trigger guarding the table (session_replication_role). */
async function tamper(d: Deployment, statements: [string, unknown[]?][]): Promise<void> {
  await d.sql('begin');
  try {
    await d.sql('set local session_replication_role = replica');
    for (const [s, p] of statements) await d.sql(s, p ?? []);
    await d.sql('commit');
  } catch (err) {
    await d.sql('rollback');
    throw err;
  }
}

/** The server re-signs its head at every retention pass: a pass during a test's tampering would sign the
 * tampered chain, so the signed head is put back with the log. */
let savedHead: string | undefined;
async function saveHead(d: Deployment): Promise<void> {
  savedHead = String((await d.sql("select body from documents where kind = 'audit-head'"))[0]?.body ?? '');
}

async function writeBack(d: Deployment, rows: AuditEntry[]): Promise<void> {
  const head: [string, unknown[]][] = savedHead ? [["update documents set body = $1 where kind = 'audit-head'", [savedHead]]] : [];
  await tamper(d, [...head, ['delete from audit_log'], ...rows.map((r): [string, unknown[]] => ['insert into audit_log (seq, day, kind, detail, prev_hash, hash) values ($1, $2, $3, $4, $5, $6)', [r.seq, r.day, r.kind, r.detail, r.prev_hash, r.hash]])]);
}

t.test('the audit names each kind of tampering with the database', { timeout: 900_000 }, async (t) => {
  const d = await deployment(t);
  const clean = await d.audit();
  t.equal(clean.code, 0, `the deployment starts clean:\n${clean.stdout}`);

  await t.test('a column added to a table', async (t) => {
    await d.sql('alter table tips add column note text');
    const r = await d.audit();
    t.equal(r.code, 1);
    t.equal(lines(r.stdout)['database-schema']?.status, 'FAIL');
    t.match(lines(r.stdout)['database-schema']?.detail, /column tips\.note is not in the policy/);
    await d.sql('alter table tips drop column note');
    t.equal((await d.audit()).code, 0, 'passes once it is dropped');
  });

  await t.test('a table of its own in another schema', async (t) => {
    await d.sql('create schema keep; create table keep.copy (id text)');
    const r = await d.audit();
    t.equal(r.code, 1);
    t.match(lines(r.stdout)['database-schema']?.detail, /table keep\.copy is not in the policy/);
    await d.sql('drop schema keep cascade');
  });

  await t.test('an old row planted', async (t) => {
    // Received 400 days ago; its expiry pushed into the future so the purge leaves it alone.
    const received = iso(Date.now() - 400 * DAY);
    const expires = iso(Date.now() + 5 * DAY);
    await d.sql('insert into tips (id, size, chunk_size, chunk_count, received_day, expires_day) values ($1, 1024, 1024, 1, $2, $3)', ['a'.repeat(26), received, expires]);
    const r = await d.audit();
    t.equal(r.code, 1);
    const l = lines(r.stdout).retention;
    t.equal(l?.status, 'FAIL');
    t.match(l?.detail, new RegExp(`1 tip received before the last 30 days \\(the oldest on ${received}\\)`));
    t.match(l?.detail, /1 tip whose deletion day is not its day of receipt \+ 30 \(an edited expiry\)/);
    await d.sql('delete from tips where id = $1', ['a'.repeat(26)]);
  });

  await t.test('an audit entry edited, removed or reordered', async (t) => {
    const orig = await entries(d);
    await saveHead(d);
    t.ok(orig.length >= 3, `the log has entries to tamper with (${orig.length})`);
    await tamper(d, [['update audit_log set detail = $1 where seq = 2', ['{"tips":0}']]]);
    let r = await d.audit();
    t.equal(r.code, 1);
    t.match(lines(r.stdout)['audit-chain']?.detail, /entry 2: its hash does not match its content/, 'edited');
    await writeBack(d, orig);

    await tamper(d, [['delete from audit_log where seq = 2']]);
    r = await d.audit();
    t.equal(r.code, 1);
    t.match(lines(r.stdout)['audit-chain']?.detail, /entry 3: expected sequence number 2 \(an entry is missing or out of order\)/, 'removed');
    await writeBack(d, orig);

    // Entries 1 and 2 swap places (their contents under each other's numbers).
    await tamper(d, [['update audit_log set seq = 1000000 where seq = 1'], ['update audit_log set seq = 1 where seq = 2'], ['update audit_log set seq = 2 where seq = 1000000']]);
    r = await d.audit();
    t.equal(r.code, 1);
    t.match(lines(r.stdout)['audit-chain']?.detail, /entry 1: /, 'reordered');
    t.equal(lines(r.stdout)['audit-chain']?.status, 'FAIL');
    await writeBack(d, orig);
    t.equal((await d.audit()).code, 0, 'passes once restored');
  });

  await t.test('the log rewritten consistently, or cut short, after a head was kept', async (t) => {
    const heads = join(d.work, 'kept-heads.json');
    const kept = await d.audit(['--heads', heads]);
    t.equal(kept.code, 0, 'an audit keeps the current head');
    const orig = await entries(d);
    await saveHead(d);
    // Rewrite from entry 2 on: every hash recomputed, so the chain alone verifies.
    const rewritten: AuditEntry[] = [];
    let head = genesisHead(d.fp);
    for (const e of orig) {
      const detail = e.seq === 2 ? { rewritten: true } : (JSON.parse(e.detail) as Record<string, string | number | boolean>);
      const n = nextEntry(head, e.day, e.kind, detail);
      rewritten.push(n);
      head = { seq: n.seq, hash: n.hash };
    }
    await writeBack(d, rewritten);
    let r = await d.audit(['--heads', heads]);
    t.equal(r.code, 1);
    const l = lines(r.stdout);
    t.equal(l['audit-chain']?.status, 'PASS', 'the rewritten chain is consistent in itself');
    t.equal(l['kept-heads']?.status, 'FAIL');
    t.match(l['kept-heads']?.detail, /is not the one seen on \d{4}-\d{2}-\d{2}: the log was rewritten/, 'the kept head catches it');
    await writeBack(d, orig);

    // Cut short: the last entries removed (the chain alone still verifies).
    await tamper(d, [['delete from audit_log where seq > 1']]);
    r = await d.audit(['--heads', heads]);
    t.equal(r.code, 1);
    t.equal(lines(r.stdout)['audit-chain']?.status, 'PASS');
    t.match(lines(r.stdout)['kept-heads']?.detail, /the log now has 1: its end was cut off/);
    await writeBack(d, orig);
    t.equal((await d.audit(['--heads', heads])).code, 0, 'passes once restored');
  });

  await t.test('log_statement = all', async (t) => {
    const name = new URL(d.dbUrl).pathname.slice(1);
    await d.sql(`alter database ${name} set log_statement = 'all'`);
    const r = await d.audit();
    t.equal(r.code, 1);
    t.equal(lines(r.stdout)['database-logging']?.status, 'FAIL');
    t.match(lines(r.stdout)['database-logging']?.detail, /log_statement = all \(statements are logged\)/);
    await d.sql(`alter database ${name} reset log_statement`);
    // A per-role setting for the server's own role is seen too (the auditor's session does not get it).
    await d.sql(`alter role postgres in database ${name} set log_duration = on`);
    const r2 = await d.audit();
    t.match(lines(r2.stdout)['database-logging']?.detail, /log_duration = on \(the time of every statement is logged\), set for role postgres in this database/);
    await d.sql(`alter role postgres in database ${name} reset log_duration`);
    t.equal((await d.audit()).code, 0, 'passes once reset');
  });
});
