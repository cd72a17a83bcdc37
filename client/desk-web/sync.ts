// The sync bar: a button, the last sync's time or error, and the answer of a sync said in the live region.
import type { DeskSession } from '../../schema/desk-api.js';
import { api } from './api.js';
import { h } from './dom.js';
import { t, formatTime } from './i18n.js';

export function syncBar(session: DeskSession, say: (m: string) => void, synced: () => void): HTMLElement {
  const state = h('span', { class: 'sync-state' });
  const show = (s: Pick<DeskSession, 'lastSync' | 'syncError'>) => {
    state.textContent = s.syncError ? t('syncFailed', { error: s.syncError }) : s.lastSync ? t('lastSync', { time: formatTime(s.lastSync) }) : t('neverSynced');
    state.classList.toggle('failed', Boolean(s.syncError));
  };
  show(session);
  const btn = h('button', { type: 'button', class: 'sync' }, t('sync'));
  btn.addEventListener('click', async () => {
    btn.disabled = true;
    btn.textContent = t('syncing');
    try {
      const r = await api.sync();
      say(r.errors.length ? t('syncFailed', { error: r.errors.join('; ') }) : t('syncDone', { fetched: r.fetched, notes: r.notes, failed: r.failed }));
      show(await api.session());
      synced();
    } catch (e) {
      const msg = (e as Error).message;
      say(t('syncFailed', { error: msg }));
      show({ lastSync: session.lastSync, syncError: msg });
    } finally {
      btn.disabled = false;
      btn.textContent = t('sync');
    }
  });
  return h('div', { class: 'sync-bar' }, btn, state);
}

/** The full-disk-encryption reminder, shown until dismissed (remembered for this browser profile). */
export function noticeBox(text: string): HTMLElement | null {
  const KEY = 'tipline-desk-notice-dismissed';
  let seen: string | null = null;
  try {
    seen = localStorage.getItem(KEY);
  } catch {
    // storage refused (private mode): show it every time
  }
  if (!text || seen === text) return null;
  const close = h('button', { type: 'button' }, t('dismiss'));
  const box = h('aside', { class: 'notice', 'aria-label': t('notice') }, h('p', {}, text), close);
  close.addEventListener('click', () => {
    try {
      localStorage.setItem(KEY, text);
    } catch {
      // not remembered; still hidden for now
    }
    box.remove();
    document.getElementById('inbox-heading')?.focus();
  });
  return box;
}
