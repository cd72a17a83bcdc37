// Private files replaced whole or not at all: the new content goes to a temporary file (0600, created
// exclusively) in the same folder, is flushed to disk, then renamed over the old one. Threat: a crash or a full
// disk halfway through leaving a key file that opens with neither passphrase, or an auditor's kept heads half
// written (and so lost).
import { chmodSync, closeSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';

/** The temporary file did not read back as written (a failing disk): the target is left as it was. */
export class ReadBackError extends Error {
  constructor(readonly tmp: string) {
    super(`${tmp} did not read back as written`);
  }
}

/** Writes `text` to `target` atomically, mode 0600; with `readBack`, reads the temporary file back first. On any
 * failure the temporary file is removed, `target` is unchanged, and the error is thrown as it came. */
export function writePrivateFileAtomic(target: string, text: string, readBack = false): void {
  const tmp = join(dirname(target), `.${basename(target)}.${randomBytes(6).toString('hex')}.tmp`);
  let fd: number | undefined;
  try {
    fd = openSync(tmp, 'wx', 0o600);
    writeSync(fd, text);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    chmodSync(tmp, 0o600);
    if (readBack && readFileSync(tmp, 'utf8') !== text) throw new ReadBackError(tmp);
    renameSync(tmp, target);
  } catch (err) {
    if (fd !== undefined) closeSync(fd);
    rmSync(tmp, { force: true });
    throw err;
  }
}
