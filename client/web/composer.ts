// A message with files, as the tip form and the follow-up form both take it: the file list (sizes, removal,
// and by name each file whose type may carry hidden details this page does not remove), the error that goes
// away as soon as its cause is fixed, and the progress of the send, with the proof-of-work shown as working
// and roughly how long it takes. The same upload path for both: the worker's "send".
import type { Strings } from './strings/index.js';
import type { ReplyChoice, WorkerEvent } from './protocol.js';
import type { Receipt } from '../../schema/wire.js';
import { $, fill, sizeFormatter } from './format.js';
import { ask, forget } from './worker-client.js';

export const MAX_TOTAL = 2 * 1024 ** 3;

type RiskKind = keyof Omit<Strings['risky'], 'intro' | 'advice'>;
const OFFICE = new Set(['doc', 'docx', 'docm', 'dot', 'dotx', 'xls', 'xlsx', 'xlsm', 'ppt', 'pptx', 'pps', 'ppsx', 'odt', 'ods', 'odp', 'odg', 'rtf', 'pages', 'numbers', 'key']);
const CLEANED = new Set(['jpg', 'jpeg', 'png']);
const UNCLEANED_IMAGES = new Set(['heic', 'heif', 'tif', 'tiff', 'webp', 'gif', 'avif', 'jxl', 'dng', 'raw', 'cr2', 'cr3', 'nef', 'arw', 'orf', 'rw2', 'psd']);
const MEDIA = new Set(['mp4', 'mov', 'm4v', 'avi', 'mkv', '3gp', 'webm', 'm4a', 'mp3', 'wav', 'aac', 'ogg', 'opus', 'amr', 'flac']);

/** The kind of hidden details a file may carry past this page, by its name's type (the same rule for every
 * source; the content is not read here): undefined for a type that carries none worth naming. */
export function riskOf(name: string, stripping: boolean): RiskKind | undefined {
  const ext = /\.([A-Za-z0-9]{1,8})$/.exec(name)?.[1]?.toLowerCase() ?? '';
  if (ext === 'pdf') return 'pdf';
  if (OFFICE.has(ext)) return 'office';
  if (CLEANED.has(ext)) return stripping ? undefined : 'photoKept';
  if (UNCLEANED_IMAGES.has(ext)) return 'photoUncleanable';
  if (MEDIA.has(ext)) return 'media';
  return undefined;
}

/** What an error on screen was about, so it can go as soon as that is fixed. */
type Cause = { kind: 'empty' } | { kind: 'tooLarge' } | { kind: 'uncleanable'; name: string } | { kind: 'other' };

export class Composer {
  readonly form: HTMLFormElement;
  readonly message: HTMLTextAreaElement;
  readonly strip: HTMLInputElement;
  readonly drop: HTMLElement;
  files: File[] = [];
  private readonly input: HTMLInputElement;
  private readonly list: HTMLUListElement;
  private readonly total: HTMLElement;
  private readonly risky: HTMLElement;
  private readonly riskyList: HTMLUListElement;
  private readonly progressBox: HTMLElement;
  private readonly status: HTMLElement;
  private readonly bar: HTMLProgressElement;
  private readonly busyBar: HTMLElement;
  private readonly detail: HTMLElement;
  private readonly size: (n: number) => string;
  private cause: Cause | undefined;
  private started = 0;
  private ticking: ReturnType<typeof setInterval> | undefined;

  constructor(
    formId: string,
    p: string,
    private readonly s: Strings,
    private readonly error: HTMLElement,
    private readonly job: string,
  ) {
    this.form = $<HTMLFormElement>(formId);
    this.message = $(`${p}message`);
    this.input = $(`${p}files`);
    this.drop = $(`${p}drop`);
    this.list = $(`${p}file-list`);
    this.total = $(`${p}total`);
    this.strip = $(`${p}strip`);
    this.risky = $(`${p}risky`);
    this.riskyList = $(`${p}risky-list`);
    this.progressBox = $(`${p}progress-box`);
    this.status = $(`${p}status`);
    this.bar = $(`${p}progress`);
    this.busyBar = $(`${p}busy`);
    this.detail = $(`${p}progress-text`);
    this.size = sizeFormatter(s.lang);
    this.input.addEventListener('change', () => {
      this.addFiles(this.input.files);
      this.input.value = '';
    });
    this.message.addEventListener('input', () => this.recheck());
    this.strip.addEventListener('change', () => {
      this.renderRisky();
      this.recheck();
    });
  }

  busy(): boolean {
    return this.form.getAttribute('aria-busy') === 'true';
  }

  addFiles(more: FileList | null): void {
    if (!more) return;
    this.files = [...this.files, ...Array.from(more)];
    this.renderFiles();
  }

  private renderFiles(): void {
    const s = this.s;
    this.list.replaceChildren(
      ...this.files.map((f, i) => {
        const li = document.createElement('li');
        const name = document.createElement('span');
        name.textContent = `${f.name} — ${this.size(f.size)}`;
        const remove = document.createElement('button');
        remove.type = 'button';
        remove.textContent = s.remove;
        remove.setAttribute('aria-label', `${s.remove}: ${f.name}`);
        remove.addEventListener('click', () => {
          this.files.splice(i, 1);
          this.renderFiles();
          this.input.focus();
        });
        li.append(name, remove);
        return li;
      }),
    );
    const sum = this.sum();
    this.total.hidden = this.files.length === 0;
    this.total.textContent = `${s.totalSize}: ${this.size(sum)}`;
    this.renderRisky();
    this.recheck();
  }

