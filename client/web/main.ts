// The page: the form is plain HTML and usable at once; this script shows it (it stays hidden without
// JavaScript, so nothing can ever be sent unencrypted), keeps the file list, and drives the worker that
// holds the crypto code. It stores nothing: no cookies, no localStorage, nothing that outlives the tab.
import { LANGUAGES, DEFAULT_LANGUAGE, type Strings } from './strings/index.js';
import { FINGERPRINT_SLOT } from './page.js';
import type { SendRequest, Stage, WorkerEvent } from './protocol.js';

const MAX_TOTAL = 2 * 1024 ** 3;
const s: Strings = LANGUAGES[document.documentElement.lang] ?? LANGUAGES[DEFAULT_LANGUAGE]!;
const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

const form = $<HTMLFormElement>('tip-form');
const message = $<HTMLTextAreaElement>('message');
const input = $<HTMLInputElement>('files');
const drop = $<HTMLDivElement>('drop');
const list = $<HTMLUListElement>('file-list');
const total = $<HTMLParagraphElement>('total');
const strip = $<HTMLInputElement>('strip');
const error = $<HTMLParagraphElement>('error');
const progressBox = $<HTMLDivElement>('progress-box');
const status = $<HTMLParagraphElement>('status');
const bar = $<HTMLProgressElement>('progress');
const detail = $<HTMLParagraphElement>('progress-text');
const fingerprint = document.querySelector<HTMLMetaElement>('meta[name="tipline-fingerprint"]')?.content ?? '';

let files: File[] = [];
let worker: Worker | undefined;
let ready: Promise<void> | undefined;
let started = 0;

const oneDecimal = new Intl.NumberFormat(s.lang, { maximumFractionDigits: 1, minimumFractionDigits: 1 });

function size(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB'];
  let i = 0;
  let v = n;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  // A non-breaking space keeps "2,5 MB" on one line on a phone.
  return `${i === 0 ? String(v) : oneDecimal.format(v)}\u00a0${units[i]}`;
}

function showError(text: string | undefined): void {
  error.hidden = !text;
  error.textContent = text ?? '';
}

function renderFiles(): void {
  list.replaceChildren(
    ...files.map((f, i) => {
      const li = document.createElement('li');
      const name = document.createElement('span');
      name.textContent = `${f.name} — ${size(f.size)}`;
      const remove = document.createElement('button');
      remove.type = 'button';
      remove.textContent = s.remove;
      remove.setAttribute('aria-label', `${s.remove}: ${f.name}`);
      remove.addEventListener('click', () => {
        files.splice(i, 1);
        renderFiles();
        input.focus();
      });
      li.append(name, remove);
      return li;
    }),
  );
  const sum = files.reduce((n, f) => n + f.size, 0);
  total.hidden = files.length === 0;
  total.textContent = `${s.totalSize}: ${size(sum)}`;
}

function addFiles(more: FileList | null): void {
  if (!more) return;
  files = [...files, ...Array.from(more)];
  renderFiles();
}

function startWorker(): Promise<void> {
  ready ??= new Promise<void>((resolve) => {
    worker = new Worker('/assets/worker.js');
    worker.addEventListener('message', (e: MessageEvent<WorkerEvent>) => {
      if (e.data.type === 'ready') resolve();
      else onWorkerEvent(e.data);
    });
    // A script that failed to arrive (a dropped circuit) is not a browser that cannot encrypt: start afresh
    // on the next press rather than hang or send the source to a less safe browser.
    worker.addEventListener('error', () => {
      worker?.terminate();
      worker = undefined;
      ready = undefined;
      if (busy()) fail(s.errors.loadFailed);
    });
  });
  return ready;
}

const busy = () => form.getAttribute('aria-busy') === 'true';

function stage(st: Stage): void {
  status.textContent = s.states[st === 'encrypting' ? 'encrypting' : st];
}

