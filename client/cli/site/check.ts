// The checks behind `tipline verify-site`: every file the signed client manifest lists, fetched as a browser
// would get it (identity and compressed: a server could send other bytes to clients that accept gzip, as every
// browser does), compared byte for byte with the signed hash, its headers with the signed CSP and type, and
// everything it would load with the manifest's list. Threat: a page or script changed on the server (by a
// compromised or compelled operator) to leak what sources type.
import { createHash } from 'node:crypto';
import type { ClientManifest, ManifestFile } from '../../../crypto/client-manifest.js';
import { FINGERPRINT_SLOT } from '../../../schema/page.js';
import { decodeBody, type Answer, type SiteClient } from './http.js';
import { htmlReferences, scriptReferences, type Reference } from './references.js';

export interface Result {
  /** The path checked ('/es/', '/assets/app.js', or '/es' for a redirect). */
  path: string;
  problems: string[];
  /** What was checked, for a PASS line. */
  checked: string;
}

/** What a browser asks for: verify-site compares that answer too. */
export const BROWSER_ENCODINGS = 'gzip, deflate, br';

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const short = (h: string) => h.slice(0, 16);

/**
 * Whether `served` is exactly the file the manifest lists. A `template: 'fingerprint'` page was hashed with
 * FINGERPRINT_SLOT where the server writes the root fingerprint: the slot is put back where the fingerprint
 * stands, the result must hash to the signed value, and filling the slot in again must give the served bytes
 * exactly (so neither a slot left unfilled nor extra text is accepted).
 */
export function bodyProblem(served: Buffer, f: ManifestFile, displayedFingerprint: string): string | undefined {
  if (f.template !== 'fingerprint') {
    const got = sha256(served);
    return got === f.sha256 ? undefined : `its body is not the signed one (sha256 ${short(got)}…, signed ${short(f.sha256)}…)`;
  }
  const text = served.toString('latin1'); // one character per byte: the comparison is of bytes
  const built = text.replaceAll(displayedFingerprint, FINGERPRINT_SLOT);
  const got = sha256(Buffer.from(built, 'latin1'));
  if (got !== f.sha256) return `its body is not the signed page (sha256 with the fingerprint slot put back ${short(got)}…, signed ${short(f.sha256)}…)`;
  if (built.replaceAll(FINGERPRINT_SLOT, displayedFingerprint) !== text) return 'its body is the signed page but with the fingerprint slot left unfilled somewhere';
  return undefined;
}

function one(a: Answer, name: string): string | undefined {
  return a.headers[name]?.[0];
}

/** Where a redirect goes, resolved, and whether it stays on the origin. */
function redirectProblem(a: Answer, path: string, origin: string): string {
  const location = one(a, 'location');
  if (location === undefined) return `answered ${a.status} instead of 200`;
  let target: URL;
  try {
    target = new URL(location, `${origin}${path}`);
  } catch {
    return `answered ${a.status}, a redirect to an unreadable Location ${JSON.stringify(location.slice(0, 200))}`;
  }
  return target.origin === origin ? `answered ${a.status}, a redirect to ${target.pathname}${target.search} (the signed file must be served at its own path)` : `answered ${a.status}, a redirect to another origin: ${target.origin}`;
}

/** Status and headers of one answer against the manifest's entry. */
export function headerProblems(a: Answer, f: ManifestFile, origin: string, label: string): string[] {
  const problems: string[] = [];
  const p = (s: string) => problems.push(label ? `${label}: ${s}` : s);
  if (a.status !== 200) {
    p(a.status >= 300 && a.status < 400 ? redirectProblem(a, f.path, origin) : `answered ${a.status} instead of 200`);
    return problems;
  }
  const csp = a.headers['content-security-policy'] ?? [];
  if (csp.length === 0) p('no Content-Security-Policy header');
  else if (csp.length > 1) p(`${csp.length} Content-Security-Policy headers (a browser enforces every one; the manifest signs exactly one)`);
  else if (csp[0] !== f.csp) p(`its Content-Security-Policy is not the signed one: ${JSON.stringify(csp[0]!.slice(0, 300))}`);
  if (a.headers['content-security-policy-report-only']) p('a Content-Security-Policy-Report-Only header');
  const types = a.headers['content-type'] ?? [];
  if (types.length !== 1 || types[0] !== f.content_type) p(`Content-Type ${JSON.stringify(types.join(', '))}, signed ${JSON.stringify(f.content_type)}`);
  // Refresh sends the browser elsewhere after a delay; Link can preload or prefetch from anywhere.
  if (a.headers['refresh']) p(`a Refresh header: ${JSON.stringify(a.headers['refresh'].join(', ').slice(0, 200))}`);
  if (a.headers['link']) p(`a Link header: ${JSON.stringify(a.headers['link'].join(', ').slice(0, 200))}`);
  if (a.headers['service-worker-allowed']) p('a Service-Worker-Allowed header');
  return problems;
}

