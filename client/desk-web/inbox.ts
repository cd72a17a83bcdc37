// The inbox: search box (debounced; the desk app answers from api/threads?q=), filters by status, tag, day,
// starred and unread, a count, and the list of threads newest first (as the desk app orders them).
import { THREAD_STATUSES } from '../../crypto/desk-notes.js';
import { api, type ThreadStatus } from './api.js';
import type { ThreadSummary, ThreadsQuery } from '../../schema/desk-api.js';
import { h, clear, uid } from './dom.js';
import { t } from './i18n.js';

export interface InboxView {
  root: HTMLElement;
  refresh(): Promise<void>;
  setSelected(id: string | null): void;
  focusSearch(): void;
  move(delta: number): void;
}

const SEARCH_DELAY_MS = 200;

export function statusLabel(s: ThreadStatus): string {
  return t(`status.${s}`);
}

export function createInbox(open: (id: string) => void, report: (msg: string) => void): InboxView {
  const query: ThreadsQuery = {};
  let selected: string | null = null;
  let threads: ThreadSummary[] = [];
  let seq = 0;

  const searchId = uid('search');
  const search = h('input', { id: searchId, type: 'search', maxlength: '200', autocomplete: 'off', spellcheck: 'false' });
  const statusId = uid('status');
  const status = h('select', { id: statusId }, h('option', { value: '' }, t('anyStatus')), ...THREAD_STATUSES.map((s) => h('option', { value: s }, statusLabel(s))));
  const tagId = uid('tag');
  const tag = h('select', { id: tagId }, h('option', { value: '' }, t('anyTag')));
  const dayId = uid('day');
  const day = h('input', { id: dayId, type: 'date' });
  const starred = h('input', { type: 'checkbox' });
  const unread = h('input', { type: 'checkbox' });
  const reset = h('button', { type: 'button', class: 'link' }, t('clearFilters'));
  const count = h('p', { class: 'count', role: 'status' });
  const list = h('ul', { class: 'threads', 'aria-label': t('inbox') });

  const root = h(
    'nav',
    { class: 'inbox', 'aria-label': t('inbox') },
    h('h2', { id: 'inbox-heading', tabindex: '-1' }, t('inbox')),
    h('div', { class: 'field search' }, h('label', { for: searchId }, t('search')), search),
    h(
      'fieldset',
      { class: 'filters' },
      h('legend', {}, t('filters')),
      h('div', { class: 'field' }, h('label', { for: statusId }, t('status')), status),
      h('div', { class: 'field' }, h('label', { for: tagId }, t('tag')), tag),
      h('div', { class: 'field' }, h('label', { for: dayId }, t('day')), day),
      h('div', { class: 'filter-checks' }, h('label', { class: 'check' }, starred, t('starredOnly')), h('label', { class: 'check' }, unread, t('unreadOnly')), reset),
    ),
    count,
    list,
  );

  function row(s: ThreadSummary): HTMLLIElement {
    const title = s.title || t('untitled');
    const marks = h('span', { class: 'marks' });
    if (s.unread) marks.append(h('span', { class: 'badge unread-mark' }, t('unread')));
    if (s.starred) marks.append(h('span', { class: 'star', title: t('starred') }, '★ ', h('span', { class: 'sr' }, t('starred'))));
    const meta = h(
      'span',
      { class: 'meta' },
      h('span', { class: 'day' }, s.lastDay),
      h('span', { class: `status status-${s.status}` }, statusLabel(s.status)),
      s.assignee ? h('span', { class: 'assignee' }, t('assignee', { desk: s.assignee })) : null,
    );
    const tags = s.tags.length ? h('span', { class: 'tags' }, ...s.tags.map((x) => h('span', { class: 'tag' }, x))) : null;
    const btn = h(
      'button',
      { type: 'button', class: `thread-row${s.unread ? ' unread' : ''}`, 'data-thread': s.id, 'aria-current': s.id === selected ? 'true' : undefined },
      h('span', { class: 'row-top' }, marks, h('span', { class: 'title' }, title)),
      meta,
      tags,
      s.snippet ? h('span', { class: 'snippet' }, s.snippet) : null,
    );
    btn.addEventListener('click', () => open(s.id));
    return h('li', {}, btn);
  }

  function render(total: number): void {
    clear(list);
    for (const s of threads) list.append(row(s));
    if (threads.length === 0) list.append(h('li', { class: 'empty' }, h('p', {}, t('empty')), h('p', { class: 'hint' }, t('emptyHint'))));
    count.textContent = total === 1 && threads.length === 1 ? t('countOne') : t('count', { shown: threads.length, total });
  }

  async function refresh(): Promise<void> {
    const mine = ++seq;
    try {
      const [r, tl] = await Promise.all([api.threads(query), api.tags()]);
      if (mine !== seq) return; // an older answer arriving after a newer query
      threads = r.threads;
      const keep = tag.value;
      while (tag.options.length > 1) tag.remove(1);
      for (const x of tl.tags) tag.append(h('option', { value: x.tag }, `${x.tag} (${x.threads})`));
      tag.value = keep;
      render(r.total);
    } catch (e) {
      report(t('error', { message: (e as Error).message }));
    }
  }

  let timer: ReturnType<typeof setTimeout> | undefined;
  search.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      const q = search.value.trim();
      if (q) query.q = q;
      else delete query.q;
      void refresh();
    }, SEARCH_DELAY_MS);
  });
  const setOrDelete = <K extends keyof ThreadsQuery>(k: K, v: ThreadsQuery[K] | '') => {
    if (v) query[k] = v;
    else delete query[k];
    void refresh();
  };
  status.addEventListener('change', () => setOrDelete('status', status.value as ThreadStatus | ''));
  tag.addEventListener('change', () => setOrDelete('tag', tag.value));
  day.addEventListener('change', () => setOrDelete('day', day.value));
  starred.addEventListener('change', () => setOrDelete('starred', starred.checked ? '1' : ''));
  unread.addEventListener('change', () => setOrDelete('unread', unread.checked ? '1' : ''));
  reset.addEventListener('click', () => {
    for (const k of Object.keys(query)) delete query[k as keyof ThreadsQuery];
    search.value = '';
    status.value = '';
    tag.value = '';
    day.value = '';
    starred.checked = false;
    unread.checked = false;
    void refresh();
  });

  return {
    root,
    refresh,
    setSelected(id) {
      selected = id;
      for (const b of list.querySelectorAll<HTMLButtonElement>('button.thread-row')) {
        if (b.dataset['thread'] === id) b.setAttribute('aria-current', 'true');
        else b.removeAttribute('aria-current');
      }
    },
    focusSearch: () => search.focus(),
    move(delta) {
      const rows = [...list.querySelectorAll<HTMLButtonElement>('button.thread-row')];
      if (!rows.length) return;
      const at = rows.findIndex((b) => b === document.activeElement || b.dataset['thread'] === selected);
      const next = rows[Math.max(0, Math.min(rows.length - 1, at + delta))];
      next?.focus();
      if (next?.dataset['thread']) open(next.dataset['thread']);
    },
  };
}
