// What the page's HTML, the build's client manifest and the server that serves them agree on.

/** Replaced by the server with the newsroom's root fingerprint when it serves the page. */
export const FINGERPRINT_SLOT = '@@TIPLINE_FINGERPRINT@@';

/**
 * The Content-Security-Policy every response carries, exactly as sent (helmet's serialisation: `;` with no space).
 * server/app.ts builds helmet's directives from it and the build writes it into the client manifest, so the
 * header served and the one signed cannot drift apart. Nothing but this origin; no inline script, no eval, no
 * WebAssembly (the bundled libsodium is plain JavaScript, which is also what runs at Tor Browser's "Safer" level).
 */
export const PAGE_CSP = "default-src 'none';script-src 'self';worker-src 'self';connect-src 'self';style-src 'self';img-src 'self';base-uri 'none';form-action 'none';frame-ancestors 'none'";

/** The Content-Type of each page (one per language, /, /es/, /de/). */
export const PAGE_TYPE = 'text/html; charset=utf-8';

/** The assets under /assets/, with their Content-Type. */
export const ASSET_TYPES: Readonly<Record<string, string>> = {
  'app.js': 'text/javascript; charset=utf-8',
  'worker.js': 'text/javascript; charset=utf-8',
  'style.css': 'text/css; charset=utf-8',
};

/** The file in the built folder (dist/web) a served path comes from: '/es/' → 'es/index.html'. */
export function webFileOf(path: string): string {
  return path.endsWith('/') ? `${path.slice(1)}index.html` : path.slice(1);
}
