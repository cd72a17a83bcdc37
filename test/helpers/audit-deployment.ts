// A real deployment for `tipline audit` tests: keys made by `tipline keys init` (plus an auditor key), a signed
// canary and client manifest beside the directory, a PostgreSQL database of its own with the logging settings
// of deploy/postgresql.conf set for it, a read-only auditor role (as the deploy guide makes one), `tipline serve`
// as a child process, and a tip submitted through the real CLI.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { initCrypto } from '../../crypto/node.js';
import { openKeyFile } from '../../crypto/keyfile.js';
import { makeCanary, signCanary } from '../../crypto/canary.js';
import { signClientManifest } from '../../crypto/client-manifest.js';
import type { SignedDocument } from '../../crypto/signed.js';
import type { SigningKeyPair } from '../../crypto/keys.js';
import { ADMIN_URL, createPgDatabase } from './databases.js';
import { startChildServer, killHard, type ChildServer } from './child-server.js';
import { runCli, type CliResult } from './cli.js';
import { quickKeys } from './quick-keys.js';

await initCrypto();

export const PASSPHRASE = 'correct horse battery staple';

export interface Deployment {
  work: string;
  keys: string;
  fp: string;
  auditorKey: string;
  deskKey: string;
  /** The database's URL as its owner (a superuser here): for the tests' own tampering. */
  dbUrl: string;
  /** The read-only auditor role's URL. */
  auditorUrl: string;
  server: ChildServer;
  /** SQL as the superuser, on this deployment's database. */
  sql(text: string, params?: unknown[]): Promise<Record<string, unknown>[]>;
  audit(extra?: string[], env?: Record<string, string>): Promise<CliResult>;
  restart(): Promise<void>;
  signer(): SigningKeyPair;
  root(): SigningKeyPair;
  certificate(): SignedDocument;
}

interface Teardown {
  teardown(fn: () => unknown): void;
}

function key(path: string): SigningKeyPair {
  const k = openKeyFile(JSON.parse(readFileSync(path, 'utf8')), PASSPHRASE);
  return { publicKey: k.public.sign!, secretKey: k.secret.sign! };
}

/** Signs a canary living `days` from now into DIR/canary.json. */
export function writeCanary(keys: string, days = 14): void {
  const cert = JSON.parse(readFileSync(join(keys, 'signing-certificate.json'), 'utf8')) as SignedDocument;
  writeFileSync(join(keys, 'canary.json'), JSON.stringify(signCanary(makeCanary(new Date(), days), cert, key(join(keys, 'signing.key')))));
}

export function writeManifest(keys: string): void {
  const built = { v: 1 as const, version: '0.0.0-audit-test', files: [{ path: '/', sha256: 'a'.repeat(64), content_type: 'text/html; charset=utf-8', csp: "default-src 'none'" }] };
  writeFileSync(join(keys, 'client-manifest.json'), JSON.stringify(signClientManifest(built, new Date(), key(join(keys, 'root.key')))));
}

