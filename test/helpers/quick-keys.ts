// A newsroom's keys made by the real `tipline keys init` (and any further `tipline keys …` steps), once per test
// process for each distinct list of steps, then copied into each caller's folder.
//
// Why: the CLI seals every key file with Argon2id at DEFAULT_KDF (256 MiB, 3 passes), about 0.7 s a key on an idle
// machine and several seconds with three test files side by side; `keys init` seals four, and every later CLI
// run that opens a key (audit, fetch, delete, reply) pays once more. The copies are resealed here at MIN_KDF
// (64 MiB, 2 passes: the least the product accepts, checked by openKeyFile as for any file): the product code
// reads the cost from the file, so nothing in it changes, and no setting the production CLI reads is involved.
// Only for tests that are not about key files or their cost (keys_ceremony, cli_keys_own… still run keys init
// themselves).
//
// Each caller gets its own copy of the folder (it may sign a new policy, canary or directory into it); the key
// material, and so the root fingerprint, is the same for every copy in one process.
import { cpSync, chmodSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initCrypto } from '../../crypto/node.js';
import { MIN_KDF, openKeyFile, sealKeyFile } from '../../crypto/keyfile.js';
import { runCli, type CliResult } from './cli.js';

const DEFAULT_PASS = 'correct horse battery staple';
const DIR = '{dir}';

interface Template {
  dir: string;
  results: CliResult[];
}

const templates = new Map<string, Promise<Template>>();

/** Reseals every key file in `dir` at MIN_KDF, keeping its role, name, keys and kept box keys. */
export function resealCheaply(dir: string, passphrase = DEFAULT_PASS): void {
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.key'))) {
    const path = join(dir, f);
    const k = openKeyFile(JSON.parse(readFileSync(path, 'utf8')), passphrase);
    const sealed = sealKeyFile({ role: k.role, name: k.name, public: k.public, secret: k.secret, passphrase, kdf: MIN_KDF, ...(k.kept?.length ? { kept: k.kept } : {}) });
    writeFileSync(path, `${JSON.stringify(sealed, null, 2)}\n`, { mode: 0o600 });
    chmodSync(path, 0o600);
  }
}

async function template(steps: string[][], passphrase: string): Promise<Template> {
  await initCrypto();
  const work = mkdtempSync(join(tmpdir(), 'tipline-quick-keys-'));
  process.once('exit', () => rmSync(work, { recursive: true, force: true }));
  const dir = join(work, 'keys');
  const results: CliResult[] = [];
  for (const step of steps) {
    const r = await runCli(step.map((a) => (a === DIR ? dir : a)), { env: { TIPLINE_PASSPHRASE: passphrase } });
    if (r.code !== 0) throw new Error(`tipline ${step.join(' ')} failed: ${r.stderr}`);
    results.push(r);
  }
  resealCheaply(dir, passphrase);
  return { dir, results };
}

/**
 * Runs `steps` (CLI argument lists where '{dir}' stands for the keys folder, the first one normally
 * `['keys', 'init', '--dir', '{dir}', …]`) the first time, and copies the resulting folder to `dir` (which must
 * not exist). Returns each step's result as if it had run on `dir`: its output names `dir`.
 */
export async function quickKeys(dir: string, steps: string[][], passphrase = DEFAULT_PASS): Promise<CliResult[]> {
  const id = JSON.stringify([steps, passphrase]);
  let made = templates.get(id);
  if (!made) templates.set(id, (made = template(steps, passphrase)));
  const tpl = await made;
  cpSync(tpl.dir, dir, { recursive: true, errorOnExist: true, force: false });
  chmodSync(dir, statSync(tpl.dir).mode & 0o777);
  return tpl.results.map((r) => ({ ...r, stdout: r.stdout.split(tpl.dir).join(dir), stderr: r.stderr.split(tpl.dir).join(dir) }));
}

/** `tipline keys init --dir DIR [extra…]`, made once per process (see above). */
export async function quickKeysInit(dir: string, extra: string[] = [], passphrase = DEFAULT_PASS): Promise<CliResult> {
  const [init] = await quickKeys(dir, [['keys', 'init', '--dir', DIR, ...extra]], passphrase);
  return init!;
}
