// What a served page or script makes the browser load: the src/href of the tags that fetch something, and the
// workers a script starts. verify-site checks each is a file the signed manifest lists, on the same origin.
// A lenient tag scanner, not a full HTML parser: it only has to find references, and a page whose bytes are
// not exactly the signed ones fails on its hash whatever this finds.

export interface Reference {
  /** What loads it: 'script', 'link stylesheet', 'img', 'worker', 'meta refresh', 'base'… */
  what: string;
  url: string;
}

/** Tags and the attribute through which each loads something. */
const LOADING: Record<string, string[]> = {
  script: ['src'],
  link: ['href'],
  img: ['src', 'srcset'],
  iframe: ['src'],
  frame: ['src'],
  object: ['data'],
  embed: ['src'],
  source: ['src', 'srcset'],
  audio: ['src'],
  video: ['src', 'poster'],
  track: ['src'],
  input: ['src'],
  image: ['href'],
  use: ['href'],
  form: ['action'],
  base: ['href'],
};

const TAG = /<([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[^\s"'>/=]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'=<>`]+))?)*)\s*\/?>/g;
const ATTR = /([^\s"'>/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?/g;

function decodeEntities(s: string): string {
  return s.replace(/&(#x[0-9a-f]+|#\d+|amp|lt|gt|quot|apos);/gi, (_m, e: string) => {
    const l = e.toLowerCase();
    if (l.startsWith('#x')) return String.fromCodePoint(parseInt(l.slice(2), 16));
    if (l.startsWith('#')) return String.fromCodePoint(parseInt(l.slice(1), 10));
    return { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" }[l]!;
  });
}

function attributes(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of text.matchAll(ATTR)) {
    const name = m[1]!.toLowerCase();
    if (!out.has(name)) out.set(name, decodeEntities(m[2] ?? m[3] ?? m[4] ?? ''));
  }
  return out;
}

/** Every reference in `html` through which the browser would load something, plus inline scripts and styles. */
export function htmlReferences(html: string): Reference[] {
  const out: Reference[] = [];
  const text = html.replace(/<!--[\s\S]*?-->/g, '');
  for (const m of text.matchAll(TAG)) {
    const tag = m[1]!.toLowerCase();
    const attrs = attributes(m[2] ?? '');
    if (tag === 'meta' && (attrs.get('http-equiv') ?? '').toLowerCase() === 'refresh') out.push({ what: 'meta refresh', url: attrs.get('content') ?? '' });
    if (tag === 'script' && !attrs.has('src')) out.push({ what: 'inline script', url: '' });
    if (tag === 'style') out.push({ what: 'inline style element', url: '' });
    for (const name of LOADING[tag] ?? []) {
      const value = attrs.get(name);
      if (value === undefined) continue;
      const what = tag === 'link' ? `link ${(attrs.get('rel') ?? '').toLowerCase() || 'without rel'}` : tag;
      // srcset: "url 1x, url 2x".
      const urls = name === 'srcset' ? value.split(',').map((c) => c.trim().split(/\s+/)[0] ?? '').filter(Boolean) : [value.trim()];
      for (const url of urls) out.push({ what, url });
    }
    for (const [name] of attrs) if (/^on[a-z]+$/.test(name)) out.push({ what: `inline event handler ${name}`, url: '' });
  }
  return out;
}

/** The workers and scripts a script starts with a literal URL: new Worker(…), new SharedWorker(…),
 * importScripts(…), navigator.serviceWorker.register(…). */
export function scriptReferences(js: string): Reference[] {
  const out: Reference[] = [];
  const re = /\b(new\s+(?:Shared)?Worker|importScripts|serviceWorker\s*\.\s*register)\s*\(\s*(["'`])([^"'`]*)\2/g;
  for (const m of js.matchAll(re)) out.push({ what: m[1]!.replace(/\s+/g, ' ').startsWith('importScripts') ? 'importScripts' : 'worker', url: m[3]! });
  return out;
}
