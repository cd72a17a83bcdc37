// Runs the real, built CLI as a child process, in an empty working directory and without the caller's TIPLINE_*,
// DATABASE_URL or ALL_PROXY settings: what a person left in the checkout (the quick start's ./keys, ./data) or
// exported in their shell must not change a result.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../../client/cli/main.js', import.meta.url));

let emptyDir: string | undefined;
function emptyCwd(): string {
  if (!emptyDir) {
    const dir = mkdtempSync(join(tmpdir(), 'tipline-cli-cwd-'));
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    emptyDir = dir;
  }
  return emptyDir;
}

export function cliEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(TIPLINE_|DATABASE_URL$|ALL_PROXY$|all_proxy$)/.test(k)));
  return { ...env, TIPLINE_STATE_DIR: join(emptyCwd(), 'state'), ...extra }; // the CLI's remembered serials: never the user's own
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runCli(args: string[], opts: { env?: Record<string, string>; input?: string | Uint8Array; timeoutMs?: number } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: emptyCwd(),
      env: cliEnv({ TIPLINE_PASSPHRASE: 'correct horse battery staple', TIPLINE_PROGRESS: '0', ...opts.env }),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`tipline ${args.join(' ')} timed out\n${stderr}`));
    }, opts.timeoutMs ?? 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(opts.input ?? '');
  });
}

/** Starts `tipline serve` and resolves once it says where it listens. */
/** `url` is the public listener's (sources), `staffUrl` the staff API's (tipline fetch/delete --server). */
export function startCliServer(args: string[], env: Record<string, string> = {}): Promise<{ child: ChildProcess; url: string; staffUrl: string; output: () => string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'serve', ...args], { cwd: emptyCwd(), env: cliEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`tipline serve did not start:\n${out}`));
    }, 60_000);
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      const staff = /staff API on (http:\/\/[^\s,]+)/.exec(out);
      if (m && staff) {
        clearTimeout(timer);
        resolve({ child, url: m[1]!, staffUrl: staff[1]!, output: () => out });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`tipline serve exited with ${code}:\n${out}`));
    });
  });
}
