// Builds the desk app's page (client/desk-web) into dist/desk-web: index.html, desk.js, desk.css. Served only by
// `tipline desk` on 127.0.0.1 (schema/desk-api.ts DESK_STATIC), never by the tip line: not in the client manifest.
// Same sources, same bytes (no source maps, no build time, no absolute paths): test/build_reproducible.test.ts.
// The page fits a CSP of script-src 'self'; style-src 'self': one external script and one stylesheet, no inline
// script or style, no eval, no third-party resource or font.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const here = dirname(fileURLToPath(import.meta.url)); // dist/client/desk-web
const root = join(here, '..', '..', '..');
const src = join(root, 'client', 'desk-web');

// English on the static page: main.ts sets lang and every string once it has chosen the language.
const INDEX = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Tipline desk</title>
<link rel="stylesheet" href="desk.css">
<script src="desk.js" defer></script>
</head>
<body>
<div id="app"><main><h1>Tipline desk</h1><noscript><p>The desk app needs JavaScript. It runs only on this computer.</p></noscript></main></div>
</body>
</html>
`;

export async function buildDeskWeb(out: string): Promise<void> {
  mkdirSync(out, { recursive: true });
  await build({
    entryPoints: [join(src, 'main.ts')],
    outfile: join(out, 'desk.js'),
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: ['firefox115', 'chrome110'],
    minify: true,
    sourcemap: false,
    legalComments: 'none',
    logLevel: 'warning',
    absWorkingDir: root,
    define: { 'process.env.NODE_ENV': '"production"' },
  });
  copyFileSync(join(src, 'desk.css'), join(out, 'desk.css'));
  writeFileSync(join(out, 'index.html'), INDEX);
}