/** While a tip is on its way the form is frozen: what is being sent is what the source saw. */
function freeze(frozen: boolean): void {
  for (const el of form.querySelectorAll<HTMLInputElement | HTMLTextAreaElement | HTMLButtonElement>('input, textarea, button')) el.disabled = frozen;
  if (frozen) form.setAttribute('aria-busy', 'true');
  else form.removeAttribute('aria-busy');
}

function fail(text: string): void {
  showError(text);
  progressBox.hidden = true;
  freeze(false);
}

function onWorkerEvent(ev: WorkerEvent): void {
  switch (ev.type) {
    case 'stage':
      stage(ev.stage);
      break;
    case 'progress': {
      bar.value = ev.total > 0 ? Math.floor((ev.sent / ev.total) * 1000) : 1000;
      const secs = (performance.now() - started) / 1000;
      const left = ev.sent > 0 ? Math.round(((ev.total - ev.sent) * secs) / ev.sent) : 0;
      // An estimate only once there is something to estimate from, and only while it says something.
      const estimate = secs >= 2 && left >= 1 && ev.sent < ev.total ? ` — ${s.timeLeft.replace('{s}', String(left))}` : '';
      detail.textContent = `${size(ev.sent)} / ${size(ev.total)}${estimate}`;
      break;
    }
    case 'done': {
      freeze(false);
      form.hidden = true;
      $<HTMLElement>('receipt-id').textContent = ev.receipt.tip_id;
      $<HTMLElement>('receipt-day').textContent = ev.receipt.received_day;
      const receipt = $<HTMLElement>('receipt');
      receipt.hidden = false;
      receipt.focus();
      files = [];
      message.value = '';
      break;
    }
    case 'error':
      if (ev.kind === 'failed') fail(s.errors.failed.replace('{reason}', ev.reason));
      else if (ev.kind === 'uncleanable') fail(s.errors.uncleanable.replace('{name}', ev.reason));
      else fail(s.errors[ev.kind]);
      break;
    case 'ready':
      break;
  }
}

form.addEventListener('submit', (e) => {
  e.preventDefault();
  showError(undefined);
  if (message.value.trim() === '' && files.length === 0) return showError(s.errors.empty);
  if (files.reduce((n, f) => n + f.size, 0) > MAX_TOTAL) return showError(s.errors.tooLarge);
  freeze(true);
  progressBox.hidden = false;
  progressBox.scrollIntoView({ block: 'nearest' });
  bar.value = 0;
  detail.textContent = '';
  status.textContent = s.states.loading;
  started = performance.now();
  const request: SendRequest = { type: 'send', message: message.value, files, strip: strip.checked, fingerprint };
  void startWorker().then(() => worker!.postMessage(request));
});

input.addEventListener('change', () => {
  addFiles(input.files);
  input.value = '';
});
// A file dropped anywhere else would make the browser open it in this tab, losing the draft or a running
// upload: drops are caught on the whole document, and only taken while nothing is being sent.
document.addEventListener('dragover', (e) => {
  e.preventDefault();
  drop.classList.toggle('over', drop.contains(e.target as Node));
});
document.addEventListener('dragleave', () => drop.classList.remove('over'));
document.addEventListener('drop', (e) => {
  e.preventDefault();
  drop.classList.remove('over');
  if (!busy() && !form.hidden) addFiles(e.dataTransfer?.files ?? null);
});
window.addEventListener('beforeunload', (e) => {
  if (busy()) e.preventDefault(); // leaving now would abandon the upload
});

if (fingerprint === '') {
  // No keys published yet: nothing to encrypt to, and nothing wrong either. No form, no crypto code loaded.
  $<HTMLElement>('fp-section').hidden = true;
  $<HTMLElement>('not-ready').hidden = false;
} else if (fingerprint === FINGERPRINT_SLOT) {
  showError(s.errors.directory); // not served by a tip line server: there is no fingerprint to check against
} else {
  form.hidden = false;
  // The crypto code (most of the page's weight) loads in the worker only after the form is on screen.
  const later = (globalThis as { requestIdleCallback?: (f: () => void) => void }).requestIdleCallback ?? ((f: () => void) => setTimeout(f, 50));
  later(() => void startWorker());
}
