// PGlite is one process's database: a second process opening the same folder would corrupt it. A lock file
// holding our pid keeps a second `tipline serve` out; a lock left by a killed process is taken over.
// The pid is written to a private file first and linked into place, so the lock never exists empty.
import { linkSync, readFileSync, statSync, unlinkSync, writeFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';

export class DataDirLockedError extends Error {
  constructor(dir: string, holder: string) {
    super(`the data folder ${dir} is in use by another tipline process (${holder}); stop it first`);
    this.name = 'DataDirLockedError';
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function holderOf(path: string): number | undefined {
  try {
    const pid = Number(readFileSync(path, 'utf8'));
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

export function lockDataDir(dir: string): () => void {
  const path = join(dir, 'tipline.lock');
  const mine = join(dir, `.tipline.lock.${process.pid}.${randomBytes(4).toString('hex')}`);
  writeFileSync(mine, String(process.pid), { mode: 0o600 });
  try {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        linkSync(mine, path); // atomic: fails if a lock exists
        return () => {
          if (holderOf(path) === process.pid) unlinkSync(path);
        };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const pid = holderOf(path);
      if (pid !== undefined && alive(pid)) throw new DataDirLockedError(dir, `pid ${pid}`);
      if (pid === undefined && Date.now() - statSync(path).mtimeMs < 10_000) throw new DataDirLockedError(dir, 'a lock being taken');
      // Stale: its process is gone. Replace it by rename, which is atomic, then check we are the holder.
      const claim = `${mine}.claim`;
      linkSync(mine, claim);
      renameSync(claim, path);
      if (holderOf(path) === process.pid) {
        return () => {
          if (holderOf(path) === process.pid) unlinkSync(path);
        };
      }
    }
    throw new Error(`could not lock the data folder ${dir}`);
  } finally {
    unlinkSync(mine);
  }
}
