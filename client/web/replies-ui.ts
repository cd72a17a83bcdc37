// "I have a codename": the source enters it, the worker makes the visit (the same requests whatever the
// codename, even a mistyped one) and the page shows the replies opened in the browser, each with the desk's name
// from the signed directory and its day in the page's language; then deletes them on request, and sends
// follow-ups that carry the same reply key as the first tip.
import type { Strings } from './strings/index.js';
import type { CodenameProblem } from '../../crypto/codename.js';
import type { ShownReply, VisitShown, WorkerEvent } from './protocol.js';
import { $, dayFormatter, fill, showDay } from './format.js';
import { ask } from './worker-client.js';
import { Composer } from './composer.js';
import { showReceipt } from './receipt-ui.js';

export class RepliesView {
  private readonly section = $('returning');
  private readonly form = $<HTMLFormElement>('visit-form');
  private readonly typed = $<HTMLInputElement>('codename');
  private readonly checkButton = $<HTMLButtonElement>('check');
  private readonly status = $('visit-status');
  private readonly error = $('visit-error');
  private readonly replies = $('replies');
  private readonly list = $<HTMLOListElement>('reply-list');
  private readonly deleteButton = $<HTMLButtonElement>('delete-replies');
  private readonly deleteStatus = $('delete-status');
  private readonly followup = $('followup');
  private readonly day: (d: string) => string;
  readonly composer: Composer;

  constructor(
    private readonly s: Strings,
    private readonly fingerprint: string,
  ) {
    this.day = dayFormatter(s.lang);
    this.composer = new Composer('followup-form', 'followup-', s, $('followup-error'), 'followup');
    this.form.addEventListener('submit', (e) => {
      e.preventDefault();
      this.visit();
    });
    // The message was about what is in the field: once it changes, the message no longer applies.
    this.typed.addEventListener('input', () => this.showError(undefined));
    this.deleteButton.addEventListener('click', () => this.remove());
    this.composer.form.addEventListener('submit', (e) => {
      e.preventDefault();
      if (!this.composer.check()) return;
      this.composer.send(this.fingerprint, 'returning', (receipt) => {
        this.composer.form.hidden = true;
        showReceipt(this.s, 'followup-', receipt, true);
      });
    });
    $('followup-again').addEventListener('click', () => {
      $('followup-receipt').hidden = true;
      this.composer.form.hidden = false;
      this.composer.message.focus();
    });
  }

  show(): void {
    this.section.hidden = false;
  }

  focus(): void {
    this.typed.focus();
  }

  private visit(): void {
    const r = this.s.returning;
    this.showError(undefined);
    this.checkButton.disabled = true;
    this.status.textContent = r.checking;
    ask({ type: 'visit', job: 'visit', typed: this.typed.value, fingerprint: this.fingerprint }, (ev) => this.onEvent(ev));
  }

  private onEvent(ev: Exclude<WorkerEvent, { type: 'ready' }>): void {
    const r = this.s.returning;
    if (ev.type === 'keys') {
      this.section.dataset['deriveMs'] = String(ev.ms);
      return;
    }
    if (ev.type === 'error') {
      this.checkButton.disabled = false;
      this.status.textContent = '';
      this.showError(ev.kind === 'failed' ? fill(r.failed, { reason: ev.reason }) : ev.kind === 'directory' || ev.kind === 'expired' ? this.s.errors[ev.kind] : fill(r.failed, { reason: this.s.errors[ev.kind] }));
      return;
    }
    if (ev.type !== 'visited') return;
    this.checkButton.disabled = false;
    // How long the visit took, derivation and network together: for the record, nothing more.
    this.section.dataset['visitMs'] = String(ev.ms);
    this.render(ev.shown);
  }

  private render(shown: VisitShown): void {
    const r = this.s.returning;
    if (shown.codename === 'mistyped') {
      this.status.textContent = '';
      this.replies.hidden = true;
      this.followup.hidden = true;
      this.showError(this.mistyped(shown.problem));
      this.typed.focus();
      return;
    }
    this.status.textContent = shown.replies.length === 0 && shown.refused === 0 ? r.none : '';
    this.list.replaceChildren(...shown.replies.map((reply) => this.item(reply)));
    $('replies-more').hidden = !shown.more;
    $('replies-refused').hidden = shown.refused === 0;
    this.deleteButton.hidden = shown.replies.length === 0;
    this.deleteButton.disabled = false;
    this.deleteStatus.textContent = '';
    $('delete-help').hidden = shown.replies.length === 0;
    this.replies.hidden = shown.replies.length === 0 && shown.refused === 0;
    this.followup.hidden = false;
    if (shown.replies.length > 0) this.list.querySelector<HTMLElement>('li')?.focus();
  }

  private mistyped(p: CodenameProblem): string {
    const r = this.s.returning;
    if (p.kind === 'unknown-word') return fill(r.unknownWord, { n: p.position, word: p.word });
    if (p.kind === 'count') return fill(r.count, { n: p.count });
    return r.checkWord;
  }

  private item(reply: ShownReply): HTMLLIElement {
    const r = this.s.returning;
    const li = document.createElement('li');
    li.className = 'reply';
    li.tabIndex = -1;
    const meta = document.createElement('p');
    meta.className = 'reply-meta';
    const desk = document.createElement('strong');
    desk.className = 'reply-desk';
    desk.textContent = reply.desk;
    const when = document.createElement('time');
    showDay(when, reply.sentDay, this.day);
    meta.append(`${r.from}: `, desk, reply.deskCurrent ? '' : ` ${r.deskPast}`, ' · ', when);
    const text = document.createElement('div');
    text.className = 'reply-text';
    text.textContent = reply.message;
    li.append(meta, text);
    return li;
  }

  private remove(): void {
    const r = this.s.returning;
    this.deleteButton.disabled = true;
    this.deleteStatus.textContent = r.deleting;
    ask({ type: 'deleteReplies', job: 'delete' }, (ev) => {
      if (ev.type === 'deleted' && ev.confirmed === ev.asked) {
        this.deleteStatus.textContent = r.deleted;
        this.deleteButton.hidden = true;
        $('delete-help').hidden = true;
        return;
      }
      if (ev.type === 'deleted' || ev.type === 'error') {
        this.deleteStatus.textContent = r.deleteFailed;
        this.deleteButton.disabled = false;
      }
    });
  }

  private showError(text: string | undefined): void {
    this.error.hidden = !text;
    this.error.textContent = text ?? '';
  }
}
