// `tipline audit`: the auditor's tool (issue 9). Checks, from outside and without trusting the operator, what the
// tip line promises: the signed policy, directory, canary and client manifest it publishes; with a read-only
// database connection, the tables and columns that exist, rows kept too long, PostgreSQL's logging; and the
// audit chain, its signed head and the heads kept at earlier audits. One PASS/FAIL line per check, exit 1 on
// any FAIL. The checks live in client/cli/audit/, one module per group.
import { writeFileSync } from 'node:fs';
import { args, fingerprintArg, keyFileArg, need, proxyArg, serverUrl, usage, wantsHelp, type Io } from '../args.js';
import { CliError } from '../errors.js';
import { printable } from '../printable.js';
import type { CheckResult, Report } from '../audit/types.js';

export const HELP = `usage: tipline audit --server URL --fingerprint FP [--staff URL --key AUDITOR_KEY_FILE] [--heads FILE]
                     [--format text|json|html] [--out FILE] [--socks HOST:PORT] [--pglite DIR]

Checks a tip line from the outside: the signed documents it publishes, and, given read access, its database
and its audit log. Prints one line per check, PASS, FAIL or SKIP (not asked for), and exits 1 when any check
fails (0 when none does, 2 for a mistake in the options).

  --server URL        the tip line's public address (its onion; http://127.0.0.1:8080 for a local serve)
  --fingerprint FP    the newsroom's root fingerprint, obtained from the newsroom directly (not from the
                      server): every document must be signed under it
  --staff URL         the staff listener's address (its client-authorised onion; http://127.0.0.1:8081
                      locally): the staff API is served there only. Needed with --key
  --key FILE          your auditor key file (asks its passphrase, or TIPLINE_PASSPHRASE): reads the audit log
                      through the signed staff API
  --heads FILE        your file of audit-log heads seen before (created on first use, mode 0600): a log
                      rewritten or cut short since an earlier audit is caught. Keep it, one per tip line
  --format F          text (default), json, or html: one self-contained page to file
  --out FILE          write the report there instead of to standard output
  --socks HOST:PORT   through Tor's SOCKS port (ALL_PROXY works too); needed for .onion addresses
  --pglite DIR        a COPY of an embedded PGlite data folder (never the live one) to check as the database

Database: set DATABASE_URL=postgres://auditor@HOST/DB to check PostgreSQL; use a read-only role (deploy guide,
"Inspecting the database read-only"). Everything is read in one READ ONLY transaction.

example:  DATABASE_URL=postgres://auditor@127.0.0.1/tipline tipline audit --server http://127.0.0.1:8080 \\
            --staff http://127.0.0.1:8081 --key auditor.key --fingerprint "abcd efgh …" --heads heads.json`;

const FORMATS = ['text', 'json', 'html'] as const;

const noted = (c: CheckResult, note: string): CheckResult => (note && c.status !== 'SKIP' ? { ...c, detail: `${c.detail}${note}` } : c);

