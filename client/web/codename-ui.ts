// A tip that asks for replies: the worker makes a codename, the page shows it large with plain advice, and the
// source types it back from what they wrote down (the words are hidden by then) before anything is sent. A
// wrong copy names the word that differs. The words reach this page only to be shown: they are not kept here.
import type { Strings } from './strings/index.js';
import { $, fill } from './format.js';
import { ask, forget } from './worker-client.js';

const JOB = 'codename';

export class CodenameConfirm {
  private readonly box = $('codename-box');
  private readonly status = $('codename-status');
  private readonly words = $<HTMLOListElement>('codename-words');
  private readonly step1 = $('codename-step1');
  private readonly confirmForm = $<HTMLFormElement>('codename-confirm-form');
  private readonly typed = $<HTMLInputElement>('codename-confirm');
  private readonly error = $('codename-error');
  private readonly cancel = $<HTMLButtonElement>('codename-cancel');
  private onConfirmed: () => void = () => {};
  private onCancel: () => void = () => {};

  constructor(
    private readonly s: Strings,
    private readonly fingerprint: string,
  ) {
    $('codename-written').addEventListener('click', () => {
      // Typed back from paper, not copied from the screen: that is what shows it was written down.
      this.words.hidden = true;
      this.step1.hidden = true;
      this.confirmForm.hidden = false;
      this.typed.focus();
    });
    $('codename-show').addEventListener('click', () => {
      this.words.hidden = !this.words.hidden;
    });
    this.typed.addEventListener('input', () => this.showError(undefined));
    this.confirmForm.addEventListener('submit', (e) => {
      e.preventDefault();
      this.showError(undefined);
      ask({ type: 'confirmCodename', job: JOB, typed: this.typed.value }, (ev) => {
        if (ev.type === 'keys') return this.recordKeys(ev.ms);
        if (ev.type === 'error') return this.showError(fill(this.s.errors.failed, { reason: ev.reason }));
        if (ev.type !== 'copy') return;
        const p = ev.problem;
        if (!p) {
          this.confirmed();
          return;
        }
        this.showError(p.kind === 'count' ? fill(this.s.codename.wrongCount, { n: p.count }) : fill(this.s.codename.wrongWord, { n: p.position }));
        this.typed.focus();
      });
    });
    this.cancel.addEventListener('click', () => {
      this.hide();
      this.onCancel();
    });
  }

  /** Makes and shows a fresh codename; `onConfirmed` once the source has typed it back right. */
  start(onConfirmed: () => void, onCancel: () => void): void {
    this.onConfirmed = onConfirmed;
    this.onCancel = onCancel;
    this.words.replaceChildren();
    this.words.hidden = false;
    this.step1.hidden = true;
    this.confirmForm.hidden = true;
    this.typed.value = '';
    this.setDisabled(false);
    this.cancel.hidden = false;
    this.showError(undefined);
    this.status.textContent = this.s.states.loading;
    this.box.hidden = false;
    this.box.scrollIntoView({ block: 'start' });
    ask({ type: 'newCodename', job: JOB, fingerprint: this.fingerprint }, (ev) => {
      if (ev.type === 'codename') {
        this.status.textContent = '';
        this.words.replaceChildren(
          ...ev.words.map((w) => {
            const li = document.createElement('li');
            li.textContent = w;
            return li;
          }),
        );
        this.step1.hidden = false;
        this.box.focus();
      } else if (ev.type === 'keys') {
        this.recordKeys(ev.ms);
      } else if (ev.type === 'error') {
        this.status.textContent = '';
        this.showError(ev.kind === 'failed' ? fill(this.s.errors.failed, { reason: ev.reason }) : this.s.errors[ev.kind]);
      }
    });
  }

  /** How long the codename's keys took (PBKDF2 at this browser's speed): for the record, nothing more. */
  private recordKeys(ms: number): void {
    this.box.dataset['deriveMs'] = String(ms);
  }

  /** Once the tip is on its way: nothing here can be changed or cancelled any more. */
  private confirmed(): void {
    this.setDisabled(true);
    this.cancel.hidden = true;
    this.onConfirmed();
  }

  private setDisabled(d: boolean): void {
    for (const el of this.box.querySelectorAll<HTMLInputElement | HTMLButtonElement>('input, button')) el.disabled = d;
  }

  hide(): void {
    forget(JOB);
    this.box.hidden = true;
    // Nothing of the codename stays in the page once it is sent: the worker alone holds it, for this tab.
    this.words.replaceChildren();
    this.typed.value = '';
  }

  private showError(text: string | undefined): void {
    this.error.hidden = !text;
    this.error.textContent = text ?? '';
  }
}
