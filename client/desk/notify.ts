// `tipline desk --notify-command CMD`: runs CMD on a fixed schedule, aligned to the clock (every N minutes from
// midnight UTC: with the default 60, on the hour), with the number of threads new since the last notification as
// its one argument and in TIPLINE_NEW_THREADS, even when it is 0. Threat: a notification sent when a tip arrives
// (a phone buzzing, a mail sent) would tell whoever watches the desk's devices or mail server when a source acted;
// on a fixed schedule, always, its timing says nothing. Run as execFile does (spawn, no shell: the count is the only
// argument, nothing of a tip ever reaches it), with a timeout, its output discarded (stdio ignored, never buffered).
import { spawn, type ChildProcess } from 'node:child_process';

import type { DeskStore } from './store.js';

export const NOTIFY_TIMEOUT_MS = 30_000;

export interface NotifierOptions {
  command: string;
  /** The period, in milliseconds (--notify-every minutes × 60,000). */
  everyMs: number;
  /** The number of threads new since the last notification; called at each tick, then marks them notified. */
  count: () => number;
  /** Told when the command fails (its exit code or error, never its output). */
  warn?: (s: string) => void;
  now?: () => number;
}

/** The next instant after `t` that is a whole multiple of `everyMs` since the epoch. */
export function nextTick(t: number, everyMs: number): number {
  return (Math.floor(t / everyMs) + 1) * everyMs;
}

/** The command's environment: ours without any TIPLINE_* setting, plus the count. Threat: TIPLINE_PASSPHRASE (the
 * desk key's passphrase) handed to a notification script that logs or forwards its environment. */
export function notifyEnv(n: number, env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(env)) if (!k.toUpperCase().startsWith('TIPLINE_')) out[k] = v;
  out.TIPLINE_NEW_THREADS = String(n);
  return out;
}

export class Notifier {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private running = new Set<ChildProcess>();

  constructor(private readonly o: NotifierOptions) {}

  start(): void {
    this.schedule();
  }

  private schedule(): void {
    if (this.stopped) return;
    const now = (this.o.now ?? Date.now)();
    // Computed from the clock each time, not chained intervals: no drift, and a sleeping laptop catches up on the
    // next boundary rather than firing late at an instant of its own.
    this.timer = setTimeout(() => {
      this.fire();
      this.schedule();
    }, nextTick(now, this.o.everyMs) - now);
    this.timer.unref?.();
  }

  /** Runs the command once with the current count. */
  fire(): void {
    let n: number;
    try {
      n = this.o.count();
    } catch {
      n = 0;
    }
    const child = spawn(this.o.command, [String(n)], { shell: false, stdio: 'ignore', timeout: NOTIFY_TIMEOUT_MS, env: notifyEnv(n), windowsHide: true });
    child.on('error', (err) => {
      this.running.delete(child);
      this.o.warn?.(`the notification command could not run (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    });
    child.on('exit', (code, signal) => {
      this.running.delete(child);
      if (code !== 0) this.o.warn?.(`the notification command failed (${signal ?? `exit ${code}`})`);
    });
    this.running.add(child);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    for (const c of this.running) c.kill();
  }
}

/** The count a notification carries: threads in the store not counted by the previous one (remembered in
 * DATA/state.json). The first time, the threads already there are the baseline, not "new". */
export function newThreadsCounter(store: DeskStore): () => number {
  if (store.notified() === undefined) store.setNotified(store.threadIds());
  return () => {
    const before = new Set(store.notified() ?? []);
    const ids = store.threadIds();
    store.setNotified(ids);
    return ids.filter((id) => !before.has(id)).length;
  };
}
