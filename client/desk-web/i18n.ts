// The page's language: ?lang= first, then the browser's languages, else English. Strings are filled as text:
// t() returns a plain string that callers put into textContent, never markup.
import { LANGS, type Lang, type Strings } from './strings/index.js';

export function chooseLang(search: string, preferred: readonly string[]): Lang {
  const asked = new URLSearchParams(search).get('lang');
  if (asked && asked in LANGS) return asked as Lang;
  for (const l of preferred) {
    const base = l.toLowerCase().split('-')[0] ?? '';
    if (base in LANGS) return base as Lang;
  }
  return 'en';
}

let current: Lang = 'en';
export function setLang(l: Lang): void {
  current = l;
}
export function lang(): Lang {
  return current;
}

export function t(key: keyof Strings, vars: Record<string, string | number> = {}): string {
  return LANGS[current][key].replace(/\{(\w+)\}/g, (m, k: string) => (k in vars ? String(vars[k]) : m));
}

export function formatSize(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB'];
  let v = n;
  let u = 0;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${u === 0 ? v : v.toFixed(1)} ${units[u]}`;
}

export function formatTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return new Intl.DateTimeFormat(current, { dateStyle: 'medium', timeStyle: 'short' }).format(d);
}
