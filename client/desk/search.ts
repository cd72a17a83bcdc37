// Full-text search over a desk's threads: decrypted messages, file names, notes and tags. Each thread keeps one
// compact haystack of its words normalized (NFKD, diacritics stripped, lower case), joined by single spaces; a
// query word matches the start of a word (a prefix), so "pres" finds "Presidência". A linear scan of the
// haystacks (a few MB for 1,000 threads) answers in milliseconds and needs no index to keep up to date; the
// snippet is cut from the original text around the first match, only for the threads listed.

/** The form both the haystacks and the queries are compared in. */
export function normalize(s: string): string {
  return s
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .replace(/[łøđħıŧ]|æ|œ|ß/g, (c) => FOLD[c] ?? c);
}

/** Letters NFKD leaves whole (a stroke is not a combining mark), folded as a person types them. */
const FOLD: Record<string, string> = { ł: 'l', ø: 'o', đ: 'd', ħ: 'h', ı: 'i', ŧ: 't', æ: 'ae', œ: 'oe', ß: 'ss' };

/** The words of a text, normalized: letters and digits runs (anything else separates words). */
export function words(s: string): string[] {
  return normalize(s).match(/[\p{L}\p{N}]+/gu) ?? [];
}

/** A haystack: ' word word word ' (leading space so ' ' + prefix finds a word start). */
export function haystack(parts: readonly string[]): string {
  return ` ${parts.map((p) => words(p).join(' ')).join(' ')} `;
}

/** The query's words; empty when it has none (then everything matches). */
export function queryWords(q: string | undefined): string[] {
  return q ? words(q).slice(0, 16) : [];
}

/** Every query word starts a word of the haystack. */
export function matches(hay: string, q: readonly string[]): boolean {
  for (const w of q) if (!hay.includes(` ${w}`)) return false;
  return true;
}

const WORD = /[\p{L}\p{N}]+/gu;

/** Up to ~`width` characters of `text` around the first word starting with a query word, or undefined. */
export function snippet(text: string, q: readonly string[], width = 160, hay?: string): string | undefined {
  if (q.length === 0) return undefined;
  // The text's haystack (kept by the store) first: most texts of a listed thread hold no match (it was in another
  // tip, a file name or a note), and walking their words one by one would cost far more.
  if (hay !== undefined && !q.some((w) => hay.includes(` ${w}`))) return undefined;
  WORD.lastIndex = 0;
  for (let m = WORD.exec(text); m; m = WORD.exec(text)) {
    const w = normalize(m[0]);
    if (q.some((x) => w.startsWith(x))) {
      const start = Math.max(0, m.index - Math.floor(width / 3));
      const end = Math.min(text.length, start + width);
      const cut = text.slice(start, end).replace(/\s+/g, ' ').trim();
      return `${start > 0 ? '…' : ''}${cut}${end < text.length ? '…' : ''}`;
    }
  }
  return undefined;
}
