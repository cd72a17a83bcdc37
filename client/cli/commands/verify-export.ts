// `tipline verify-export`: checks a thread exported from the desk app (client/desk/export.ts, FORMAT.md §Thread
// export) — every file against the signed SHA256SUMS, nothing added or missing, the desk's signature, and with
// --fingerprint that the directory inside, signed under the newsroom's root, listed that key as that desk when
// it exported. Meant for whoever receives an export later: an editor, a lawyer, a court.
import { readFileSync, statSync } from 'node:fs';
import { args, usage, wantsHelp, type Io } from '../args.js';
import { CliError } from '../errors.js';
import { printable } from '../printable.js';

const HELP = `usage: tipline verify-export FILE.zip [--fingerprint FP]

Checks a thread exported from the desk app (tipline desk): that every file in the ZIP has the SHA-256 its
SHA256SUMS lists, that no file was added or removed, that SHA256SUMS.sig.json is a valid signature over it by
the desk key it names, and, with --fingerprint, that directory.json is signed under that root and listed that
key as the desk named, at the time of the export (the directory may have expired since: it says which).
Prints one line a check, failures first, then PASS or FAIL.

  --fingerprint FP   the newsroom's root key fingerprint, obtained from the newsroom itself (not from the ZIP);
                     without it, the signature shows only that whoever holds that key signed

What a pass proves: the desk holding that key exported these bytes at that time, unchanged since. Not that a
source sent them: tips are anonymous.
exit status: 0 PASS, 1 FAIL (or the file cannot be read), 2 a usage mistake
example:  tipline verify-export 2026-11-27_thread.zip --fingerprint ABCD-EFGH-...`;

export async function run(argv: string[], io: Io): Promise<number> {
  if (wantsHelp(argv)) {
    io.say(HELP);
    return 0;
  }
  const cmd = 'verify-export';
  const { values, positionals } = args(cmd, argv, { fingerprint: { type: 'string' } }, true);
  if (positionals.length === 0) throw usage(cmd, 'name the exported ZIP: tipline verify-export FILE.zip');
  if (positionals.length > 1) throw usage(cmd, `one ZIP at a time, got ${positionals.length} files`);
  const file = positionals[0]!;
  const { MAX_TOTAL_BYTES, verifyExport } = await import('../../desk/export.js');
  const st = statSync(file, { throwIfNoEntry: false });
  if (!st) throw new CliError(`${file}: no such file`);
  if (!st.isFile()) throw new CliError(`${file}: not a file`);
  if (st.size > MAX_TOTAL_BYTES) throw new CliError(`${file}: ${st.size} bytes, larger than any export this checks`);
  const bytes = new Uint8Array(readFileSync(file));
  // "PK\3\4" (or "PK\5\6", an empty ZIP): anything else is not a ZIP, said in one line.
  if (bytes.length < 22 || bytes[0] !== 0x50 || bytes[1] !== 0x4b || !((bytes[2] === 3 && bytes[3] === 4) || (bytes[2] === 5 && bytes[3] === 6))) {
    throw new CliError(`${file}: not a ZIP file (a thread export from tipline desk is one)`);
  }
  if (values.fingerprint !== undefined) {
    const { normalizeFingerprint } = await import('../../../crypto/keys.js');
    try {
      normalizeFingerprint(values.fingerprint);
    } catch (err) {
      throw usage(cmd, `--fingerprint: ${(err as Error).message}`);
    }
  }
  const { initCrypto } = await import('../../../crypto/node.js');
  await initCrypto();
  const check = verifyExport(bytes, values.fingerprint);
  // Names come from the ZIP, whoever made it: no terminal escapes or bidi overrides reach the screen.
  for (const line of check.lines) io.say(printable(line, 1000));
  io.say(check.ok ? `PASS: exported by desk "${printable(check.signer ?? '?', 200)}"${values.fingerprint === undefined ? ' (its key not checked against a root: give --fingerprint)' : ''}` : 'FAIL');
  return check.ok ? 0 : 1;
}
