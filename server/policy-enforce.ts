// The signed retention policy, enforced (SECURITY.md §Retention policy). The published policy is the server's
// configuration for what it keeps and for how long; a server whose own settings, database or log lines disagree
// with it refuses to start. Threat: an operator (or a forgotten environment variable) quietly keeping tips
// longer, or storing or logging more, than the newsroom told sources and auditors it does.
import { sql, type Kysely } from 'kysely';
import { STORED_RELATIONS_SQL, storedFromCatalog } from '../schema/catalog.js';
import type { Database } from '../schema/db.js';
import { storedDifferences, type Policy } from '../crypto/policy.js';
import { canonicalJson, type AuditDetail } from '../crypto/audit-chain.js';
import { DEFAULTS, type RetentionValues, type ServerConfig } from './config.js';
import { LOGGED_FIELDS } from './log-fields.js';
import { appendAudit } from './audit.js';
import { utcDay } from './days.js';

/** The server's retention settings, each with the policy field that decides it once a policy is published. */
const RETENTION_FIELDS = [
  { key: 'retentionDays', field: 'tips_days', what: 'keeps tips', unit: 'days', option: '--tips-days' },
  { key: 'replyRetentionDays', field: 'replies_days', what: 'keeps replies', unit: 'days', option: '--replies-days' },
  { key: 'uploadTtlHours', field: 'uploads_hours', what: 'lets an unfinished upload live', unit: 'hours', option: '--uploads-hours' },
] as const;

export type RetentionKey = (typeof RETENTION_FIELDS)[number]['key'];
/** Where an operator's setting came from, to name it in the refusal (e.g. TIPLINE_RETENTION_DAYS). */
export type TuningNames = Partial<Record<RetentionKey, string>>;
export type Tuning = Omit<ServerConfig, 'db'>;

/** The server cannot start under the published policy: one line saying what disagrees and how to fix it. */
export class PolicyConflictError extends Error {
  override name = 'PolicyConflictError';
}

export interface Effective extends RetentionValues {
  /** The published policy's serial; 0 when none is published. */
  policySerial: number;
}

/**
 * The retention values in force: the policy's when one is published, else the operator's settings (or the
 * defaults, as before policies existed). `conflicts` lists each of the operator's own settings that disagrees
 * with the policy, in words; the policy's value is in `effective` either way.
 */
export function applyPolicy(policy: Policy | undefined, tuning: Tuning = {}, names: TuningNames = {}, dir = 'DIR'): { effective: Effective; conflicts: string[] } {
  if (!policy) {
    return {
      effective: {
        retentionDays: tuning.retentionDays ?? DEFAULTS.retentionDays,
        // As resolveConfig: unset, replies are kept as long as tips.
        replyRetentionDays: tuning.replyRetentionDays ?? tuning.retentionDays ?? DEFAULTS.replyRetentionDays,
        uploadTtlHours: tuning.uploadTtlHours ?? DEFAULTS.uploadTtlHours,
        policySerial: 0,
      },
      conflicts: [],
    };
  }
  const r = policy.retention;
  const conflicts: string[] = [];
  for (const f of RETENTION_FIELDS) {
    const mine = tuning[f.key];
    if (mine === undefined || mine === r[f.field]) continue;
    conflicts.push(
      `${names[f.key] ?? `the configured ${f.key}`} is ${mine}, but the signed policy (serial ${policy.serial}) ${f.what} ${r[f.field]} ${f.unit}: ` +
        `remove that setting (or set it to ${r[f.field]}), or sign the value you want with \`tipline policy set --dir ${dir} ${f.option} ${mine}\`, then restart`,
    );
  }
  return {
    effective: { retentionDays: r.tips_days, replyRetentionDays: r.replies_days, uploadTtlHours: r.uploads_hours, policySerial: policy.serial },
    conflicts,
  };
}

/**
 * Every relation that holds rows and its columns, from the catalog (schema/catalog.ts: the query `tipline audit`
 * runs too). Tables outside public are named schema.table; the migration bookkeeping in public is left out.
 */
export async function liveStored(db: Kysely<Database>): Promise<Record<string, string[]>> {
  const rows = await sql.raw<{ schema: string; rel: string; col: string | null }>(STORED_RELATIONS_SQL).execute(db);
  return storedFromCatalog(rows.rows);
}