function referenceProblems(refs: Reference[], from: ManifestFile, origin: string, listed: Set<string>): string[] {
  const problems: string[] = [];
  for (const r of refs) {
    if (r.what === 'meta refresh') {
      problems.push(`a <meta http-equiv="refresh"> (${JSON.stringify(r.url.slice(0, 200))})`);
      continue;
    }
    if (r.what === 'base') {
      problems.push(`a <base href=${JSON.stringify(r.url.slice(0, 200))}> (changes where every relative reference goes)`);
      continue;
    }
    if (r.url === '') {
      problems.push(`an ${r.what}, which the signed manifest does not list`);
      continue;
    }
    let u: URL;
    try {
      u = new URL(r.url, `${origin}${from.path}`);
    } catch {
      problems.push(`a ${r.what} with an unreadable URL ${JSON.stringify(r.url.slice(0, 200))}`);
      continue;
    }
    if (u.origin !== origin) {
      problems.push(`a ${r.what} from another origin: ${u.href.slice(0, 300)}`);
      continue;
    }
    const path = `${u.pathname}${u.search}`;
    if (!listed.has(path)) problems.push(`a ${r.what} ${path}, which the signed manifest does not list`);
  }
  return problems;
}

/** Checks every file of `manifest` as served by `client`; the fingerprint as the page displays it. */
export async function checkSite(client: SiteClient, manifest: ClientManifest, displayedFingerprint: string): Promise<Result[]> {
  const origin = client.origin;
  const listed = new Set(manifest.files.map((f) => f.path));
  const results: Result[] = [];
  for (const f of manifest.files) {
    const problems: string[] = [];
    const plain = await client.get(f.path);
    problems.push(...headerProblems(plain, f, origin, ''));
    let body: Buffer | undefined;
    if (plain.status === 200) {
      const decoded = decodeBody(plain);
      if ('error' in decoded) problems.push(`asked for no compression, ${decoded.error}`);
      else {
        body = decoded.body;
        const bad = bodyProblem(body, f, displayedFingerprint);
        if (bad) problems.push(bad);
      }
    }
    // What a browser gets: the same file, compressed or not.
    const compressed = await client.get(f.path, { 'accept-encoding': BROWSER_ENCODINGS });
    const label = `asked as a browser asks (Accept-Encoding: ${BROWSER_ENCODINGS})`;
    problems.push(...headerProblems(compressed, f, origin, label));
    let other: Buffer | undefined;
    if (compressed.status === 200) {
      const decoded = decodeBody(compressed);
      if ('error' in decoded) problems.push(`${label}: ${decoded.error}`);
      else {
        other = decoded.body;
        const bad = bodyProblem(other, f, displayedFingerprint);
        if (bad) problems.push(`${label}: ${bad}`);
      }
    }
    // Every file it would load (from either answer): on this origin, and listed.
    const refs: Reference[] = [];
    for (const b of new Set([body, other].filter((x): x is Buffer => x !== undefined))) {
      const text = b.toString('utf8');
      if (f.content_type.startsWith('text/html')) refs.push(...htmlReferences(text));
      if (/javascript/.test(f.content_type)) refs.push(...scriptReferences(text));
    }
    const seen = new Set<string>();
    for (const p of referenceProblems(refs, f, origin, listed)) if (!seen.has(p)) (seen.add(p), problems.push(p));
    const loads = [...new Set(refs.filter((r) => r.url).map((r) => r.url))];
    results.push({ path: f.path, problems, checked: `sha256 ${short(f.sha256)}…${f.template ? ' (fingerprint filled in)' : ''}, CSP, ${f.content_type}${loads.length ? `; loads ${loads.join(', ')}` : ''}` });
  }
  // A page's path without its slash (a source typing /es) may only redirect within this origin.
  for (const f of manifest.files) {
    if (!f.path.endsWith('/') || f.path === '/') continue;
    const bare = f.path.slice(0, -1);
    if (listed.has(bare)) continue;
    const a = await client.get(bare);
    const problems: string[] = [];
    let checked = `answers ${a.status}`;
    if (a.status >= 300 && a.status < 400) {
      const location = one(a, 'location') ?? '';
      let target: URL | undefined;
      try {
        target = new URL(location, `${origin}${bare}`);
      } catch {
        target = undefined;
      }
      if (!target) problems.push(`redirects to an unreadable Location ${JSON.stringify(location.slice(0, 200))}`);
      else if (target.origin !== origin) problems.push(`redirects to another origin: ${target.origin}`);
      else checked = `redirects to ${target.pathname} on this origin`;
      if (a.headers['refresh'] || a.headers['link']) problems.push('a Refresh or Link header');
    } else if (a.status === 200) {
      problems.push('answers 200 with a page the signed manifest does not list');
    }
    results.push({ path: bare, problems, checked });
  }
  return results;
}
