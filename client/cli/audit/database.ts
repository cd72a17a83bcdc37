// The database checks of `tipline audit`: the tables and columns that exist (from the catalog) against the
// policy's list, rows kept past the policy, and PostgreSQL's logging settings. Everything is read in one READ
// ONLY transaction (threat to the evidence itself: an audit must not be able to change what it audits, even
// when the auditor was handed a role that could), and the checks are pure functions of what was read.
import pg from 'pg';
import { STORED_RELATIONS_SQL, storedFromCatalog } from '../../../schema/catalog.js';
import { storedDifferences, type Policy } from '../../../crypto/policy.js';
import type { AuditEntry } from '../../../crypto/audit-chain.js';
import { fail, pass, skip, clean, type CheckResult } from './types.js';
import type { Got } from './sources.js';

export interface Snapshot {
  kind: 'postgres' | 'pglite';
  /** table -> columns, schema-qualified when not in public; the migration bookkeeping left out. */
  columns: Record<string, string[]>;
  audit: Got<AuditEntry[]>;
  settings: Record<string, string>;
  /** `name=value` settings stored per database or role (ALTER DATABASE/ROLE … SET), with whom they apply to. */
  stored: { where: string; name: string; value: string }[];
  rows: RowFacts | undefined;
  /** The signed documents as stored (kind -> body), or why they could not be read. */
  documents: Got<Record<string, string>>;
  /** Places that keep or copy data beside the tables (large objects, triggers, rules, publications), or why
   * the catalog could not be read for them. */
  hidden: string[];
}

/** What the retention check needs, counted by the database (never a tip's id or content). */
export interface RowFacts {
  tipsOverdue: { n: number; oldest: string | null };
  tipsEdited: number;
  tipsTooOld: { n: number; oldest: string | null };
  repliesOverdue: { n: number; oldest: string | null };
  repliesEdited: number;
  repliesTooOld: { n: number; oldest: string | null };
  /** Desk notes past their deletion day, and those set to outlive the tips' retention (posted_day + tips_days). */
  notesOverdue: { n: number; oldest: string | null };
  notesTooLong: number;
  uploadsTooLong: number;
  uploadsOverdue: number;
}

/** Runs SQL text with $1… parameters; rows as plain objects. */
export interface Reader {
  kind: 'postgres' | 'pglite';
  query(text: string, params?: unknown[]): Promise<Record<string, unknown>[]>;
  close(): Promise<void>;
}

const LOG_SETTINGS = [
  'log_statement',
  'log_min_duration_statement',
  'log_min_duration_sample',
  'log_transaction_sample_rate',
  'log_duration',
  'log_connections',
  'log_disconnections',
  'log_hostname',
  'log_min_error_statement',
  'log_line_prefix',
  'log_parameter_max_length',
  'log_parameter_max_length_on_error',
  // Modules that log statements of their own (auto_explain logs each plan with its text, and its parameters from
  // PostgreSQL 16), loaded for every session or for some, and the debug dumps that print plans with their values.
  'shared_preload_libraries',
  'session_preload_libraries',
  'local_preload_libraries',
  'debug_print_parse',
  'debug_print_rewritten',
  'debug_print_plan',
];

/** A PostgreSQL server through DATABASE_URL, in a read-only, repeatable-read transaction held for the run. */
export async function openPostgres(url: string): Promise<Reader> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 15_000, application_name: 'tipline audit' });
  await client.connect();
  await client.query('begin transaction isolation level repeatable read read only');
  // Threat: whoever runs the database setting the auditor role's search_path (ALTER ROLE … SET) to a schema of
  // views that show only the recent rows: every name the checks read resolves in the tip line's own schema.
  await client.query('set local search_path = pg_catalog, public');
  return {
    kind: 'postgres',
    async query(text, params = []) {
      return (await client.query(text, params)).rows as Record<string, unknown>[];
    },
    async close() {
      await client.query('rollback').catch(() => {});
      await client.end().catch(() => {});
    },
  };
}

