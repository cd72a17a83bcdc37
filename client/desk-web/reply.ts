// The reply box: says plainly which desk name the source will see; absent, with the reason, when the source did
// not ask for replies.
import type { ThreadDetail } from '../../schema/desk-api.js';
import { api } from './api.js';
import { h, uid } from './dom.js';
import { t } from './i18n.js';

export function replyBox(d: ThreadDetail, update: (d: ThreadDetail, said: string) => void, report: (m: string) => void): HTMLElement {
  const headingId = uid('reply-h');
  const sec = h('section', { class: 'reply', 'aria-labelledby': headingId }, h('h3', { id: headingId }, t('replyHeading')));
  if (d.replyAs === null || !d.summary.canReply) {
    sec.append(h('p', { class: 'hint' }, t('cannotReply')));
    return sec;
  }
  const id = uid('reply');
  const fromId = uid('reply-from');
  const area = h('textarea', { id, rows: '5', maxlength: '60000', 'aria-describedby': fromId });
  const send = h('button', { type: 'button' }, t('send'));
  sec.append(h('p', { id: fromId, class: 'reply-as' }, t('replyAs', { name: d.replyAs })), h('label', { for: id }, t('replyLabel')), area, h('div', { class: 'actions' }, send));
  send.addEventListener('click', () => {
    if (!area.value.trim()) return area.focus();
    send.disabled = true;
    api.reply(d.summary.id, area.value).then(
      (nd) => update(nd, t('replySent')),
      (e: Error) => {
        send.disabled = false;
        report(t('error', { message: e.message }));
      },
    );
  });
  return sec;
}
