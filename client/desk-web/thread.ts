// The thread view: tips and replies in order (messages as text, line breaks kept), files, and the controls —
// read/unread, star, status, who is on it, tags, the shared note, history, reply, export and delete.
import { THREAD_STATUSES, MAX_TAG_LENGTH } from '../../crypto/desk-notes.js';
import type { ThreadDetail, ThreadItem } from '../../schema/desk-api.js';
import { api, apiUrl, threadPath, type ThreadStatus } from './api.js';
import { h, uid } from './dom.js';
import { t, formatTime } from './i18n.js';
import { fileView } from './files.js';
import { noteEditor } from './notes.js';
import { replyBox } from './reply.js';
import { confirmDialog } from './dialog.js';
import { statusLabel } from './inbox.js';

export interface ThreadHooks {
  /** A change answered with the thread's new detail: redraw it and the inbox, and say `said`. */
  update(d: ThreadDetail, said: string): void;
  deleted(id: string): void;
  report(message: string): void;
  desks: string[];
}

function itemView(threadId: string, it: ThreadItem): HTMLElement {
  if (it.kind === 'reply') {
    return h('article', { class: 'item reply-item' }, h('h3', {}, t('reply', { by: it.by, at: formatTime(it.at) })), h('pre', { class: 'message' }, it.text));
  }
  const a = h(
    'article',
    { class: 'item tip-item' },
    h('h3', {}, t('tip', { day: it.receivedDay }), h('span', { class: 'hint' }, ` · ${t('sentDay', { day: it.sentDay })}`)),
    !it.onServer ? h('p', { class: 'hint' }, t('deletedOnServer')) : null,
    it.warning ? h('p', { class: 'warning' }, it.warning) : null,
    h('pre', { class: 'message' }, it.message),
  );
  if (it.files.length) {
    const hid = uid('files-h');
    a.append(h('h4', { id: hid }, t('filesHeading')), h('ul', { class: 'files', 'aria-labelledby': hid }, ...it.files.map((f) => fileView(threadId, it.tipId, f))));
  }
  return a;
}

export function threadView(d: ThreadDetail, hooks: ThreadHooks): HTMLElement {
  const s = d.summary;
  const id = s.id;
  const fail = (e: Error) => hooks.report(t('error', { message: e.message }));
  const run = (p: Promise<ThreadDetail>) => p.then((nd) => hooks.update(nd, t('saved')), fail);

  const readBtn = h('button', { type: 'button', id: 'thread-read' }, s.unread ? t('markRead') : t('markUnread'));
  readBtn.addEventListener('click', () => run(api.read(id, s.unread)));
  const starBtn = h('button', { type: 'button', id: 'thread-star', 'aria-pressed': s.starred ? 'true' : 'false' }, s.starred ? `★ ${t('unstar')}` : `☆ ${t('star')}`);
  starBtn.addEventListener('click', () => run(api.star(id, !s.starred)));

  const statusId = 'thread-status';
  const status = h('select', { id: statusId }, ...THREAD_STATUSES.map((x) => h('option', { value: x, selected: x === s.status }, statusLabel(x))));
  status.addEventListener('change', () => run(api.status(id, status.value as ThreadStatus)));

  const assignId = 'thread-assign';
  const desks = [...new Set([...hooks.desks, ...(s.assignee ? [s.assignee] : [])])];
  const assign = h('select', { id: assignId }, h('option', { value: '' }, t('nobody')), ...desks.map((x) => h('option', { value: x, selected: x === s.assignee }, x)));
  assign.addEventListener('change', () => run(api.assign(id, assign.value || null)));

  const tagInputId = 'thread-tag';
  const tagInput = h('input', { id: tagInputId, type: 'text', maxlength: String(MAX_TAG_LENGTH), autocomplete: 'off' });
  const addTag = h('button', { type: 'button' }, t('add'));
  const addIt = () => {
    const v = tagInput.value.trim();
    if (v) void run(api.tagsChange(id, [v], []));
  };
  addTag.addEventListener('click', addIt);
  tagInput.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') addIt();
  });
  const tagList = h('ul', { class: 'tag-list', 'aria-label': t('tags') });
  for (const x of s.tags) {
    const rm = h('button', { type: 'button', class: 'tag-remove', 'aria-label': t('removeTag', { tag: x }) }, '×');
    rm.addEventListener('click', () => run(api.tagsChange(id, [], [x])));
    tagList.append(h('li', { class: 'tag' }, h('span', {}, x), rm));
  }
  if (!s.tags.length) tagList.append(h('li', { class: 'hint' }, t('noTags')));

  const exportLink = h('a', { class: 'button', href: apiUrl(`${threadPath(id)}/export.zip`), download: '' }, t('export'));
  const del = h('button', { type: 'button', class: 'danger' }, t('delete'));
  del.addEventListener('click', async () => {
    if (!(await confirmDialog(t('deleteTitle'), t('deleteText'), t('deleteConfirm')))) return del.focus();
    api.remove(id).then(() => hooks.deleted(id), fail);
  });

  const headingId = uid('thread-h');
  const histId = uid('hist-h');
  const history = h('section', { class: 'history', 'aria-labelledby': histId }, h('h3', { id: histId }, t('history')));
  if (d.history.length) history.append(h('ol', {}, ...d.history.map((l) => h('li', {}, `${formatTime(l.at)} · ${l.by} · ${l.kind}: `, h('span', { class: 'value' }, l.value)))));
  else history.append(h('p', { class: 'hint' }, t('noHistory')));

  const controlsId = uid('ctl-h');
  return h(
    'article',
    { class: 'thread', 'aria-labelledby': headingId, 'data-thread': id },
    h(
      'header',
      { class: 'thread-head' },
      h('h2', { id: headingId, tabindex: '-1' }, s.title || t('untitled')),
      h('p', { class: 'hint' }, `${s.firstDay} – ${s.lastDay} · ${t('tips', { n: s.tips })} · ${t('files', { n: s.files })} · ${t('expires', { day: s.expiresDay })}`),
      !s.onServer ? h('p', { class: 'warning' }, t('deletedOnServer')) : null,
    ),
    h(
      'section',
      { class: 'controls', 'aria-labelledby': controlsId },
      h('h3', { id: controlsId, class: 'sr' }, t('thread')),
      h('div', { class: 'control-row' }, readBtn, starBtn, exportLink, del),
      h('div', { class: 'control-row' }, h('div', { class: 'field' }, h('label', { for: statusId }, t('status')), status), h('div', { class: 'field' }, h('label', { for: assignId }, t('whoIsOnIt')), assign)),
      h('div', { class: 'field tags-field' }, h('span', { class: 'label' }, t('tags')), tagList, h('div', { class: 'inline' }, h('label', { for: tagInputId, class: 'sr' }, t('addTag')), tagInput, addTag)),
    ),
    h('div', { class: 'items' }, ...d.items.map((it) => itemView(id, it))),
    replyBox(d, hooks.update, hooks.report),
    noteEditor(d, hooks.update, hooks.report),
    history,
  );
}
