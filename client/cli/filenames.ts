// File names in a manifest come from an anonymous stranger: they must not climb out of the output folder,
// hide as dot-files, collide, or carry control characters into a terminal.
const RESERVED = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$/i;

export function safeFileName(name: string, index: number): string {
  // Control and format characters (bidi overrides, zero-width) can disguise an extension: removed outright.
  let s = name.normalize('NFC').replace(/[\p{Cf}\u2028\u2029]/gu, '').replace(/[\p{Cc}/\\:*?"<>|]/gu, '_');
  s = s.replace(/^[.\s]+/, '').replace(/[.\s]+$/, '');
  if (RESERVED.test(s)) s = `_${s}`;
  while (new TextEncoder().encode(s).length > 200) s = s.slice(0, -1);
  return s || `file-${index + 1}`;
}

export function safeFileNames(names: string[]): string[] {
  const used = new Set<string>();
  // The next number to try for each name: restarting at 2 for every duplicate made 32,000 copies of one name
  // cost 32,000²/2 probes (minutes of CPU, from a manifest a stranger wrote).
  const next = new Map<string, number>();
  return names.map((name, i) => {
    const base = safeFileName(name, i);
    const key = base.toLowerCase();
    let candidate = base;
    let k = next.get(key) ?? 2;
    while (used.has(candidate.toLowerCase())) {
      const dot = base.lastIndexOf('.');
      candidate = dot > 0 ? `${base.slice(0, dot)} (${k})${base.slice(dot)}` : `${base} (${k})`;
      k++;
    }
    next.set(key, k);
    used.add(candidate.toLowerCase());
    return candidate;
  });
}
