// The auditor's file of heads seen before (--heads FILE): the audit chain's heads at earlier audits and the
// highest policy serial seen. A server that later rewrites its log, however consistently, or cuts off its end,
// cannot also change this file on the auditor's machine: that is what makes a rewrite visible (PROTOCOL.md
// §Signed heads). Written atomically, mode 0600.
import { existsSync, readFileSync } from 'node:fs';
import { normalizeFingerprint, sameFingerprint } from '../../../crypto/keys.js';
import { CliError } from '../errors.js';
import { writePrivateFileAtomic } from '../atomic-file.js';

export interface PolicyMark {
  serial: number;
  digest: string;
}

/** A head as seen: signed by the server when it published one, else as computed from the log read. */
export interface KeptHead {
  seq: number;
  hash: string;
  /** The day of the audit that kept it. */
  seen: string;
  /** From the server's signed head: its day, key and signature. */
  day?: string;
  key?: string;
  signature?: string;
}

export interface HeadsFile {
  v: 1;
  fingerprint: string;
  policy?: PolicyMark;
  heads: KeptHead[];
}

const HASH_RE = /^[0-9a-f]{64}$/;

export function readHeads(path: string, fp: string): HeadsFile {
  if (!existsSync(path)) return { v: 1, fingerprint: normalizeFingerprint(fp), heads: [] };
  let j: HeadsFile;
  try {
    j = JSON.parse(readFileSync(path, 'utf8')) as HeadsFile;
  } catch (err) {
    throw new CliError(`--heads ${path}: not readable as a heads file kept by tipline audit (${(err as NodeJS.ErrnoException).code ?? 'not JSON'})`);
  }
  const ok =
    j !== null && typeof j === 'object' && j.v === 1 && typeof j.fingerprint === 'string' && Array.isArray(j.heads) &&
    j.heads.every((h) => h && Number.isSafeInteger(h.seq) && h.seq >= 0 && typeof h.hash === 'string' && HASH_RE.test(h.hash) && typeof h.seen === 'string') &&
    (j.policy === undefined || (Number.isSafeInteger(j.policy.serial) && typeof j.policy.digest === 'string'));
  if (!ok) throw new CliError(`--heads ${path}: not a heads file kept by tipline audit`);
  let same = false;
  try {
    same = sameFingerprint(j.fingerprint, fp);
  } catch {
    same = false;
  }
  if (!same) throw new CliError(`--heads ${path} was kept for another tip line (root ${j.fingerprint}): give each tip line its own file`, 2);
  return j;
}

export function writeHeads(path: string, file: HeadsFile): void {
  try {
    writePrivateFileAtomic(path, `${JSON.stringify(file, null, 2)}\n`);
  } catch (err) {
    throw new CliError(`cannot write --heads ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}