/**
 * A copy of an embedded PGlite data folder (never the live one: PGlite is one process's database, and the
 * server holds it). Opening it replays its WAL into the copy; the checks themselves only read.
 */
export async function openPglite(dir: string): Promise<Reader> {
  const { existsSync } = await import('node:fs');
  const { join } = await import('node:path');
  if (!existsSync(join(dir, 'PG_VERSION'))) {
    const { usage } = await import('../args.js');
    throw usage('audit', `--pglite ${dir}: not a PGlite data folder (no PG_VERSION in it); give a copy of the server's data folder's pg/ folder`);
  }
  const { PGlite } = await import('@electric-sql/pglite');
  const db = new PGlite(dir);
  await db.waitReady;
  await db.query('begin transaction isolation level repeatable read read only');
  await db.query('set local search_path = pg_catalog, public');
  return {
    kind: 'pglite',
    async query(text, params = []) {
      return (await db.query(text, params)).rows as Record<string, unknown>[];
    },
    async close() {
      await db.query('rollback').catch(() => {});
      await db.close().catch(() => {});
    },
  };
}

export interface RetentionNumbers {
  tipsDays: number;
  repliesDays: number;
  uploadsHours: number;
}

const n = (v: unknown) => Number(v ?? 0);
const day = (v: unknown) => (v === null || v === undefined ? null : String(v));

