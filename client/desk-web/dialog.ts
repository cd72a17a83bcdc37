// A modal confirm dialog (<dialog>, so focus is kept inside and Escape cancels).
import { h } from './dom.js';
import { t } from './i18n.js';

export function confirmDialog(title: string, text: string, confirmLabel: string): Promise<boolean> {
  return new Promise((resolve) => {
    const ok = h('button', { type: 'button', class: 'danger' }, confirmLabel);
    const cancel = h('button', { type: 'button' }, t('cancel'));
    const titleId = 'dialog-title';
    const dlg = h('dialog', { class: 'confirm', 'aria-labelledby': titleId, 'aria-describedby': 'dialog-text' }, h('h2', { id: titleId }, title), h('p', { id: 'dialog-text' }, text), h('div', { class: 'actions' }, cancel, ok));
    const done = (v: boolean) => {
      dlg.close();
      dlg.remove();
      resolve(v);
    };
    ok.addEventListener('click', () => done(true));
    cancel.addEventListener('click', () => done(false));
    dlg.addEventListener('cancel', (e) => {
      e.preventDefault();
      done(false);
    });
    document.body.append(dlg);
    dlg.showModal();
    cancel.focus();
  });
}
