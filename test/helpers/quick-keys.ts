// A newsroom's keys made by the real `tipline keys init` (and any further `tipline keys …` steps) once for each
// distinct list of steps (a template in the system's temporary folder, shared by every test process and made
// again each UTC day or when the key code changes, as the PGlite template is), then copied into each caller's folder.
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
// material, and so the root fingerprint, is the same for every copy made from one template. Nothing a test
// process shares is keyed by it (each has its own databases, servers and CLI state folder, helpers/cli.ts).
import { createHash } from 'node:crypto';
import { cpSync, chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
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

/** Where the template for `steps` lives: the system's temporary folder, named by the steps, the CLI's code and the
 * UTC day (its signed documents are issued at creation: a day-old template is made again). */
function templatePath(steps: string[][], passphrase: string): string {
  const hash = createHash('sha256').update(JSON.stringify([steps, passphrase, new Date().toISOString().slice(0, 10)]));
  for (const f of ['../../client/cli/commands/keys.js', '../../client/cli/keyfiles.js', '../../crypto/keyfile.js', '../../crypto/directory.js', '../../crypto/policy.js', '../../schema/db.js', '../../client/cli/commands/policy.js', '../../client/cli/commands/canary.js']) hash.update(readFileSync(new URL(f, import.meta.url)));
  return join(tmpdir(), `tipline-test-keys-${hash.digest('hex').slice(0, 16)}`);
}

const PLACEHOLDER = '/@tipline-quick-keys@';

/** Built once for every test process of a run, by whichever needs it first (a lock folder, as for the PGlite
 * template in databases.ts), and put in place by a rename. */
async function template(steps: string[][], passphrase: string): Promise<Template> {
  await initCrypto();
  const dir = templatePath(steps, passphrase);
  const keys = join(dir, 'keys');
  const results = join(dir, 'results.json');
  const ready = () => existsSync(results);
  const lock = `${dir}.lock`;
  for (const until = Date.now() + 300_000; !ready() && Date.now() < until; ) {
    try {
      mkdirSync(lock);
    } catch {
      const age = Date.now() - (statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if (age > 240_000) rmSync(lock, { recursive: true, force: true }); // left behind by a killed run
      await new Promise((r) => setTimeout(r, 250));
      continue;
    }
    try {
      if (ready()) break;
      const building = mkdtempSync(join(tmpdir(), 'tipline-test-keys-building-'));
      const made = join(building, 'keys');
      const out: CliResult[] = [];
      for (const step of steps) {
        const r = await runCli(step.map((a) => (a === DIR ? made : a)), { env: { TIPLINE_PASSPHRASE: passphrase } });
        if (r.code !== 0) throw new Error(`tipline ${step.join(' ')} failed: ${r.stderr}`);
        out.push({ ...r, stdout: r.stdout.split(made).join(PLACEHOLDER), stderr: r.stderr.split(made).join(PLACEHOLDER) });
      }
      resealCheaply(made, passphrase);
      writeFileSync(join(building, 'results.json'), JSON.stringify(out));
      renameSync(building, dir);
    } finally {
      rmSync(lock, { recursive: true, force: true });
    }
  }
  if (!ready()) throw new Error(`no keys template at ${dir}`);
  return { dir: keys, results: JSON.parse(readFileSync(results, 'utf8')) as CliResult[] };
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
  return tpl.results.map((r) => ({ ...r, stdout: r.stdout.split(PLACEHOLDER).join(dir), stderr: r.stderr.split(PLACEHOLDER).join(dir) }));
}

/** `tipline keys init --dir DIR [extra…]`, made once per process (see above). */
export async function quickKeysInit(dir: string, extra: string[] = [], passphrase = DEFAULT_PASS): Promise<CliResult> {
  const [init] = await quickKeys(dir, [['keys', 'init', '--dir', DIR, ...extra]], passphrase);
  return init!;
}