export async function deployment(t: Teardown, o: { beforeStart?: (keys: string, fp: string) => void | Promise<void>; tip?: boolean } = {}): Promise<Deployment> {
  const work = mkdtempSync(join(tmpdir(), 'tipline-audit-'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));
  const keys = join(work, 'keys');
  // `keys init` and `keys add-desk --auditor` by the real CLI, run once per test file and copied for each
  // deployment, the key files resealed at the least Argon2id cost the product accepts (helpers/quick-keys.ts):
  // every `tipline audit` opens the auditor key, and at the default cost that was most of an audit's time.
  const [init, add] = (await quickKeys(keys, [
    ['keys', 'init', '--dir', '{dir}', '--name', 'Desk One'],
    ['keys', 'add-desk', '--dir', '{dir}', '--name', 'Auditor', '--auditor'],
  ])) as [CliResult, CliResult];
  const fp = /fingerprint: (.+)/.exec(init.stdout)![1]!.trim();
  const deskKey = /desk key:\s+(\S+)/.exec(init.stdout)![1]!;
  const auditorKey = /auditor key:\s+(\S+)/.exec(add.stdout)![1]!;
  writeCanary(keys);
  writeManifest(keys);
  await o.beforeStart?.(keys, fp);

  const db = await createPgDatabase();
  const role = `tipline_auditor_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: db.url });
  await admin.connect();
  const name = new URL(db.url).pathname.slice(1);
  // Role and database settings live in shared catalogs: tests running side by side on one cluster can collide
  // there ("tuple concurrently updated"), which is PostgreSQL asking for the statement again.
  const catalog = async (text: string, params?: unknown[]) => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await admin.query(text, params);
      } catch (err) {
        if (attempt >= 5 || !/tuple concurrently (updated|deleted)/.test((err as Error).message)) throw err;
        await new Promise((r) => setTimeout(r, 100 * attempt));
      }
    }
  };
  // The logging settings deploy/postgresql.conf makes for the whole cluster, here for this database only (the
  // shared test cluster's own differ: log_min_error_statement error, parameters logged).
  await catalog(`alter database ${name} set log_min_error_statement = panic`);
  await catalog(`alter database ${name} set log_parameter_max_length = 0`);
  await catalog(`alter database ${name} set log_parameter_max_length_on_error = 0`);
  // The deploy guide's read-only auditor role (its grants once the tables exist, below).
  await catalog(`create role ${role} login`);
  await catalog(`alter role ${role} set default_transaction_read_only = on`);
  t.teardown(async () => {
    await admin.end().catch(() => {});
    await db.drop();
    const a = new pg.Client({ connectionString: ADMIN_URL });
    await a.connect();
    await a.query(`drop role if exists ${role}`);
    await a.end();
  });
  const auditorUrl = new URL(db.url);
  auditorUrl.username = role;

  const args = ['--port', '0', '--directory', join(keys, 'directory.json'), '--fingerprint', fp];
  const env = { DATABASE_URL: db.url, TIPLINE_POW_DIFFICULTY: '0' };
  let server = await startChildServer(args, env);
  t.teardown(() => killHard(server));
  // Read access to the tip line's tables once the server's migrations made them, except server_secrets (the
  // audit-head signing seed: an auditor holding it could sign heads the server never signed).
  await catalog(`grant usage on schema public to ${role}`);
  await catalog(`grant select on all tables in schema public to ${role}`);
  await catalog(`revoke select on table server_secrets from ${role}`);
  if (o.tip !== false) {
    const sent = await runCli(['submit', '--server', server.url, '--fingerprint', fp, '-m', 'a tip for the audit test']);
    if (sent.code !== 0) throw new Error(`submit failed: ${sent.stderr}`);
  }
  const d: Deployment = {
    work,
    keys,
    fp,
    auditorKey,
    deskKey,
    dbUrl: db.url,
    auditorUrl: auditorUrl.toString(),
    get server() {
      return server;
    },
    async sql(text, params = []) {
      return (await catalog(text, params)).rows as Record<string, unknown>[];
    },
    audit(extra = [], env2 = {}) {
      return runCli(['audit', '--server', server.url, '--staff', server.staffUrl, '--key', auditorKey, '--fingerprint', fp, ...extra], { env: { DATABASE_URL: auditorUrl.toString(), ...env2 }, timeoutMs: 180_000 });
    },
    async restart() {
      await killHard(server);
      server = await startChildServer(args, env);
    },
    signer: () => key(join(keys, 'signing.key')),
    root: () => key(join(keys, 'root.key')),
    certificate: () => JSON.parse(readFileSync(join(keys, 'signing-certificate.json'), 'utf8')) as SignedDocument,
  };
  return d;
}

/** `PASS|FAIL|SKIP id: detail` lines of a text report, by check id. */
export function lines(stdout: string): Record<string, { status: string; detail: string }> {
  const out: Record<string, { status: string; detail: string }> = {};
  for (const m of stdout.matchAll(/^(PASS|FAIL|SKIP) ([a-z-]+): (.*)$/gm)) out[m[2]!] = { status: m[1]!, detail: m[3]! };
  return out;
}
