// The page's side of the worker: started once (after the form is on screen, or at the first press), it routes
// each event to the part of the page that asked, by job. If the worker's script fails to arrive (a dropped
// circuit), every part waiting hears "loadFailed" and the next request starts a fresh worker: a network fault
// is not a browser that cannot encrypt.
import { ALL_JOBS, type WorkerEvent, type WorkerRequest } from './protocol.js';

type Listener = (ev: Exclude<WorkerEvent, { type: 'ready' }>) => void;

const listeners = new Map<string, Listener>();
/** Jobs the source did not start (verifying the policy and canary): they do not keep a failure of the worker
 * itself from being said under the form. */
const background = new Set<string>();
let worker: Worker | undefined;
let ready: Promise<void> | undefined;
/** Hears events for every job when no part is waiting (the worker found it cannot run the crypto code). */
let fallback: Listener = () => {};

export function onUnclaimed(l: Listener): void {
  fallback = l;
}

export function startWorker(): Promise<void> {
  ready ??= new Promise<void>((resolve) => {
    worker = new Worker('/assets/worker.js');
    worker.addEventListener('message', (e: MessageEvent<WorkerEvent>) => {
      const ev = e.data;
      if (ev.type === 'ready') return resolve();
      if (ev.job === ALL_JOBS) {
        if ([...listeners.keys()].every((job) => background.has(job))) fallback(ev);
        for (const [job, l] of listeners) l({ ...ev, job });
        return;
      }
      listeners.get(ev.job)?.(ev);
    });
    worker.addEventListener('error', () => {
      worker?.terminate();
      worker = undefined;
      ready = undefined;
      for (const [job, l] of listeners) l({ type: 'error', job, kind: 'loadFailed', reason: 'the worker script did not load' });
    });
  });
  return ready;
}

/** Sends a request once the worker is ready; its job's events go to `on` (replacing any earlier listener). */
export function ask(req: WorkerRequest, on: Listener, opts: { background?: boolean } = {}): void {
  listeners.set(req.job, on);
  if (opts.background) background.add(req.job);
  else background.delete(req.job);
  void startWorker().then(() => worker!.postMessage(req));
}

/** Stops listening for a job (its events are dropped). */
export function forget(job: string): void {
  listeners.delete(job);
  background.delete(job);
}
