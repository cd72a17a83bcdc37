// The audit chain checks: the log of purges, deletions and changes, read from the database and/or the staff
// API, walked from this tip line's genesis (crypto/audit-chain.ts); the server's signed head against it; the
// heads the auditor kept at earlier audits (a consistent rewrite, or a cut-off end, is caught only by them);
// every staff deletion's desk-signed statement; and a purge entry every day (the job ran).
import { genesisHead, verifyChain, type AuditEntry, type ChainHead } from '../../../crypto/audit-chain.js';
import { verifySignedHead, type SignedHead } from '../../../crypto/audit-head.js';
import type { Policy } from '../../../crypto/policy.js';
import type { Directory } from '../../../crypto/directory.js';
import { clean, fail, NOT_PUBLISHED, pass, skip, type CheckResult } from './types.js';
import type { Got } from './sources.js';
import type { KeptHead } from './heads.js';

/** Days without a purge entry tolerated: the job runs every 10 minutes and writes a heartbeat entry daily, so a
 * day may pass between two heartbeats (a restart around midnight, a pass that ran just before and after it);
 * three days without one means it did not run. */
export const HEARTBEAT_DAYS = 2;
/** A signed head older than this many days: the server stopped signing (it signs at every retention pass). */
export const HEAD_DAYS = 2;
const DAY = 86_400_000;

export interface ChainInputs {
  fp: string;
  today: string;
  /** Undefined: not asked for (no DATABASE_URL / no --key). */
  fromDb?: Got<AuditEntry[]>;
  fromApi?: Got<unknown>;
  signedHead: Got;
  kept?: KeptHead[];
  policy?: Policy;
  directory?: Directory;
  /** crypto/deletion-statement.ts's checkDeletionEntries, when this build has it: the problems, [] for none. */
  checkDeletions?: (entries: readonly AuditEntry[], opts: { desks?: readonly { name: string; role: string; sign_key: string }[] }) => { seq: number; message: string }[];
}

export interface ChainOutputs {
  checks: CheckResult[];
  /** The heads to keep (none when the log or the kept heads did not check out). */
  keep: KeptHead[];
}

function isEntry(e: unknown): e is AuditEntry {
  const r = e as AuditEntry;
  return !!r && typeof r === 'object' && typeof r.seq === 'number' && typeof r.day === 'string' && typeof r.kind === 'string' && typeof r.detail === 'string' && typeof r.prev_hash === 'string' && typeof r.hash === 'string';
}

/** The staff API's answer as entries (and the head it may carry), or why not. */
function apiEntries(got: Got<unknown>): Got<{ entries: AuditEntry[]; head?: unknown }> {
  if (!got.ok) return got;
  const v = got.value as { entries?: unknown; head?: unknown };
  if (!v || !Array.isArray(v.entries) || !v.entries.every(isEntry)) return { ok: false, why: 'the staff API\'s answer is not a list of audit entries' };
  return { ok: true, value: { entries: v.entries.map((e) => ({ seq: e.seq, day: e.day, kind: e.kind, detail: e.detail, prev_hash: e.prev_hash, hash: e.hash })), ...(v.head !== undefined ? { head: v.head } : {}) } };
}

const dayNumber = (d: string) => Math.floor(Date.parse(`${d}T00:00:00Z`) / DAY);

