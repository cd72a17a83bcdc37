// How the page writes sizes and days, in its own language (the page's, never the browser's: Tor Browser
// reports the same locale for everyone, and a page in Spanish should not show an English date).

export const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

export function fill(template: string, values: Record<string, string | number>): string {
  return template.replace(/\{(\w+)\}/g, (m, k: string) => (k in values ? String(values[k]) : m));
}

export function sizeFormatter(lang: string): (n: number) => string {
  const oneDecimal = new Intl.NumberFormat(lang, { maximumFractionDigits: 1, minimumFractionDigits: 1 });
  return (n: number) => {
    const units = ['B', 'KB', 'MB', 'GB'];
    let i = 0;
    let v = n;
    while (v >= 1000 && i < units.length - 1) {
      v /= 1000;
      i++;
    }
    // A non-breaking space keeps "2,5 MB" on one line on a phone.
    return `${i === 0 ? String(v) : oneDecimal.format(v)}\u00a0${units[i]}`;
  };
}

/** A UTC day ("2026-11-26") as the page's language writes a date ("26 de noviembre de 2026"). The day is
 * the server's and the desk's UTC day: shown as that day, whatever the source's time zone. */
export function dayFormatter(lang: string): (day: string) => string {
  const f = new Intl.DateTimeFormat(lang, { dateStyle: 'long', timeZone: 'UTC' });
  return (day: string) => {
    const d = new Date(`${day}T12:00:00Z`);
    return /^\d{4}-\d{2}-\d{2}$/.test(day) && !Number.isNaN(d.getTime()) ? f.format(d) : day;
  };
}

/** Puts a day into a <time> element: the local form to read, the ISO day for machines. */
export function showDay(el: HTMLElement, day: string, format: (day: string) => string): void {
  el.textContent = format(day);
  el.setAttribute('datetime', day);
}