/** What the policy says is logged against what this server's request line holds (server/log-fields.ts). */
export function loggedDifferences(policy: Pick<Policy, 'logged'>, logged: readonly string[] = LOGGED_FIELDS): string[] {
  const out: string[] = [];
  for (const f of logged) if (!policy.logged.includes(f)) out.push(`the server logs ${f}, which the policy does not list`);
  for (const f of policy.logged) if (!logged.includes(f)) out.push(`the policy lists ${f} as logged, which the server does not log`);
  return out;
}

function oneLine(items: string[], most = 4): string {
  return items.length <= most ? items.join('; ') : `${items.slice(0, most).join('; ')}; and ${items.length - most} more`;
}

/**
 * Checks everything the policy promises that the server can see: its settings, the live tables and columns, the
 * fields it logs. Returns the effective values; throws PolicyConflictError (one line) on any disagreement.
 */
export async function enforcePolicy(db: Kysely<Database>, policy: Policy | undefined, tuning: Tuning = {}, names: TuningNames = {}, dir = 'DIR'): Promise<Effective> {
  const { effective, conflicts } = applyPolicy(policy, tuning, names, dir);
  if (!policy) return effective;
  if (conflicts.length > 0) throw new PolicyConflictError(`refusing to start: ${oneLine(conflicts)}`);
  const stored = storedDifferences(policy, await liveStored(db));
  if (stored.length > 0) {
    throw new PolicyConflictError(
      `refusing to start: the database differs from what the signed policy (serial ${policy.serial}) says is stored: ${oneLine(stored)}; ` +
        'remove what the policy does not list (or sign a policy that lists it), then restart',
    );
  }
  const logged = loggedDifferences(policy);
  if (logged.length > 0) {
    throw new PolicyConflictError(
      `refusing to start: the signed policy (serial ${policy.serial}) lists the logged fields as ${policy.logged.join(', ') || 'none'}, but this server logs ${LOGGED_FIELDS.join(', ')}: ${oneLine(logged)}; sign a policy that says what is logged, then restart`,
    );
  }
  return effective;
}

/** The configuration an auditor can read in the chain: counts and days only, never a time or an id. */
export function configDetail(e: Effective, tuning: Tuning = {}): AuditDetail {
  return {
    tips_days: e.retentionDays,
    replies_days: e.replyRetentionDays,
    uploads_hours: e.uploadTtlHours,
    policy_serial: e.policySerial,
    pow_difficulty: tuning.powDifficulty ?? DEFAULTS.powDifficulty,
    log_level: tuning.logLevel ?? DEFAULTS.logLevel,
  };
}

export type ConfigAudit = 'appended' | 'unchanged' | 'no-chain';

/**
 * Appends a `config` entry when the configuration differs from the last one recorded (a restart with the same
 * settings adds nothing). No directory published: the chain has no start yet, and nothing is recorded.
 * Two instances starting at once with a new configuration may both record it: harmless, the same detail twice.
 */
export async function auditConfig(db: Kysely<Database>, detail: AuditDetail, now: Date): Promise<ConfigAudit> {
  return db.transaction().execute(async (trx) => {
    const directory = await trx.selectFrom('documents').select('kind').where('kind', '=', 'directory').executeTakeFirst();
    if (!directory) return 'no-chain';
    const last = await trx.selectFrom('audit_log').select('detail').where('kind', '=', 'config').orderBy('seq', 'desc').limit(1).executeTakeFirst();
    if (last?.detail === canonicalJson(detail)) return 'unchanged';
    await appendAudit(trx, utcDay(now), 'config', detail);
    return 'appended';
  });
}

/** Whether a policy row is stored at all (one that loadPolicy then rejects was tampered with or rolled back). */
export async function policyStored(db: Kysely<Database>): Promise<boolean> {
  return (await db.selectFrom('documents').select('kind').where('kind', '=', 'policy').executeTakeFirst()) !== undefined;
}

/** In words, for the operator. */
export function describeEffective(e: Effective): string {
  return `tips kept ${e.retentionDays} days, replies ${e.replyRetentionDays} days, unfinished uploads ${e.uploadTtlHours} hours`;
}
