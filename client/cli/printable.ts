// Strings from a server or a manifest are hostile: terminal escape sequences (ESC, OSC), bidi overrides and
// zero-width characters are removed before anything is printed or used as a name.
const UNSAFE = /[\p{Cc}\p{Cf}\u2028\u2029]/gu;

export function printable(s: string, max = 500): string {
  const clean = s.replace(UNSAFE, '');
  return clean.length > max ? `${clean.slice(0, max)}…` : clean;
}
