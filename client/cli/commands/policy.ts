// `tipline policy set|show`: the retention policy as the root signs it (crypto/policy.ts, FORMAT.md §Policy).
// `set` re-signs DIR/policy.json with a higher serial and only the fields asked for changed; `show` reads one (the
// folder's, or the one a tip line publishes) and says what it promises in plain words, for a lawyer as much as
// an engineer. The server enforces the published policy and refuses to start when its configuration disagrees.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { args, fingerprintArg, int, need, proxyArg, serverUrl, usage, wantsHelp, type Io } from '../args.js';
import { CliError } from '../errors.js';
import { printable } from '../printable.js';
import { DIRECTORY_FILE, POLICY_FILE, ROOT_FILE, openKey, readJson, writeJson } from './keys.js';

const SET_HELP = `usage: tipline policy set --dir DIR [--tips-days N] [--replies-days N] [--uploads-hours N]
                         [--key-period-days N] [--audit-key BASE64|none]

The root signs the retention policy again (DIR/policy.json, made by tipline keys init) with a higher serial,
changing only what is asked; the columns stored are this version's schema. Asks for the root key's
passphrase (DIR/root.key, on the offline machine). Without any option it shows the policy, as policy show.

  --dir DIR             the folder tipline keys init made (root.key, directory.json, policy.json)
  --tips-days N         days a tip is kept after the day it arrives (1 to 3650; 30 by default)
  --replies-days N      days a reply is kept after the day it is posted (1 to 3650; 30)
  --uploads-hours N     hours an unfinished upload may live (1 to 168; 24)
  --key-period-days N   days each desk encryption key is used for new tips (1 to the tips' days; 7); lowered
                        with --tips-days when it would exceed it
  --audit-key BASE64    the server's audit-head key to pin (32 bytes, base64); none removes it

Publish it: copy DIR/policy.json beside the server's directory file, then systemctl kill -s HUP tipline. A
server whose configuration disagrees with the policy refuses to start: change both together.
example:  tipline policy set --dir keys --tips-days 14`;

const SHOW_HELP = `usage: tipline policy show --dir DIR
       tipline policy show --server URL --fingerprint FP [--socks HOST:PORT]

Shows a signed retention policy in plain words, its root signature checked: the folder's (DIR/policy.json,
against the root of DIR/directory.json; no key needed), or the one a tip line publishes at
/.well-known/tipline/policy (against the root fingerprint FP the newsroom publishes).

  --dir DIR             the folder tipline keys init made
  --server URL          the tip line: http://….onion, or http://127.0.0.1:8080 (http:// is assumed)
  --fingerprint FP      the newsroom's root fingerprint (8 groups of 4 characters)
  --socks HOST:PORT     through Tor's SOCKS port (ALL_PROXY works too); needed for an .onion

example:  tipline policy show --server http://127.0.0.1:8080 --fingerprint "abcd efgh …"`;

const HELP = `usage: tipline policy set --dir DIR [--tips-days N] [--replies-days N] [--uploads-hours N]
                         [--key-period-days N] [--audit-key BASE64|none]
       tipline policy show (--dir DIR | --server URL --fingerprint FP)

  set    the root signs the retention policy again with what changed (DIR/policy.json)
  show   the policy in plain words, its signature checked

tipline policy SUBCOMMAND --help shows a subcommand's options.`;

type Policy = import('../../../crypto/policy.js').Policy;
type Say = (s: string) => void;

const plural = (n: number, one: string) => `${n} ${one}${n === 1 ? '' : 's'}`;