  /** Names, before sending, each file that may carry hidden details this page will not remove. */
  private renderRisky(): void {
    const items = this.files.flatMap((f) => {
      const kind = riskOf(f.name, this.strip.checked);
      if (!kind) return [];
      const li = document.createElement('li');
      const name = document.createElement('strong');
      name.textContent = `“${f.name}”`;
      li.append(name, ` — ${this.s.risky[kind]}`);
      return [li];
    });
    this.riskyList.replaceChildren(...items);
    this.risky.hidden = items.length === 0;
  }

  private sum(): number {
    return this.files.reduce((n, f) => n + f.size, 0);
  }

  showError(text: string | undefined, cause: Cause = { kind: 'other' }): void {
    this.error.hidden = !text;
    this.error.textContent = text ?? '';
    this.cause = text ? cause : undefined;
  }

  /** Clears the error once what caused it is fixed: a message typed, a file added, the photo removed… */
  private recheck(): void {
    const c = this.cause;
    if (!c || this.error.hidden) return;
    const fixed =
      (c.kind === 'empty' && (this.message.value.trim() !== '' || this.files.length > 0)) ||
      (c.kind === 'tooLarge' && this.sum() <= MAX_TOTAL) ||
      (c.kind === 'uncleanable' && (!this.strip.checked || !this.files.some((f) => f.name === c.name)));
    if (fixed) this.showError(undefined);
  }

  /** Whether there is something to send; says what is missing if not. */
  check(): boolean {
    this.showError(undefined);
    if (this.message.value.trim() === '' && this.files.length === 0) {
      this.showError(this.s.errors.empty, { kind: 'empty' });
      return false;
    }
    if (this.sum() > MAX_TOTAL) {
      this.showError(this.s.errors.tooLarge, { kind: 'tooLarge' });
      return false;
    }
    return true;
  }

  /** While a tip is on its way the form is frozen: what is being sent is what the source saw. */
  freeze(frozen: boolean): void {
    for (const el of this.form.querySelectorAll<HTMLInputElement | HTMLTextAreaElement | HTMLButtonElement>('input, textarea, button')) el.disabled = frozen;
    if (frozen) this.form.setAttribute('aria-busy', 'true');
    else this.form.removeAttribute('aria-busy');
  }

  fail(text: string, cause?: Cause): void {
    this.stopTicking();
    this.showError(text, cause);
    this.progressBox.hidden = true;
    this.freeze(false);
  }

  /** Sends what the form holds (already checked and frozen), through the worker. */
  send(fingerprint: string, reply: ReplyChoice, onDone: (r: Receipt) => void): void {
    this.freeze(true);
    this.progressBox.hidden = false;
    this.progressBox.scrollIntoView({ block: 'nearest' });
    this.bar.value = 0;
    this.detail.textContent = '';
    this.status.textContent = this.s.states.loading;
    this.started = performance.now();
    ask({ type: 'send', job: this.job, message: this.message.value, files: this.files, strip: this.strip.checked, fingerprint, reply }, (ev) => this.onEvent(ev, onDone));
  }

  private onEvent(ev: Exclude<WorkerEvent, { type: 'ready' }>, onDone: (r: Receipt) => void): void {
    const s = this.s;
    switch (ev.type) {
      case 'stage':
        if (ev.stage === 'preparing') this.preparing(ev.estimateMs ?? 0);
        else this.stopTicking();
        this.status.textContent = s.states[ev.stage];
        break;
      case 'progress': {
        this.stopTicking();
        this.bar.value = ev.total > 0 ? Math.floor((ev.sent / ev.total) * 1000) : 1000;
        const secs = (performance.now() - this.started) / 1000;
        const left = ev.sent > 0 ? Math.round(((ev.total - ev.sent) * secs) / ev.sent) : 0;
        // An estimate only once there is something to estimate from, and only while it says something.
        const estimate = secs >= 2 && left >= 1 && ev.sent < ev.total ? ` — ${fill(s.timeLeft, { s: left })}` : '';
        this.detail.textContent = `${this.size(ev.sent)} / ${this.size(ev.total)}${estimate}`;
        break;
      }
      case 'done':
        forget(this.job);
        this.stopTicking();
        this.freeze(false);
        this.progressBox.hidden = true;
        this.files = [];
        this.renderFiles();
        this.message.value = '';
        onDone(ev.receipt);
        break;
      case 'error':
        forget(this.job);
        if (ev.kind === 'failed') this.fail(fill(s.errors.failed, { reason: ev.reason }));
        else if (ev.kind === 'uncleanable') this.fail(fill(s.errors.uncleanable, { name: ev.reason }), { kind: 'uncleanable', name: ev.reason });
        else this.fail(s.errors[ev.kind]);
        break;
      default:
        break;
    }
  }

  /** The proof-of-work: no bytes move yet, so a moving bar and the seconds so far against the usual wait. */
  private preparing(estimateMs: number): void {
    const s = this.s;
    const since = performance.now();
    const estimate = Math.max(1, Math.round(estimateMs / 1000));
    this.bar.hidden = true;
    this.busyBar.hidden = false;
    const tick = () => {
      const elapsed = Math.floor((performance.now() - since) / 1000);
      // Chance decides the wait: past twice the usual, say so, so a long one does not look like a hang.
      this.detail.textContent = fill(elapsed > 2 * estimate + 2 ? s.preparingLong : s.preparingTime, { elapsed, estimate });
    };
    tick();
    clearInterval(this.ticking);
    this.ticking = setInterval(tick, 1000);
  }

  private stopTicking(): void {
    if (this.ticking === undefined) return;
    clearInterval(this.ticking);
    this.ticking = undefined;
    this.bar.hidden = false;
    this.busyBar.hidden = true;
    this.detail.textContent = '';
  }
}