/** Reads everything the checks need. Each part that fails is recorded as a reason, never thrown. */
export async function readSnapshot(db: Reader, retention: RetentionNumbers | undefined, now: Date): Promise<Snapshot> {
  // The server's own query (schema/catalog.ts): what it refuses to start on is what this fails on.
  const columns = storedFromCatalog(await db.query(STORED_RELATIONS_SQL));

  let audit: Got<AuditEntry[]>;
  try {
    const rows = await db.query('select seq, day::text as day, kind, detail, prev_hash, hash from audit_log order by seq');
    audit = { ok: true, value: rows.map((r) => ({ seq: Number(r.seq), day: String(r.day), kind: String(r.kind), detail: String(r.detail), prev_hash: String(r.prev_hash), hash: String(r.hash) })) };
  } catch (err) {
    audit = { ok: false, why: `the database has no readable audit_log: ${clean((err as Error).message, 200)}` };
  }

  let documents: Got<Record<string, string>>;
  try {
    const rows = await db.query("select kind, body from documents where kind in ('directory', 'policy', 'canary', 'client-manifest')");
    documents = { ok: true, value: Object.fromEntries(rows.map((r) => [String(r.kind), String(r.body)])) };
  } catch (err) {
    documents = { ok: false, why: `the documents table could not be read: ${clean((err as Error).message, 200)}` };
  }

  // Threat: an operator keeping tips where the table list does not show them: in large objects (stored in
  // pg_catalog.pg_largeobject), copied on each insert by a trigger or rule (to another database through dblink,
  // to a file, to a large object), or published by logical replication to a server that keeps what it gets.
  // The tip line itself makes none of these, so any one is reported.
  const hidden: string[] = [];
  try {
    const lo = await db.query('select count(*)::int as n from pg_catalog.pg_largeobject_metadata');
    if (n(lo[0]?.n)) hidden.push(`${n(lo[0]?.n)} large object(s) stored (pg_largeobject), which the policy does not list`);
    for (const r of await db.query(`
      select t.tgname as name, n.nspname as schema, c.relname as rel from pg_catalog.pg_trigger t
        join pg_catalog.pg_class c on c.oid = t.tgrelid join pg_catalog.pg_namespace n on n.oid = c.relnamespace
       where not t.tgisinternal and n.nspname not in ('pg_catalog', 'information_schema')`))
      hidden.push(`trigger ${String(r.name)} on ${String(r.schema)}.${String(r.rel)} (it may copy rows elsewhere)`);
    for (const r of await db.query(`
      select r.rulename as name, n.nspname as schema, c.relname as rel from pg_catalog.pg_rewrite r
        join pg_catalog.pg_class c on c.oid = r.ev_class join pg_catalog.pg_namespace n on n.oid = c.relnamespace
       where r.rulename <> '_RETURN' and n.nspname not in ('pg_catalog', 'information_schema')`))
      hidden.push(`rule ${String(r.name)} on ${String(r.schema)}.${String(r.rel)} (it may copy rows elsewhere)`);
    for (const r of await db.query('select evtname as name from pg_catalog.pg_event_trigger')) hidden.push(`event trigger ${String(r.name)}`);
    for (const r of await db.query('select pubname as name from pg_catalog.pg_publication')) hidden.push(`publication ${String(r.name)} (rows are replicated to another server)`);
  } catch (err) {
    hidden.push(`the catalog of large objects, triggers, rules and publications could not be read: ${clean((err as Error).message, 200)}`);
  }

  const settings: Record<string, string> = {};
  const stored: Snapshot['stored'] = [];
  if (db.kind === 'postgres') {
    // pg_settings shows this session's values, so a per-database setting (ALTER DATABASE … SET) is seen here;
    // a per-role one for the server's own role is not, hence pg_db_role_setting below.
    for (const r of await db.query("select name, setting from pg_catalog.pg_settings where name = any($1) or name like 'auto\\_explain.%'", [LOG_SETTINGS])) settings[String(r.name)] = String(r.setting);
    const per = await db.query(`
      select coalesce(r.rolname, '') as role, coalesce(d.datname, '') as db, unnest(s.setconfig) as cfg
        from pg_catalog.pg_db_role_setting s
        left join pg_catalog.pg_roles r on r.oid = s.setrole
        left join pg_catalog.pg_database d on d.oid = s.setdatabase
       where s.setdatabase = 0 or d.datname = current_database()`);
    for (const r of per) {
      const cfg = String(r.cfg);
      const eq = cfg.indexOf('=');
      const where = r.role ? (r.db ? `role ${String(r.role)} in this database` : `role ${String(r.role)}`) : 'this database';
      stored.push({ where, name: cfg.slice(0, eq).toLowerCase(), value: cfg.slice(eq + 1) });
    }
  }

  let rows: RowFacts | undefined;
  if (retention) {
    const today = now.toISOString().slice(0, 10);
    const one = async (text: string, params: unknown[]) => (await db.query(text, params))[0] ?? {};
    try {
      const t = await one(
        `select count(*) filter (where expires_day <= $1::date - 1) as overdue,
                min(expires_day) filter (where expires_day <= $1::date - 1)::text as overdue_oldest,
                count(*) filter (where expires_day <> received_day + $2::int) as edited,
                count(*) filter (where received_day < $1::date - $2::int) as too_old,
                min(received_day) filter (where received_day < $1::date - $2::int)::text as too_old_oldest
           from tips`,
        [today, retention.tipsDays],
      );
      const r = await one(
        `select count(*) filter (where expires_day <= $1::date - 1) as overdue,
                min(expires_day) filter (where expires_day <= $1::date - 1)::text as overdue_oldest,
                count(*) filter (where expires_day <> posted_day + $2::int) as edited,
                count(*) filter (where posted_day < $1::date - $2::int) as too_old,
                min(posted_day) filter (where posted_day < $1::date - $2::int)::text as too_old_oldest
           from replies`,
        [today, retention.repliesDays],
      );
      // A desk note's expiry is the desk's choice (its thread's newest tip's), within the tips' retention.
      const d = await one(
        `select count(*) filter (where expires_day <= $1::date - 1) as overdue,
                min(expires_day) filter (where expires_day <= $1::date - 1)::text as overdue_oldest,
                count(*) filter (where expires_day > posted_day + $2::int) as too_long
           from desk_notes`,
        [today, retention.tipsDays],
      );
      // The overall cap is rounded up to the hour when an upload opens: one hour of slack each way (the purge
      // runs every 10 minutes).
      const u = await one(
        `select count(*) filter (where hard_expires_at > $1::timestamptz + make_interval(hours => $2::int + 1)) as too_long,
                count(*) filter (where hard_expires_at < $1::timestamptz - interval '1 hour') as overdue
           from uploads`,
        [now.toISOString(), retention.uploadsHours],
      );
      rows = {
        tipsOverdue: { n: n(t.overdue), oldest: day(t.overdue_oldest) },
        tipsEdited: n(t.edited),
        tipsTooOld: { n: n(t.too_old), oldest: day(t.too_old_oldest) },
        repliesOverdue: { n: n(r.overdue), oldest: day(r.overdue_oldest) },
        repliesEdited: n(r.edited),
        repliesTooOld: { n: n(r.too_old), oldest: day(r.too_old_oldest) },
        notesOverdue: { n: n(d.overdue), oldest: day(d.overdue_oldest) },
        notesTooLong: n(d.too_long),
        uploadsTooLong: n(u.too_long),
        uploadsOverdue: n(u.overdue),
      };
    } catch {
      rows = undefined;
    }
  }
  return { kind: db.kind, columns, audit, settings, stored, rows, documents, hidden };
}

