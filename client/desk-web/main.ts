// The desk app's page: builds the shell (header with sync and language, the notice, the inbox, the thread view)
// and wires them. All text is set with textContent (dom.ts); nothing from a tip is ever parsed as markup.
import { api } from './api.js';
import type { DeskSession, ThreadDetail } from '../../schema/desk-api.js';
import { h, clear } from './dom.js';
import { chooseLang, setLang, lang, t } from './i18n.js';
import { LANGS, LANG_NAMES, type Lang } from './strings/index.js';
import { createInbox } from './inbox.js';
import { threadView } from './thread.js';
import { syncBar, noticeBox } from './sync.js';

const live = h('p', { class: 'live', role: 'status', 'aria-live': 'polite' });
const say = (m: string) => {
  live.textContent = '';
  // A fresh text node each time so screen readers announce a repeated message too.
  setTimeout(() => (live.textContent = m), 50);
};

function langSwitch(): HTMLElement {
  const sel = h('select', { id: 'lang' }, ...(Object.keys(LANGS) as Lang[]).map((l) => h('option', { value: l, lang: l, selected: l === lang() }, LANG_NAMES[l])));
  sel.addEventListener('change', () => {
    const u = new URL(location.href);
    u.searchParams.set('lang', sel.value);
    location.assign(u.href);
  });
  return h('div', { class: 'lang' }, h('label', { for: 'lang' }, t('language')), sel);
}

async function start(): Promise<void> {
  setLang(chooseLang(location.search, navigator.languages ?? [navigator.language]));
  document.documentElement.lang = lang();
  document.title = t('appTitle');
  const app = document.getElementById('app') ?? document.body;
  clear(app);

  let session: DeskSession;
  try {
    session = await api.session();
  } catch (e) {
    app.append(h('main', { id: 'main' }, h('h1', {}, t('appTitle')), h('p', { class: 'warning', role: 'alert' }, t('error', { message: (e as Error).message }))));
    return;
  }

  const detail = h('main', { id: 'main', class: 'detail', tabindex: '-1' }, h('p', { class: 'hint placeholder' }, t('selectThread')));
  let current: string | null = null;

  const inbox = createInbox((id) => void open(id), say);

  function showThread(d: ThreadDetail): void {
    clear(detail);
    detail.append(threadView(d, { update, deleted, report: say, desks: session.desks }));
  }
  function update(d: ThreadDetail, said: string): void {
    const focused = document.activeElement?.id;
    showThread(d);
    say(said);
    void inbox.refresh();
    // Keep the keyboard where it was when the same control is redrawn (ids differ, so fall back to the heading).
    const again = focused ? document.getElementById(focused) : null;
    (again ?? detail.querySelector<HTMLElement>('h2'))?.focus();
  }
  function deleted(id: string): void {
    if (current === id) current = null;
    clear(detail);
    detail.append(h('p', { class: 'hint placeholder' }, t('deleted')));
    say(t('deleted'));
    inbox.setSelected(null);
    void inbox.refresh().then(() => document.getElementById('inbox-heading')?.focus());
  }
  async function open(id: string): Promise<void> {
    current = id;
    inbox.setSelected(id);
    try {
      let d = await api.thread(id);
      if (d.summary.unread) {
        d = await api.read(id, true); // opening a thread reads it
        void inbox.refresh();
      }
      if (current !== id) return;
      showThread(d);
    } catch (e) {
      say(t('error', { message: (e as Error).message }));
    }
  }

  const header = h(
    'header',
    { class: 'top' },
    h('a', { class: 'skip', href: '#inbox-heading' }, t('skipToList')),
    h('h1', {}, t('appTitle')),
    h('p', { class: 'who' }, h('span', {}, t('deskIs', { desk: session.desk })), h('span', { class: 'hint' }, t('server', { server: session.server }))),
    syncBar(session, say, () => void inbox.refresh()),
    live,
    langSwitch(),
  );
  const notice = noticeBox(session.notice);
  app.append(header, notice ?? '', h('div', { class: 'layout' }, inbox.root, detail));
  await inbox.refresh();

  // Optional shortcuts: j/k move through the list, / searches; never while typing in a field.
  document.addEventListener('keydown', (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const tgt = e.target as HTMLElement | null;
    if (tgt && (tgt.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(tgt.tagName))) return;
    if (document.querySelector('dialog[open]')) return;
    if (e.key === '/') {
      e.preventDefault();
      inbox.focusSearch();
    } else if (e.key === 'j') inbox.move(1);
    else if (e.key === 'k') inbox.move(-1);
  });
}

void start();