/** The policy in plain words, one line per promise (also what `policy set` shows after signing). */
export function describePolicy(p: Policy): string[] {
  const r = p.retention;
  const lines = [
    `tips:          kept ${plural(r.tips_days, 'day')} after the day they arrive, then deleted`,
    `replies:       kept ${plural(r.replies_days, 'day')} after the day they are posted, then deleted`,
    `uploads:       an unfinished upload is deleted after ${plural(r.uploads_hours, 'hour')} at most`,
    `desk keys:     a new encryption key every ${plural(p.key_period_days, 'day')}; an old one is destroyed once every tip sealed to it has expired`,
  ];
  // One table a line: the list a lawyer compares with the database (tipline audit does it for them).
  Object.entries(p.stored).forEach(([table, cols], i) => lines.push(`${i === 0 ? 'stored:' : ''}`.padEnd(15) + `${table}: ${cols.join(', ')}`));
  lines.push(`logged:        ${p.logged.length ? `each request's ${p.logged.join(', ')}; nothing else` : 'nothing'}`);
  for (const k of p.keys) lines.push(`${`${k.role} key:`.padEnd(14)} held by ${printable(k.holder, 300)}; can ${printable(k.can, 300)}`);
  lines.push(`audit key:     ${p.audit_key ? `${p.audit_key} (the server signs the audit log's head with it)` : 'none pinned'}`);
  return lines;
}

function header(p: Policy, where: string, fp: string): string {
  return `policy:        ${where}, serial ${p.serial}, signed ${p.issued.slice(0, 10)} by the root ${fp}`;
}

/** The folder's root fingerprint: the one its directory is signed under. */
async function folderRoot(dir: string): Promise<string> {
  const { documentFingerprint } = await import('../../../crypto/signed.js');
  const path = join(dir, DIRECTORY_FILE);
  const doc = readJson(path, 'the directory', `run tipline keys init --dir ${dir} first`);
  try {
    return documentFingerprint(doc as never);
  } catch (err) {
    throw new CliError(`${path}: ${(err as Error).message}`);
  }
}

async function folderPolicy(dir: string, fp: string): Promise<Policy | undefined> {
  const path = join(dir, POLICY_FILE);
  if (!existsSync(path)) return undefined;
  const { verifyPolicy } = await import('../../../crypto/policy.js');
  const doc = readJson(path, 'the policy', 'tipline keys init or policy set writes it');
  try {
    return verifyPolicy(doc, fp);
  } catch (err) {
    throw new CliError(`${path} does not verify under the root of ${join(dir, DIRECTORY_FILE)}: ${(err as Error).message}`);
  }
}

async function showFolder(dir: string, say: Say): Promise<void> {
  const fp = await folderRoot(dir);
  const p = await folderPolicy(dir, fp);
  if (!p) throw new CliError(`no policy in ${dir}: sign one with tipline policy set --dir ${dir}`);
  say(header(p, join(dir, POLICY_FILE), fp));
  for (const l of describePolicy(p)) say(l);
}

async function showServer(server: string, fp: string, socks: string | undefined, say: Say): Promise<void> {
  const proxy = proxyArg('policy show', socks);
  const { Connection } = await import('../http.js');
  const { verifyPolicy } = await import('../../../crypto/policy.js');
  const conn = new Connection(new URL(server), proxy);
  let body: Uint8Array;
  try {
    const res = await conn.send({ method: 'GET', path: '/.well-known/tipline/policy' }, 1 << 20);
    if (res.status === 404) throw new CliError(`${server} publishes no policy (404): the newsroom has not published DIR/policy.json beside its directory`);
    if (res.status !== 200) throw new CliError(`${server} answered ${res.status} for its policy`);
    body = res.body;
  } finally {
    await conn.close();
  }
  let p: Policy;
  try {
    p = verifyPolicy(JSON.parse(Buffer.from(body).toString('utf8')), fp);
  } catch (err) {
    throw new CliError(`the policy ${server} publishes does not verify under ${fp}: ${(err as Error).message}`);
  }
  say(header(p, `${server.replace(/\/$/, '')}/.well-known/tipline/policy`, fp));
  for (const l of describePolicy(p)) say(l);
}

interface Changes {
  tipsDays?: number;
  repliesDays?: number;
  uploadsHours?: number;
  keyPeriodDays?: number;
  /** A 32-byte key to pin, or null to remove it. */
  auditKey?: Uint8Array | null;
}

async function auditKeyArg(value: string | undefined): Promise<Uint8Array | null | undefined> {
  if (value === undefined) return undefined;
  if (value === 'none') return null;
  const { fromBase64 } = await import('../../../crypto/bytes.js');
  let b: Uint8Array | undefined;
  try {
    b = fromBase64(value);
  } catch {
    b = undefined;
  }
  if (b?.length !== 32) throw usage('policy set', `--audit-key must be base64 of a 32-byte Ed25519 key (or none), not "${printable(value, 80)}"`);
  return b;
}

async function set(dir: string, c: Changes, say: Say): Promise<void> {
  const { makePolicy, signPolicy, storedDifferences, DEFAULT_RETENTION, DEFAULT_KEY_PERIOD_DAYS } = await import('../../../crypto/policy.js');
  const { fingerprint } = await import('../../../crypto/keys.js');
  const { fromBase64, toBase64 } = await import('../../../crypto/bytes.js');
  const { STORED_COLUMNS } = await import('../../../schema/db.js');
  const fp = await folderRoot(dir);
  const prev = await folderPolicy(dir, fp);
  const path = join(dir, POLICY_FILE);
  const before = prev?.retention ?? DEFAULT_RETENTION;
  const retention = {
    tips_days: c.tipsDays ?? before.tips_days,
    replies_days: c.repliesDays ?? before.replies_days,
    uploads_hours: c.uploadsHours ?? before.uploads_hours,
  };
  const oldPeriod = prev?.key_period_days ?? DEFAULT_KEY_PERIOD_DAYS;
  if (c.keyPeriodDays !== undefined && c.keyPeriodDays > retention.tips_days) {
    throw usage('policy set', `--key-period-days ${c.keyPeriodDays} exceeds the ${retention.tips_days} days tips are kept: a key must not outlive the first tips sealed to it`);
  }
  // Shorter retention shortens the key period with it: the rule is the policy's, the user asked for the days.
  const keyPeriod = c.keyPeriodDays ?? Math.min(oldPeriod, retention.tips_days);
  const oldAudit = prev?.audit_key;
  const auditKey = c.auditKey === undefined ? (oldAudit ? fromBase64(oldAudit) : undefined) : c.auditKey ?? undefined;

  const changed: string[] = [];
  const was = (a: number, b: number, what: string, unit: string) => a !== b && changed.push(`${what} ${plural(b, unit)} (was ${plural(a, unit)})`);
  was(before.tips_days, retention.tips_days, 'tips are kept', 'day');
  was(before.replies_days, retention.replies_days, 'replies are kept', 'day');
  was(before.uploads_hours, retention.uploads_hours, 'an unfinished upload lives at most', 'hour');
  was(oldPeriod, keyPeriod, 'desk encryption keys change every', 'day');
  const newAudit = auditKey ? toBase64(auditKey) : undefined;
  if (newAudit !== oldAudit) changed.push(newAudit ? `the audit-head key pinned is ${newAudit}` : 'no audit-head key is pinned any more');
  const stored = prev ? storedDifferences(prev, STORED_COLUMNS) : [];
  if (stored.length) changed.push(`the columns stored are this version's schema (${stored.join('; ')})`);
  if (prev && changed.length === 0) {
    say(`${path} already says this: nothing signed`);
    return;
  }

  // The root key last: a mistake above costs nobody a trip to the offline machine's passphrase.
  const root = await openKey(join(dir, ROOT_FILE), 'root', 'root key');
  const rootFp = fingerprint(root.publicKey);
  if (rootFp !== fp) throw new CliError(`${join(dir, ROOT_FILE)} is the root ${rootFp}, but ${join(dir, DIRECTORY_FILE)} belongs to ${fp}`);
  let p: Policy;
  let doc;
  try {
    p = makePolicy({
      now: new Date(),
      stored: STORED_COLUMNS,
      retention,
      keyPeriodDays: keyPeriod,
      ...(prev ? { logged: prev.logged, keys: prev.keys, previousSerial: prev.serial } : {}),
      ...(auditKey ? { auditKey } : {}),
    });
    doc = signPolicy(p, root);
  } catch (err) {
    throw new CliError(`cannot sign the policy: ${(err as Error).message}`);
  }
  writeJson(path, doc);
  say(header(p, path, fp));
  if (!prev) say('changed:       a new policy (there was none in this folder)');
  for (const l of changed) say(`changed:       ${l}`);
  for (const l of describePolicy(p)) say(l);
  say(`publish it:    copy ${path} beside the server's directory file, then systemctl kill -s HUP tipline`);
  say('               (a server whose configuration disagrees with the policy refuses to start: change both together)');
}

export async function run(argv: string[], io: Io): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === 'set' || sub === 'show') {
    if (wantsHelp(rest)) {
      io.say(sub === 'set' ? SET_HELP : SHOW_HELP);
      return 0;
    }
  } else if (wantsHelp(argv)) {
    io.say(HELP);
    return 0;
  } else if (sub === undefined || sub.startsWith('-')) {
    throw usage('policy', 'policy needs a subcommand first: tipline policy set --dir DIR … or tipline policy show --dir DIR');
  } else {
    throw usage('policy', `"${printable(sub, 40)}" is not a policy command: use tipline policy set or tipline policy show`);
  }
  const { initCrypto } = await import('../../../crypto/node.js');
  if (sub === 'show') {
    const cmd = 'policy show';
    const { values } = args(cmd, rest, { dir: { type: 'string' }, server: { type: 'string' }, fingerprint: { type: 'string' }, socks: { type: 'string' } });
    if (values.dir !== undefined && values.server !== undefined) throw usage(cmd, 'give --dir DIR or --server URL, not both');
    if (values.server !== undefined) {
      const server = serverUrl(cmd, values.server);
      const fp = await fingerprintArg(cmd, need(cmd, values.fingerprint, '--fingerprint FP', 'the root fingerprint the newsroom publishes'));
      await initCrypto();
      await showServer(server, fp, values.socks, io.say);
      return 0;
    }
    const dir = need(cmd, values.dir, '--dir DIR', 'the folder tipline keys init made (or --server URL --fingerprint FP)');
    await initCrypto();
    await showFolder(dir, io.say);
    return 0;
  }
  const cmd = 'policy set';
  const { values } = args(cmd, rest, {
    dir: { type: 'string' },
    'tips-days': { type: 'string' },
    'replies-days': { type: 'string' },
    'uploads-hours': { type: 'string' },
    'key-period-days': { type: 'string' },
    'audit-key': { type: 'string' },
  });
  const dir = need(cmd, values.dir, '--dir DIR', 'the folder tipline keys init made, e.g. --dir keys');
  const { MAX_RETENTION_DAYS, MAX_UPLOAD_HOURS } = await import('../../../crypto/policy.js');
  const num = (flag: 'tips-days' | 'replies-days' | 'uploads-hours' | 'key-period-days', hi: number) => (values[flag] === undefined ? undefined : int(cmd, values[flag], `--${flag}`, 0, [1, hi]));
  const c: Changes = {
    tipsDays: num('tips-days', MAX_RETENTION_DAYS),
    repliesDays: num('replies-days', MAX_RETENTION_DAYS),
    uploadsHours: num('uploads-hours', MAX_UPLOAD_HOURS),
    keyPeriodDays: num('key-period-days', MAX_RETENTION_DAYS),
  };
  await initCrypto();
  c.auditKey = await auditKeyArg(values['audit-key']);
  if (Object.values(c).every((v) => v === undefined)) {
    await showFolder(dir, io.say);
    return 0;
  }
  await set(dir, c, io.say);
  return 0;
}