export function checkSchema(snap: Snapshot | undefined, policy: Policy | undefined, noDb: string): CheckResult {
  if (!snap) return skip('database-schema', noDb);
  if (!policy) return fail('database-schema', 'no verified policy to compare the database with (see the policy check)');
  const diffs = [...storedDifferences(policy, snap.columns), ...(snap.hidden ?? [])];
  if (diffs.length > 0) return fail('database-schema', diffs.map((d) => clean(d, 200)).join('; '));
  const tables = Object.keys(snap.columns).length;
  const columns = Object.values(snap.columns).reduce((k, c) => k + c.length, 0);
  return pass('database-schema', `${tables} tables, ${columns} columns, exactly as the policy lists them`);
}

export function checkRetention(snap: Snapshot | undefined, policy: Policy | undefined, noDb: string): CheckResult {
  if (!snap) return skip('retention', noDb);
  if (!policy) return fail('retention', 'no verified policy to compare the rows with (see the policy check)');
  const f = snap.rows;
  if (!f) return fail('retention', 'the tips, replies, desk notes or uploads tables could not be read');
  const r = policy.retention;
  const found: string[] = [];
  const plural = (k: number, one: string) => `${k} ${one}${k === 1 ? '' : 's'}`;
  if (f.tipsTooOld.n) found.push(`${plural(f.tipsTooOld.n, 'tip')} received before the last ${r.tips_days} days (the oldest on ${f.tipsTooOld.oldest})`);
  if (f.tipsOverdue.n) found.push(`${plural(f.tipsOverdue.n, 'tip')} past its deletion day (the oldest due ${f.tipsOverdue.oldest})`);
  if (f.tipsEdited) found.push(`${plural(f.tipsEdited, 'tip')} whose deletion day is not its day of receipt + ${r.tips_days} (an edited expiry)`);
  if (f.repliesTooOld.n) found.push(`${plural(f.repliesTooOld.n, 'reply')} posted before the last ${r.replies_days} days (the oldest on ${f.repliesTooOld.oldest})`);
  if (f.repliesOverdue.n) found.push(`${plural(f.repliesOverdue.n, 'reply')} past its deletion day (the oldest due ${f.repliesOverdue.oldest})`);
  if (f.repliesEdited) found.push(`${plural(f.repliesEdited, 'reply')} whose deletion day is not its posting day + ${r.replies_days} (an edited expiry)`);
  if (f.notesOverdue.n) found.push(`${plural(f.notesOverdue.n, 'desk note')} past its deletion day (the oldest due ${f.notesOverdue.oldest})`);
  if (f.notesTooLong) found.push(`${plural(f.notesTooLong, 'desk note')} set to be kept beyond its posting day + ${r.tips_days} days (the tips' retention)`);
  if (f.uploadsTooLong) found.push(`${plural(f.uploadsTooLong, 'unfinished upload')} allowed to live more than ${r.uploads_hours} hours`);
  if (f.uploadsOverdue) found.push(`${plural(f.uploadsOverdue, 'unfinished upload')} kept more than an hour past its end`);
  if (found.length > 0) return fail('retention', found.join('; '));
  return pass('retention', `no tip older than ${r.tips_days} days, no reply older than ${r.replies_days} days, no desk note kept beyond ${r.tips_days} days, no unfinished upload beyond ${r.uploads_hours} hours; every deletion day as the policy sets it`);
}

