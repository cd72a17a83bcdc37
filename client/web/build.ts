// Builds the source's page into dist/web: one HTML file per language, the page script, the worker (which
// carries libsodium and the envelope code) and the stylesheet, each also gzipped for clients that accept it.
// It runs last in `npm run build` (after tsc), so it also stamps the build: `npm start` rebuilds only when a
// source differs from what that stamp records (see upToDate), and otherwise starts in seconds.
// It also writes the client manifest (client/web/manifest.ts): the same bytes for the same commit, which
// test/build_reproducible.test.ts checks by building twice into other folders (`--out DIR`).
import { build } from 'esbuild';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { dirname, join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { LANGUAGES } from './strings/index.js';
import { renderPage, pagePath } from './page.js';
import { ASSET_TYPES, PAGE_TYPE } from '../../schema/page.js';
import { MANIFEST_FILE, makeBuiltManifest, serializeManifest, type BuiltFile } from './manifest.js';
import { buildDeskWeb } from '../desk-web/build.js';

const here = dirname(fileURLToPath(import.meta.url)); // dist/client/web
const root = join(here, '..', '..', '..');
const src = join(root, 'client', 'web');
const defaultOut = join(root, 'dist', 'web');
const require = createRequire(join(root, 'package.json'));

const SOURCES = ['client', 'server', 'crypto', 'schema', 'package.json', 'package-lock.json', 'tsconfig.json'];

/** SHA-256 of every source file dist/ is built from, by path. Contents, not times: an update unpacked with its
 * own (older) file times, or one that only removes a file, must not leave an old build in service. */
function sourceDigests(at: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string) => {
    const st = statSync(join(at, rel), { throwIfNoEntry: false });
    if (st?.isDirectory()) for (const entry of readdirSync(join(at, rel)).sort()) walk(`${rel}/${entry}`);
    else if (st?.isFile()) out[rel] = createHash('sha256').update(readFileSync(join(at, rel))).digest('hex');
  };
  for (const part of SOURCES) walk(part);
  return out;
}

/** Whether dist/ holds a build of the sources as they are now; says what changed when not. */
export function upToDate(say: (s: string) => void = (s) => process.stderr.write(`${s}\n`), at = root): boolean {
  let built: Record<string, string>;
  try {
    built = JSON.parse(readFileSync(join(at, 'dist', '.built'), 'utf8')) as Record<string, string>;
  } catch {
    say('dist/ is not built yet: building it (npm run build)');
    return false;
  }
  const now = sourceDigests(at);
  const changed = Object.keys(now).find((p) => built[p] !== now[p]) ?? Object.keys(built).find((p) => !(p in now));
  if (changed) {
    say(`${changed} changed since the last build: building again (npm run build)`);
    return false;
  }
  return true;
}

/** Records that dist/ now holds a build of the sources under `at`. */
export function writeStamp(at = root): void {
  writeFileSync(join(at, 'dist', '.built'), JSON.stringify(sourceDigests(at)));
}

/** Builds the page into `out` (default dist/web). */
export async function buildWeb(out = defaultOut): Promise<Record<string, number>> {
  mkdirSync(join(out, 'assets'), { recursive: true });
  const common = {
    bundle: true,
    format: 'iife' as const,
    platform: 'browser' as const,
    target: ['firefox115', 'chrome110', 'safari16'],
    minify: true,
    legalComments: 'none' as const,
    logLevel: 'warning' as const,
    // The CommonJS build: its ESM build lacks the asm.js fallback that Tor Browser at "Safer" needs.
    alias: { 'libsodium-wrappers': require.resolve('libsodium-wrappers') },
    define: { 'process.env.NODE_ENV': '"production"' },
  };
  await build({ ...common, entryPoints: [join(src, 'main.ts')], outfile: join(out, 'assets', 'app.js') });
  await build({ ...common, entryPoints: [join(src, 'worker.ts')], outfile: join(out, 'assets', 'worker.js') });
  writeFileSync(join(out, 'assets', 'style.css'), readFileSync(join(src, 'style.css')));
  const files: Record<string, string> = {};
  for (const [name, type] of Object.entries(ASSET_TYPES)) files[`assets/${name}`] = type;
  const served: BuiltFile[] = Object.entries(files).map(([rel, type]) => ({ path: `/${rel}`, bytes: readFileSync(join(out, rel)), content_type: type }));
  for (const s of Object.values(LANGUAGES)) {
    const rel = `${pagePath(s.lang).slice(1)}index.html`;
    mkdirSync(dirname(join(out, rel)), { recursive: true });
    const html = Buffer.from(renderPage(s));
    writeFileSync(join(out, rel), html);
    files[rel] = PAGE_TYPE;
    served.push({ path: pagePath(s.lang), bytes: html, content_type: PAGE_TYPE, template: true });
  }
  const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
  writeFileSync(join(out, MANIFEST_FILE), serializeManifest(makeBuiltManifest(version, served)));
  const sizes: Record<string, number> = {};
  for (const rel of Object.keys(files)) {
    const raw = readFileSync(join(out, rel));
    // Node writes no time and no file name into the gzip header: the same input, the same bytes.
    const gz = gzipSync(raw, { level: 9 });
    writeFileSync(join(out, `${rel}.gz`), gz);
    sizes[rel] = gz.length;
  }
  return sizes;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  // `--out DIR` (or TIPLINE_WEB_OUT): build elsewhere, to compare two builds; dist/ is then left as it is.
  const at = process.argv.indexOf('--out');
  const other = at > 0 ? process.argv[at + 1] : process.env.TIPLINE_WEB_OUT || undefined;
  if (at > 0 && !other) throw new Error('--out needs a folder');
  const sizes = await buildWeb(other ? resolve(other) : defaultOut);
  const total = Object.entries(sizes).filter(([k]) => k.startsWith('assets/') || k === 'index.html').reduce((n, [, v]) => n + v, 0);
  process.stderr.write(`web page built in ${other ?? 'dist/web'} (first visit, gzipped: ${(total / 1024).toFixed(0)} KiB)\n`);
  // The desk app's page (tipline desk), beside it; not part of what the tip line serves.
  if (!other) await buildDeskWeb(join(root, 'dist', 'desk-web'));
  if (!other) writeStamp();
}
