// Attack (review of issue 9): the operator rewrites the audit log consistently, keeping the head signed before.
// The auditor's first audit with a fresh --heads file FAILs (the signed head does not match the log), but it
// threw that signed head away and kept the rewritten log's end instead; once the server re-signs its head over
// the rewritten log (it does at every retention pass, here a restart), the next audit with the same file PASSed:
// the one piece of evidence of the rewrite was lost and the rewrite adopted. A signed head that verifies is now
// always kept, and the log's own end only when the signed head agreed with it.
import t from 'tap';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { deployment, lines, type Deployment } from './helpers/audit-deployment.js';
import { genesisHead, nextEntry, type AuditEntry } from '../crypto/audit-chain.js';

async function entries(d: Deployment): Promise<AuditEntry[]> {
  const rows = await d.sql('select seq, day::text as day, kind, detail, prev_hash, hash from audit_log order by seq');
  return rows.map((r) => ({ seq: Number(r.seq), day: String(r.day), kind: String(r.kind), detail: String(r.detail), prev_hash: String(r.prev_hash), hash: String(r.hash) }));
}

t.test('a FAILed run does not keep the rewritten log as a trusted head', { timeout: 900_000 }, async (t) => {
  const d = await deployment(t);
  t.equal((await d.audit()).code, 0, 'the deployment starts clean');
  const orig = await entries(d);
  t.ok(orig.length >= 2, `the log has entries (${orig.length})`);
  // Rewrite from entry 2 on, every hash recomputed: the chain alone verifies. The signed head stays as it was.
  const rewritten: AuditEntry[] = [];
  let head = genesisHead(d.fp);
  for (const e of orig) {
    const detail = e.seq === 2 ? { rewritten: true } : (JSON.parse(e.detail) as Record<string, string | number | boolean>);
    const n = nextEntry(head, e.day, e.kind, detail);
    rewritten.push(n);
    head = { seq: n.seq, hash: n.hash };
  }
  await d.sql('begin');
  await d.sql('set local session_replication_role = replica');
  await d.sql('delete from audit_log');
  for (const r of rewritten) await d.sql('insert into audit_log (seq, day, kind, detail, prev_hash, hash) values ($1, $2, $3, $4, $5, $6)', [r.seq, r.day, r.kind, r.detail, r.prev_hash, r.hash]);
  await d.sql('commit');

  const heads = join(d.work, 'heads.json');
  const first = await d.audit(['--heads', heads]);
  t.equal(first.code, 1, 'the first audit fails');
  t.equal(lines(first.stdout)['audit-head']?.status, 'FAIL', `the signed head does not match:\n${first.stdout}`);
  const file = JSON.parse(readFileSync(heads, 'utf8')) as { heads: { seq: number; hash: string; signature?: string }[] };
  t.notOk(file.heads.some((h) => h.signature === undefined && rewritten.some((r) => r.seq === h.seq && r.hash === h.hash && r.seq >= 2)), 'no end of the rewritten log is kept unsigned');

  // The server re-signs its head over the rewritten log.
  await d.restart();
  const second = await d.audit(['--heads', heads]);
  t.equal(second.code, 1, `the next audit still fails:\n${second.stdout}`);
  t.equal(lines(second.stdout)['kept-heads']?.status, 'FAIL', 'the kept signed head catches the rewrite');
});
