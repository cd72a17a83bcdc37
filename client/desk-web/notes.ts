// The shared note editor. Concurrent versions (two desks saved at once) are all shown, labelled by desk and time;
// saving sends every shown version's op as superseded, so nothing another desk wrote is dropped unseen.
import type { ThreadDetail } from '../../schema/desk-api.js';
import { api } from './api.js';
import { h, uid } from './dom.js';
import { t, formatTime } from './i18n.js';

export function noteEditor(d: ThreadDetail, update: (d: ThreadDetail, said: string) => void, report: (m: string) => void): HTMLElement {
  const id = uid('note');
  const headingId = uid('note-h');
  const area = h('textarea', { id, rows: '5', maxlength: '60000' });
  const shown = d.notes.map((n) => n.op);
  area.value = d.notes.length === 1 ? (d.notes[0]?.text ?? '') : '';
  const save = h('button', { type: 'button' }, t('saveNote'));
  const sec = h('section', { class: 'note', 'aria-labelledby': headingId }, h('h3', { id: headingId }, t('note')));
  if (d.notes.length > 1) {
    sec.append(h('p', { class: 'warning', role: 'note' }, t('noteConflict')));
    const list = h('ol', { class: 'versions' });
    for (const n of d.notes) list.append(h('li', {}, h('p', { class: 'version-by' }, t('noteVersion', { by: n.by, at: formatTime(n.at) })), h('pre', { class: 'message' }, n.text)));
    sec.append(list);
    area.value = d.notes.map((n) => n.text).join('\n\n');
  } else if (d.notes.length === 1) {
    const n = d.notes[0]!;
    sec.append(h('p', { class: 'hint' }, t('noteVersion', { by: n.by, at: formatTime(n.at) })));
  }
  sec.append(h('label', { for: id }, t('noteLabel')), area, h('div', { class: 'actions' }, save));
  save.addEventListener('click', () => {
    save.disabled = true;
    api.note(d.summary.id, area.value, shown).then(
      (nd) => update(nd, t('noteSaved')),
      (e: Error) => {
        save.disabled = false;
        report(t('error', { message: e.message }));
      },
    );
  });
  return sec;
}
