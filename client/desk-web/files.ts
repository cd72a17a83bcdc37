// One file of a tip: name, size and declared type as text; a re-encoded PNG or the text as text when the desk
// app decided from the bytes that it may be shown; always a "Save to disk" link after the warning. Nothing else
// is rendered: no PDF, Office, HTML or SVG viewer (threat: active content in a document running in this page).
import type { FileInfo } from '../../schema/desk-api.js';
import { api, apiUrl, threadPath } from './api.js';
import { h, uid } from './dom.js';
import { t, formatSize } from './i18n.js';

export function fileView(threadId: string, tipId: string, f: FileInfo): HTMLLIElement {
  const base = `${threadPath(threadId)}/tips/${tipId}/files/${f.index}`;
  const nameId = uid('file');
  const li = h(
    'li',
    { class: 'file' },
    h('p', { class: 'file-name', id: nameId }, f.name),
    h('p', { class: 'file-meta' }, t('fileMeta', { size: formatSize(f.size), type: f.type || '?' })),
  );
  if (f.render === 'image') {
    // The desk app's re-encoded PNG, never the source's bytes.
    li.append(h('img', { class: 'preview', src: apiUrl(`${base}/image`), alt: t('imagePreview', { name: f.name }), loading: 'lazy' }));
  } else if (f.render === 'text') {
    const pre = h('pre', { class: 'file-text', tabindex: '0', 'aria-label': t('textPreview', { name: f.name }) }, t('loading'));
    li.append(pre);
    api.fileText(threadId, tipId, f.index).then(
      (r) => {
        pre.textContent = r.text;
        if (r.truncated) pre.after(h('p', { class: 'hint' }, t('truncated')));
      },
      (e: Error) => (pre.textContent = t('error', { message: e.message })),
    );
  } else {
    li.append(h('p', { class: 'hint' }, t('notShown')));
  }
  li.append(
    h('p', { class: 'warning' }, t('fileWarning')),
    h('a', { class: 'button', href: apiUrl(`${base}/download`), download: '', 'aria-describedby': nameId }, t('saveToDisk')),
  );
  return li;
}
