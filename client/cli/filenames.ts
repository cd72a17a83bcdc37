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
  return names.map((name, i) => {
    const base = safeFileName(name, i);
    let candidate = base;
    for (let k = 2; used.has(candidate.toLowerCase()); k++) {
      const dot = base.lastIndexOf('.');
      candidate = dot > 0 ? `${base.slice(0, dot)} (${k})${base.slice(dot)}` : `${base} (${k})`;
    }
    used.add(candidate.toLowerCase());
    return candidate;
  });
}
