// The highest directory serial this machine has seen for each root, so that a server cannot hand the CLI an
// older directory (one that still lists a desk since removed: threat, a stolen desk key plus a hostile operator).
// Kept in $TIPLINE_STATE_DIR/serials.json, else $XDG_STATE_HOME/tipline/, else ~/.local/state/tipline/; mode 0600.
// TIPLINE_STATE_DIR=none keeps nothing (the file names the roots this machine sent to: see SECURITY.md).
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { checkSerial, laterMark, type SerialMark } from '../../crypto/directory.js';
import { normalizeFingerprint } from '../../crypto/keys.js';
import { CliError } from './errors.js';

export function serialsFile(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const dir = env.TIPLINE_STATE_DIR;
  if (dir === 'none') return undefined;
  if (dir) return join(dir, 'serials.json');
  const base = env.XDG_STATE_HOME || join(homedir(), '.local', 'state');
  return join(base, 'tipline', 'serials.json');
}

type Marks = Record<string, SerialMark>;

function read(path: string): Marks {
  if (!existsSync(path)) return {};
  let j: { v?: unknown; roots?: unknown };
  try {
    j = JSON.parse(readFileSync(path, 'utf8')) as typeof j;
  } catch (err) {
    throw new CliError(`${path} is damaged (${(err as Error).message}): it remembers the directories this machine has seen; delete it to start again`);
  }
  if (j.v !== 1 || typeof j.roots !== 'object' || j.roots === null) throw new CliError(`${path} is not a tipline state file: delete it to start again`);
  const out: Marks = {};
  for (const [fp, m] of Object.entries(j.roots as Record<string, { serial?: unknown; digest?: unknown }>)) {
    if (Number.isSafeInteger(m?.serial) && typeof m?.digest === 'string') out[fp] = { serial: m.serial as number, digest: m.digest };
  }
  return out;
}

/**
 * Refuses (CliError) a directory older than the newest this machine accepted for `fingerprint`, then remembers
 * it. A state file that cannot be written costs the protection for this run, with a warning; it stops nothing.
 */
export function rememberSerial(fingerprint: string, mark: SerialMark, warn: (s: string) => void, env: NodeJS.ProcessEnv = process.env): void {
  const path = serialsFile(env);
  if (!path) return;
  const fp = normalizeFingerprint(fingerprint);
  const marks = read(path);
  try {
    checkSerial(mark, marks[fp]);
  } catch (err) {
    throw new CliError(`refusing to encrypt: the server's directory is older than one this machine has already seen for this tip line (${(err as Error).message}). A server that goes back to an old directory may be listing a desk key that was removed; do not send through it (the newest seen is kept in ${path})`);
  }
  marks[fp] = laterMark(marks[fp], mark);
  try {
    const dir = join(path, '..');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeFileSync(`${path}.tmp`, `${JSON.stringify({ v: 1, roots: marks }, null, 2)}\n`, { mode: 0o600 });
    chmodSync(`${path}.tmp`, 0o600);
    renameSync(`${path}.tmp`, path);
  } catch (err) {
    warn(`warning: cannot remember the directory's serial in ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}): an older directory would not be noticed next time`);
  }
}
