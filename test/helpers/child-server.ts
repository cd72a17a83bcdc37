// `tipline serve` (the built CLI) as a child process a fault test can kill, signal and start again on the same
// port and data, with everything it prints kept for assertions.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, cliEnv } from './cli.js';

export interface ChildServer {
  child: ChildProcess;
  /** The public listener (the sources' page and API). */
  url: string;
  /** The staff API's listener: its own when serve opens one ("staff API on <url>"), else the public one. */
  staffUrl: string;
  output(): string;
  /** Resolves with the exit code (or the signal's name) once the process has exited. */
  exited: Promise<number | string>;
  alive(): boolean;
  kill(signal?: NodeJS.Signals): void;
}

let cwd: string | undefined;

export function startChildServer(args: string[], env: Record<string, string> = {}, timeoutMs = 60_000): Promise<ChildServer> {
  cwd ??= mkdtempSync(join(tmpdir(), 'tipline-child-cwd-'));
  // The staff listener's default port is fixed: tests run side by side, so it is the system's pick unless given.
  if (!args.includes('--staff-port')) args = [...args, '--staff-port', '0'];
  const child = spawn(process.execPath, [CLI, 'serve', ...args], { cwd, env: cliEnv({ TIPLINE_LOG_LEVEL: 'info', ...env }), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let exitedWith: number | string | undefined;
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve((exitedWith = code ?? signal ?? -1))));
  // Whatever a test does, no server outlives it.
  const reap = () => child.kill('SIGKILL');
  process.once('exit', reap);
  void exited.then(() => process.removeListener('exit', reap));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`tipline serve did not start within ${timeoutMs} ms:\n${out}`));
    }, timeoutMs);
    const onData = (d: Buffer) => {
      out += d.toString();
      const lines = [...out.matchAll(/^.*listening on (http:\/\/\S+).*$/gm)];
      if (lines.length === 0) return;
      clearTimeout(timer);
      child.stdout!.removeListener('data', onData);
      child.stderr!.removeListener('data', onData);
      child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
      // A second listener, if any, is given a moment to be announced too.
      // serve announces it as "staff API on <url>" (older builds: a "listening on" line naming "staff").
      setTimeout(() => {
        const all = [...out.matchAll(/^.*(?:listening on|staff API on) (http:\/\/\S+).*$/gm)];
        const staff = all.find((m) => /staff/i.test(m[0]));
        const pub = all.find((m) => !/staff/i.test(m[0])) ?? all[0]!;
        resolve({
          child,
          url: pub[1]!,
          staffUrl: (staff ?? pub)[1]!,
          output: () => out,
          exited,
          alive: () => exitedWith === undefined,
          kill: (signal = 'SIGKILL') => void child.kill(signal),
        });
      }, 100);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`tipline serve exited with ${code}:\n${out}`));
    });
  });
}

/** Kills with SIGKILL and waits until the process is gone (its port and data folder are free again). */
export async function killHard(s: ChildServer): Promise<void> {
  if (s.alive()) s.kill('SIGKILL');
  await s.exited;
}