function truthy(v: string): boolean {
  return ['on', 'true', 'yes', '1'].includes(v.trim().toLowerCase().replace(/^'|'$/g, ''));
}

/** Why a logging setting's value would put something in PostgreSQL's log that must not be there, or undefined. */
export function loggingProblem(name: string, raw: string): string | undefined {
  const v = raw.trim().replace(/^'(.*)'$/, '$1');
  switch (name) {
    case 'log_statement':
      return v.toLowerCase() !== 'none' ? `log_statement = ${v} (statements are logged)` : undefined;
    case 'log_min_duration_statement':
    case 'log_min_duration_sample':
      return v !== '-1' ? `${name} = ${v} (statements are logged with their duration)` : undefined;
    case 'log_transaction_sample_rate':
      return Number(v) !== 0 ? `log_transaction_sample_rate = ${v} (statements of sampled transactions are logged)` : undefined;
    case 'log_duration':
      return truthy(v) ? 'log_duration = on (the time of every statement is logged)' : undefined;
    case 'log_connections':
    case 'log_disconnections':
      return truthy(v) ? `${name} = on (connections are logged)` : undefined;
    case 'log_hostname':
      return truthy(v) ? 'log_hostname = on (client host names are logged)' : undefined;
    case 'log_min_error_statement':
      return v.toLowerCase() !== 'panic' ? `log_min_error_statement = ${v} (a failing statement is logged with its text; set panic)` : undefined;
    case 'log_line_prefix':
      return /%[hr]/.test(v) ? `log_line_prefix = '${v}' (each line carries the client's address)` : undefined;
    case 'log_parameter_max_length':
    case 'log_parameter_max_length_on_error':
      return v !== '0' ? `${name} = ${v} (statement parameters are logged; set 0)` : undefined;
    case 'shared_preload_libraries':
    case 'session_preload_libraries':
    case 'local_preload_libraries':
      return /auto_explain/i.test(v) ? `${name} = '${v}' (auto_explain logs statements with their plans)` : undefined;
    case 'debug_print_parse':
    case 'debug_print_rewritten':
    case 'debug_print_plan':
      return truthy(v) ? `${name} = on (statements are logged as trees, with their values)` : undefined;
    default:
      // auto_explain's own settings: a threshold other than -1 logs statements (set per role or database, it
      // needs only session_preload_libraries for that role).
      if (name === 'auto_explain.log_min_duration') return v !== '-1' ? `${name} = ${v} (statements are logged with their plans)` : undefined;
      return undefined;
  }
}

export function checkLogging(snap: Snapshot | undefined, noDb: string): CheckResult {
  if (!snap) return skip('database-logging', noDb);
  if (snap.kind === 'pglite') return skip('database-logging', 'an embedded PGlite database writes no server log of its own');
  const found: string[] = [];
  for (const name of [...LOG_SETTINGS, ...Object.keys(snap.settings).filter((k) => k.startsWith('auto_explain.'))]) {
    const v = snap.settings[name];
    if (v === undefined) continue; // not in this PostgreSQL version
    const p = loggingProblem(name, v);
    if (p) found.push(p);
  }
  for (const s of snap.stored) {
    const p = loggingProblem(s.name, s.value);
    if (p) found.push(`${p}, set for ${s.where}`);
  }
  if (found.length > 0) return fail('database-logging', [...new Set(found)].map((f) => clean(f, 200)).join('; '));
  return pass('database-logging', 'no statement, parameter, duration, connection or client address is logged (log_statement none, log_min_error_statement panic, parameters cut to 0)');
}
