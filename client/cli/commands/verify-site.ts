// `tipline verify-site URL --fingerprint FP [--socks HOST:PORT]`: checks that the page a tip line serves is the
// published build. It fetches the client manifest the newsroom's root signed, verifies it under the fingerprint
// the person already trusts, then fetches every file it lists (the page in every language, the script, the
// worker, the stylesheet) and compares bodies, CSP and Content-Type with it; anything the pages would load from
// elsewhere, or that the manifest does not list, fails. What it proves and what it cannot: SECURITY.md
// §Verifying the served page.
import { verifyClientManifest, type ClientManifest } from '../../../crypto/client-manifest.js';
import { displayFingerprint } from '../../../crypto/keys.js';
import { initCrypto } from '../../../crypto/node.js';
import { args, fingerprintArg, proxyArg, usage, wantsHelp, type Io } from '../args.js';
import { printable } from '../printable.js';
import { SiteClient, decodeBody } from '../site/http.js';
import { checkSite } from '../site/check.js';

const COMMAND = 'verify-site';
export const MANIFEST_PATH = '/.well-known/tipline/client-manifest';

export const HELP = `usage: tipline verify-site URL --fingerprint FP [--socks HOST:PORT]

Checks that the page a tip line serves is the build its newsroom signed: fetches the client manifest at
${MANIFEST_PATH}, verifies it under the root fingerprint, then fetches the page in every
language and every file it loads, as a browser would, and checks each body's SHA-256, its
Content-Security-Policy and Content-Type against the manifest. Fails on any file the manifest does not list,
any script, worker or style from elsewhere, a Refresh or Link header, and a redirect to another origin.
Prints a PASS or FAIL line per file; exit 0 when all pass, 1 when any fails, 2 for a usage mistake.

It checks what this client is served: a page changed only for someone else is not seen from here
(SECURITY.md, Verifying the served page).

  URL                   the tip line's address, e.g. http://….onion (http:// is assumed)
  --fingerprint FP      the newsroom's root fingerprint, from a source you trust (not from the page)
  --socks HOST:PORT     through Tor's SOCKS port (ALL_PROXY works too); an .onion address needs it

example:  tipline verify-site http://abc….onion --fingerprint "xxxx xxxx …" --socks 127.0.0.1:9050`;

function siteOrigin(value: string): string {
  const text = /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `http://${value}`;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw usage(COMMAND, `"${printable(value, 200)}" is not an address: give the tip line's, e.g. http://127.0.0.1:8080`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw usage(COMMAND, `the address must start with http:// or https://, not ${url.protocol}//`);
  if (!url.hostname) throw usage(COMMAND, `"${printable(value, 200)}" has no host name`);
  return url.origin;
}

export async function run(argv: string[], io: Io): Promise<number> {
  if (wantsHelp(argv)) {
    io.say(HELP);
    return 0;
  }
  const { values, positionals } = args(COMMAND, argv, { fingerprint: { type: 'string' }, socks: { type: 'string' } }, true);
  if (positionals.length === 0) throw usage(COMMAND, 'missing URL: the tip line\'s address, e.g. tipline verify-site http://127.0.0.1:8080 --fingerprint "…"');
  if (positionals.length > 1) throw usage(COMMAND, `one URL only, got ${positionals.length} (put the fingerprint in quotes after --fingerprint)`);
  if (values.fingerprint === undefined || values.fingerprint === '') throw usage(COMMAND, 'missing --fingerprint FP: the newsroom\'s root fingerprint, as published');
  const origin = siteOrigin(positionals[0]!);
  const fp = await fingerprintArg(COMMAND, values.fingerprint);
  const proxy = proxyArg(COMMAND, values.socks);
  await initCrypto();

  const client = new SiteClient(origin, proxy);
  try {
    const answer = await client.get(MANIFEST_PATH);
    let manifest: ClientManifest;
    try {
      if (answer.status !== 200) throw new Error(answer.status === 404 ? 'not published (404): the newsroom signs one with tipline keys sign-manifest' : `answered ${answer.status}`);
      const decoded = decodeBody(answer);
      if ('error' in decoded) throw new Error(decoded.error);
      manifest = verifyClientManifest(JSON.parse(decoded.body.toString('utf8')), fp);
    } catch (err) {
      io.say(`FAIL ${MANIFEST_PATH}: ${printable((err as Error).message, 500)}`);
      io.say(`verify-site: FAIL: no client manifest signed by ${displayFingerprint(fp)} at ${origin}`);
      return 1;
    }
    io.say(`PASS ${MANIFEST_PATH}: signed by ${displayFingerprint(fp)} on ${manifest.signed.slice(0, 10)}, version ${manifest.version}, ${manifest.files.length} files`);
    const results = await checkSite(client, manifest, displayFingerprint(fp));
    for (const r of results) io.say(r.problems.length === 0 ? `PASS ${r.path}: ${r.checked}` : `FAIL ${r.path}: ${r.problems.map((p) => printable(p, 400)).join('; ')}`);
    const failed = results.filter((r) => r.problems.length > 0);
    io.say(failed.length === 0 ? `verify-site: PASS: ${results.length} paths served by ${origin} match the client manifest` : `verify-site: FAIL: ${failed.length} of ${results.length} paths served by ${origin} do not match the client manifest (${failed.map((r) => r.path).join(', ')})`);
    return failed.length === 0 ? 0 : 1;
  } finally {
    await client.close();
  }
}