export function checkChain(i: ChainInputs): ChainOutputs {
  const checks: CheckResult[] = [];
  const api = i.fromApi ? apiEntries(i.fromApi) : undefined;
  const sources: { name: string; entries: AuditEntry[] }[] = [];
  const problems: string[] = [];
  for (const [name, got] of [['the database', i.fromDb], ['the staff API', api && (api.ok ? { ok: true as const, value: api.value.entries } : api)]] as const) {
    if (!got) continue;
    if (!got.ok) {
      problems.push(`${name}: ${got.why}`);
      continue;
    }
    const v = verifyChain(got.value, i.fp);
    if (!v.ok) problems.push(`${name}: ${clean(v.message, 240)}`);
    else sources.push({ name, entries: got.value });
  }
  const asked = i.fromDb !== undefined || i.fromApi !== undefined;
  if (!asked) checks.push(skip('audit-chain', 'the log was not read: give DATABASE_URL (read-only) or an auditor key (--key, --staff)'));
  else if (problems.length > 0) checks.push(fail('audit-chain', problems.join('; ')));
  else {
    const e = sources[0]!.entries;
    checks.push(pass('audit-chain', `${e.length} entr${e.length === 1 ? 'y' : 'ies'} read from ${sources.map((s) => s.name).join(' and ')}, every link intact from this tip line's genesis${e.length ? ` (${e[0]!.day} to ${e[e.length - 1]!.day})` : ''}`));
  }
  // The chain the other checks use: the database's when read (the whole log as stored), else the API's.
  const chain = problems.length === 0 && sources.length > 0 ? sources[0]!.entries : undefined;

  // audit-sources: the staff API is read before the database, so the database may hold entries appended in
  // between, never fewer.
  const db = sources.find((s) => s.name === 'the database')?.entries;
  const viaApi = sources.find((s) => s.name === 'the staff API')?.entries;
  if (i.fromDb === undefined || i.fromApi === undefined) checks.push(skip('audit-sources', 'read from one source only (both DATABASE_URL and --key compare the log the server stores with the one it shows auditors)'));
  else if (!db || !viaApi) checks.push(fail('audit-sources', 'the log could not be read from both (see the audit-chain check)'));
  else {
    const k = viaApi.findIndex((e, n) => db[n]?.hash !== e.hash);
    if (k >= 0) checks.push(fail('audit-sources', `entry ${viaApi[k]!.seq} differs: the staff API shows auditors another log than the database holds`));
    else if (viaApi.length > db.length) checks.push(fail('audit-sources', `the staff API shows ${viaApi.length} entries, the database holds ${db.length}`));
    else checks.push(pass('audit-sources', `the same ${viaApi.length} entries${db.length > viaApi.length ? ` (and ${db.length - viaApi.length} appended between the two reads)` : ''}`));
  }

  // audit-head: the server's signed head.
  let head: SignedHead | undefined;
  const auditKey = i.policy?.audit_key;
  if (!i.signedHead.ok) checks.push(fail('audit-head', i.signedHead.why));
  else {
    try {
      head = verifySignedHead(i.signedHead.value, auditKey);
    } catch (err) {
      checks.push(fail('audit-head', clean((err as Error).message, 240)));
    }
  }
  if (head) {
    const problem: string[] = [];
    if (chain) {
      const at: ChainHead | undefined = head.seq === 0 ? genesisHead(i.fp) : chain[head.seq - 1] && { seq: head.seq, hash: chain[head.seq - 1]!.hash };
      if (!at) problem.push(`it signs entry ${head.seq}, but the log has ${chain.length}: the log's end was cut off`);
      else if (at.hash !== head.hash) problem.push(`it signs entry ${head.seq} with another hash than the log's: the log was rewritten after it was signed`);
    }
    const age = dayNumber(i.today) - dayNumber(head.day);
    if (age > HEAD_DAYS) problem.push(`it was last signed on ${head.day}, ${age} days ago`);
    if (age < -1) problem.push(`it is dated ${head.day}, in the future`);
    if (problem.length > 0) checks.push(fail('audit-head', problem.join('; ')));
    else checks.push(pass('audit-head', `entry ${head.seq}, signed ${head.day}${auditKey ? ' by the key the policy names' : ''}${chain ? ', as in the log' : asked ? ' (not compared: the log did not verify)' : ' (the log itself was not read)'}`));
  }

  // kept-heads.
  let keptOk = true;
  if (!i.kept) checks.push(skip('kept-heads', 'no --heads FILE: keep one, so that a later rewrite of the log is caught'));
  else {
    const problem: string[] = [];
    const limited: string[] = [];
    for (const k of i.kept) {
      const seen = `a head kept on ${k.seen}`;
      if (k.signature !== undefined && k.key !== undefined && k.day !== undefined) {
        try {
          verifySignedHead({ v: 1, seq: k.seq, hash: k.hash, day: k.day, key: k.key, signature: k.signature });
        } catch {
          problem.push(`${seen} no longer verifies (the heads file was changed)`);
          continue;
        }
        const want = auditKey ?? head?.key;
        if (want !== undefined && k.key !== want) problem.push(`${seen} (entry ${k.seq}) was signed with another key than ${auditKey ? 'the policy\'s audit key' : 'today\'s head'}: the server's head key changed`);
      }
      if (chain) {
        if (k.seq > chain.length) problem.push(`${seen} covers ${k.seq} entries, the log now has ${chain.length}: its end was cut off`);
        else if ((k.seq === 0 ? genesisHead(i.fp).hash : chain[k.seq - 1]!.hash) !== k.hash) problem.push(`entry ${k.seq} is not the one seen on ${k.seen}: the log was rewritten`);
      } else if (head) {
        if (k.seq > head.seq) problem.push(`${seen} covers ${k.seq} entries, today's signed head ${head.seq}: the log's end was cut off`);
        else if (k.seq === head.seq && k.hash !== head.hash) problem.push(`entry ${k.seq} is not the one seen on ${k.seen}: the log was rewritten`);
        else limited.push(k.seen);
      } else limited.push(k.seen);
    }
    keptOk = problem.length === 0;
    if (!keptOk) checks.push(fail('kept-heads', problem.join('; ')));
    else if (i.kept.length === 0) checks.push(pass('kept-heads', 'no head kept before: this audit\'s head is kept for the next one'));
    else if (limited.length === i.kept.length) checks.push(fail('kept-heads', 'the kept heads could not be compared: neither the log nor a signed head could be read'));
    else checks.push(pass('kept-heads', `all ${i.kept.length} head${i.kept.length === 1 ? '' : 's'} kept since ${i.kept[0]!.seen} are in the log${limited.length ? ` (${limited.length} compared with the signed head only)` : ''}`));
  }

  // deletions: each staff deletion's statement, signed by the desk that asked.
  if (!chain) checks.push(skip('deletions', 'the log was not read'));
  else {
    const deletes = chain.filter((e) => e.kind === 'staff-delete');
    if (deletes.length === 0) checks.push(pass('deletions', 'no deletion by staff in the log'));
    else if (!i.checkDeletions) checks.push(fail('deletions', `${deletes.length} staff deletion entr${deletes.length === 1 ? 'y carries' : 'ies carry'} no desk-signed statement: ${NOT_PUBLISHED}`));
    else {
      // With the directory's desks: a statement signed by a key of the forger's own verifies for that key, and
      // only the list of desk keys catches it (a desk since removed shows up here too: the auditor asks why).
      const bad = i.checkDeletions(chain, i.directory ? { desks: i.directory.recipients } : {});
      if (bad.length > 0) checks.push(fail('deletions', bad.slice(0, 10).map((b) => clean(b.message, 200)).join('; ') + (bad.length > 10 ? `; and ${bad.length - 10} more` : '')));
      else checks.push(pass('deletions', `${deletes.length} deletion${deletes.length === 1 ? '' : 's'} by staff, each with the statement signed by a desk the directory lists${i.directory ? '' : ' (signatures only: no verified directory)'}`));
    }
  }

  // purge-heartbeat: no stretch of more than HEARTBEAT_DAYS days, from the log's first day to today, without a
  // purge entry.
  if (!chain) checks.push(skip('purge-heartbeat', 'the log was not read'));
  else if (chain.length === 0) checks.push(pass('purge-heartbeat', 'the log is empty: nothing published yet'));
  else {
    const purges = [...new Set(chain.filter((e) => e.kind === 'purge').map((e) => e.day))].sort();
    const gaps: string[] = [];
    let last = chain[0]!.day;
    for (const d of [...purges, i.today]) {
      const gap = dayNumber(d) - dayNumber(last);
      if (gap > HEARTBEAT_DAYS) gaps.push(`${last} to ${d}`);
      if (d > last) last = d;
    }
    if (gaps.length > 0) checks.push(fail('purge-heartbeat', `no purge entry for more than ${HEARTBEAT_DAYS} days: ${gaps.slice(-5).join(', ')}`));
    else checks.push(pass('purge-heartbeat', purges.length ? `a purge entry at least every ${HEARTBEAT_DAYS} days since ${chain[0]!.day} (the last on ${purges[purges.length - 1]})` : `the log began on ${chain[0]!.day}, within the last ${HEARTBEAT_DAYS} days`));
  }

  // What to keep: the signed head when it checked out (it binds the server), and the log's own end when it
  // is further on (appended since the head was signed).
  // Threat: a run that FAILs because the signed head disagrees with the log (rewritten after it was signed)
  // must not adopt the log's end as trusted and drop the head: once the server re-signs over the rewritten log,
  // the next audit would PASS. A head whose signature verifies (under the policy's key when it names one) is
  // the server's own word and always kept, and the log's end only when that head agreed with it.
  const keep: KeptHead[] = [];
  const headOk = checks.find((c) => c.id === 'audit-head')?.status === 'PASS';
  if (head) keep.push({ seq: head.seq, hash: head.hash, seen: i.today, day: head.day, key: head.key, signature: head.signature });
  if (keptOk && problems.length === 0 && (headOk || !head)) {
    if (chain) {
      const end = chain.length ? { seq: chain.length, hash: chain[chain.length - 1]!.hash } : genesisHead(i.fp);
      if (!keep.some((k) => k.seq === end.seq)) keep.push({ ...end, seen: i.today });
    }
  }
  return { checks, keep };
}