export async function run(argv: string[], io: Io): Promise<number> {
  const C = 'audit';
  if (wantsHelp(argv)) {
    io.say(HELP);
    return 0;
  }
  const { values } = args(C, argv, {
    server: { type: 'string' },
    staff: { type: 'string' },
    fingerprint: { type: 'string' },
    key: { type: 'string' },
    heads: { type: 'string' },
    format: { type: 'string' },
    out: { type: 'string' },
    socks: { type: 'string' },
    pglite: { type: 'string' },
  });
  const server = serverUrl(C, need(C, values.server, '--server URL', "the tip line's address, e.g. --server http://127.0.0.1:8080"));
  const fpText = need(C, values.fingerprint, '--fingerprint FP', 'the root fingerprint the newsroom gave you (not one read from the server)');
  const format = (values.format ?? 'text') as (typeof FORMATS)[number];
  if (!FORMATS.includes(format)) throw usage(C, `--format must be text, json or html, not "${printable(values.format ?? '', 40)}"`);
  if (values.key !== undefined && values.staff === undefined) throw usage(C, '--key reads the log through the staff API: give its address too, --staff URL (the staff onion; http://127.0.0.1:8081 locally)');
  const staff = values.staff !== undefined ? serverUrl(C, values.staff) : undefined;
  const keyFile = values.key !== undefined ? keyFileArg(C, values.key) : undefined;
  if (values.heads === '') throw usage(C, '--heads is empty: give the file of heads to keep, e.g. --heads tipline-heads.json');
  if (values.out === '') throw usage(C, '--out is empty: give the report\'s file name');
  if (values.pglite !== undefined && process.env.DATABASE_URL) throw usage(C, '--pglite and DATABASE_URL both given: check one database at a time');
  const proxy = proxyArg(C, values.socks);

  const { initCrypto } = await import('../../../crypto/node.js');
  await initCrypto();
  const fp = await fingerprintArg(C, fpText);
  const { Sources } = await import('../audit/sources.js');
  const docs = await import('../audit/documents.js');
  const dbm = await import('../audit/database.js');
  const { checkChain } = await import('../audit/chain.js');
  const { readHeads, writeHeads } = await import('../audit/heads.js');

  const now = new Date();
  const today = now.toISOString().slice(0, 10);
  const kept = values.heads !== undefined ? readHeads(values.heads, fp) : undefined;
  const who = keyFile !== undefined ? await (await import('../keyfiles.js')).loadStaffKey(keyFile) : undefined;
  if (who && who.role !== 'auditor') io.warn(`note: ${keyFile} is a desk key; an auditor's key (tipline keys add-desk --auditor) is what auditors should hold`);

  const sources = new Sources(new URL(server), staff ? new URL(staff) : undefined, proxy);
  let reader: import('../audit/database.js').Reader | undefined;
  try {
    const [policyDoc, directoryDoc, canaryDoc, manifestDoc, headDoc] = await Promise.all(['policy', 'directory', 'canary', 'client-manifest', 'audit-head'].map((n) => sources.document(n)));
    const published = { policy: policyDoc!, directory: directoryDoc!, canary: canaryDoc!, manifest: manifestDoc! };
    const policyR = docs.checkPolicy(published.policy, fp, kept?.policy);
    const dirR = docs.checkDirectory(published.directory, fp, now);
    // The staff API first, the database after: the database may then hold entries appended in between, never fewer.
    const fromApi = who ? await sources.staffAudit(who) : undefined;

    let snapshot: import('../audit/database.js').Snapshot | undefined;
    let noDb = 'no database given (set DATABASE_URL to a read-only role, or --pglite with a copy of the data folder)';
    let dbError: string | undefined;
    try {
      if (process.env.DATABASE_URL) reader = await dbm.openPostgres(process.env.DATABASE_URL);
      else if (values.pglite !== undefined) reader = await dbm.openPglite(values.pglite);
    } catch (err) {
      if (err instanceof CliError) throw err;
      dbError = `could not open the database: ${printable((err as Error).message, 200)}`;
    }
    // No policy served (or none that verifies): the one stored in the database, if it verifies under the
    // root, is still the newsroom's word on what may be stored and for how long.
    let dbPolicy = policyR.policy;
    let policyNote = '';
    if (reader && !dbPolicy) {
      try {
        const [row] = await reader.query("select body from documents where kind = 'policy'");
        if (row) {
          const { verifyPolicy } = await import('../../../crypto/policy.js');
          dbPolicy = verifyPolicy(JSON.parse(String(row.body)), fp);
          policyNote = ' (compared with the policy stored in the database: none is served)';
        }
      } catch {
        dbPolicy = undefined;
      }
    }
    if (reader) {
      const r = dbPolicy?.retention;
      try {
        snapshot = await dbm.readSnapshot(reader, r && { tipsDays: r.tips_days, repliesDays: r.replies_days, uploadsHours: r.uploads_hours }, now);
      } catch (err) {
        dbError = `could not read the database: ${printable((err as Error).message, 200)}`;
      }
    }
    const dbCheck = (f: () => CheckResult, id: CheckResult['id']): CheckResult => (dbError ? { ...f(), id, status: 'FAIL', detail: dbError } : f());
    if (dbError) noDb = dbError;

    const { checkDeletionEntries } = await import('../../../crypto/deletion-statement.js');
    const chain = checkChain({
      fp,
      today,
      ...(snapshot ? { fromDb: snapshot.audit } : dbError ? { fromDb: { ok: false as const, why: dbError } } : {}),
      ...(fromApi ? { fromApi } : {}),
      signedHead: headDoc!,
      ...(kept ? { kept: kept.heads } : {}),
      ...(policyR.policy ? { policy: policyR.policy } : {}),
      ...(dirR.directory ? { directory: dirR.directory } : {}),
      checkDeletions: checkDeletionEntries,
    });

    const checks: CheckResult[] = [
      policyR.check,
      dirR.check,
      docs.checkSameRoot(published, fp),
      docs.checkCanary(published.canary, fp, now),
      docs.checkManifest(published.manifest, fp),
      docs.checkDeskKeys(dirR.directory, policyR.policy, now),
      dbCheck(() => docs.checkStoredDocuments(snapshot?.documents, fp, now, noDb), 'stored-documents'),
      dbCheck(() => noted(dbm.checkSchema(snapshot, dbPolicy, noDb), policyNote), 'database-schema'),
      dbCheck(() => noted(dbm.checkRetention(snapshot, dbPolicy, noDb), policyNote), 'retention'),
      dbCheck(() => dbm.checkLogging(snapshot, noDb), 'database-logging'),
      ...chain.checks,
    ];
    const summary = { pass: checks.filter((c) => c.status === 'PASS').length, fail: checks.filter((c) => c.status === 'FAIL').length, skip: checks.filter((c) => c.status === 'SKIP').length };
    const report: Report = { tipline: fp, server, checked_at: today, checks, summary };
    const { reportText } = await import('../audit/report-text.js');
    const { reportJson } = await import('../audit/report-json.js');
    const { reportHtml } = await import('../audit/report-html.js');
    const text = format === 'json' ? reportJson(report) : format === 'html' ? reportHtml(report) : reportText(report);
    if (values.out !== undefined) {
      try {
        writeFileSync(values.out, text, { mode: 0o600 });
      } catch (err) {
        throw new CliError(`cannot write --out ${values.out}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      }
      io.warn(`${summary.fail === 0 ? 'all checks passed' : `${summary.fail} check${summary.fail === 1 ? '' : 's'} failed`}; report written to ${values.out}`);
    } else io.say(text.replace(/\n$/, ''));

    if (kept && values.heads !== undefined) {
      const fresh = chain.keep.filter((k) => !kept.heads.some((h) => h.seq === k.seq && h.hash === k.hash && h.signature === k.signature));
      const policyMark = policyR.mark && (!kept.policy || policyR.mark.serial > kept.policy.serial) ? policyR.mark : kept.policy;
      if (fresh.length > 0 || policyMark !== kept.policy || kept.heads.length === 0) {
        writeHeads(values.heads, { v: 1, fingerprint: kept.fingerprint, ...(policyMark ? { policy: policyMark } : {}), heads: [...kept.heads, ...fresh] });
      }
    }
    return summary.fail === 0 ? 0 : 1;
  } finally {
    await reader?.close();
    await sources.close();
  }
}
