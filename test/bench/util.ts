// Small helpers for the benchmark: timing, formatting, /proc sampling, child processes.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const MB = 1e6;
export const MiB = 1024 * 1024;
export const CLK_TCK = 100; // Linux USER_HZ; /proc/<pid>/stat times are in these ticks.

export const now = (): number => performance.now();

export function mbps(bytes: number, ms: number): number {
  return bytes / MB / (ms / 1000);
}

export const f1 = (n: number): string => (Number.isFinite(n) ? n.toFixed(1) : 'n/a');
export const f2 = (n: number): string => (Number.isFinite(n) ? n.toFixed(2) : 'n/a');
export function ratio(a: number, b: number): string {
  if (!Number.isFinite(a) || !Number.isFinite(b) || b === 0) return 'n/a';
  const r = a / b;
  return `${r >= 10 ? r.toFixed(0) : r >= 1 ? r.toFixed(1) : r >= 0.1 ? r.toFixed(2) : r.toPrecision(2)}×`;
}
export const mib = (bytes: number): string => `${(bytes / MiB).toFixed(0)} MiB`;

export function log(line = ''): void {
  process.stdout.write(`${line}\n`);
}

/** Reads peak RSS (VmHWM), current RSS and CPU seconds of a live process; undefined if it is gone. */
export interface ProcSample {
  hwmBytes: number;
  rssBytes: number;
  cpuSeconds: number;
}

export function sampleProc(pid: number): ProcSample | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the ")" closing the command name: state is field 3, utime 14, stime 15.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(rest[11]);
    const stime = Number(rest[12]);
    return { hwmBytes: kb('VmHWM'), rssBytes: kb('VmRSS'), cpuSeconds: (utime + stime) / CLK_TCK };
  } catch {
    return undefined;
  }
}

/** Resets the kernel's peak-RSS mark (VmHWM) of a process; false when not permitted. */
export function resetPeak(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/** The `tipline` command under test; BENCH_CLI points at another build's dist/client/cli/main.js (before/after). */
export const CLI = process.env.BENCH_CLI ?? fileURLToPath(new URL('../../client/cli/main.js', import.meta.url));
export const TIME = '/usr/bin/time';
export const HAVE_GNU_TIME = existsSync(TIME);

export interface Measured {
  code: number | null;
  stdout: string;
  stderr: string;
  wallMs: number;
  /** Peak RSS of the measured process (from GNU time -v, else the last /proc VmHWM sample). */
  peakRssBytes: number;
  cpuSeconds: number;
  peakSource: string;
}

/**
 * Runs `node <args>` to completion and measures its wall time, peak RSS and CPU. With GNU time present the
 * figures come from `time -v` (exact); otherwise /proc/<pid> is sampled every 50 ms (VmHWM is monotonic, so
 * the last sample misses at most the final 50 ms).
 */
export function runMeasured(args: string[], env: Record<string, string>, timeFile: string, timeoutMs: number): Promise<Measured> {
  return new Promise((resolve, reject) => {
    const useTime = HAVE_GNU_TIME;
    const cmd = useTime ? TIME : process.execPath;
    const argv = useTime ? ['-v', '-o', timeFile, process.execPath, ...args] : args;
    const started = now();
    const child = spawn(cmd, argv, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    let last: ProcSample | undefined;
    const poll = useTime ? undefined : setInterval(() => (last = sampleProc(child.pid!) ?? last), 50);
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`node ${args.join(' ')} timed out after ${timeoutMs} ms\n${stderr}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      const wallMs = now() - started;
      clearTimeout(timer);
      if (poll) clearInterval(poll);
      let peak = last?.hwmBytes ?? NaN;
      let cpu = last?.cpuSeconds ?? NaN;
      let source = 'sampled /proc VmHWM';
      if (useTime) {
        const t = readFileSync(timeFile, 'utf8');
        peak = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(t)?.[1] ?? NaN) * 1024;
        cpu = Number(/User time \(seconds\): ([\d.]+)/.exec(t)?.[1] ?? NaN) + Number(/System time \(seconds\): ([\d.]+)/.exec(t)?.[1] ?? NaN);
        source = '/usr/bin/time -v';
      }
      resolve({ code, stdout, stderr, wallMs, peakRssBytes: peak, cpuSeconds: cpu, peakSource: source });
    });
  });
}

/** Spawns a long-running node child and waits for a line matching `ready`; the rest of its output is drained. */
export function spawnUntil(args: string[], env: Record<string, string>, ready: RegExp, timeoutMs = 60_000): Promise<{ child: ChildProcess; match: RegExpExecArray; output: () => string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let done = false;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`node ${args.join(' ')} did not get ready:\n${out.slice(-2000)}`));
    }, timeoutMs);
    const onData = (d: Buffer) => {
      if (done) return; // keep draining, stop accumulating (request logs can be long)
      out += d.toString();
      const m = ready.exec(out);
      if (m) {
        done = true;
        clearTimeout(timer);
        resolve({ child, match: m, output: () => out });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (!done) reject(new Error(`node ${args.join(' ')} exited with ${code}:\n${out.slice(-2000)}`));
    });
  });
}

export function stopChild(child: ChildProcess, timeoutMs = 20_000): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

export function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/** The pids of a process and all its descendants, from /proc. */
export function treePids(rootPid: number): number[] {
  const parent = new Map<number, number>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      parent.set(Number(d), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // gone
    }
  }
  const tree = [rootPid];
  for (let i = 0; i < tree.length; i++) for (const [pid, pp] of parent) if (pp === tree[i]) tree.push(pid);
  return tree;
}
