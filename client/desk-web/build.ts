// Builds the desk app's page (client/desk-web) into dist/desk-web: index.html, desk.js, desk.css. Served only by
// `tipline desk` on 127.0.0.1 (schema/desk-api.ts DESK_STATIC), never by the tip line: not in the client manifest.
//
// CONTRACT stub (the desk-web helper replaces it): writes placeholders so the desk server has files to serve.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export async function buildDeskWeb(out: string): Promise<void> {
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'index.html'), '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Tipline desk</title><link rel="stylesheet" href="desk.css"></head><body><main id="app"></main><script src="desk.js"></script></body></html>\n');
  writeFileSync(join(out, 'desk.js'), '"use strict";\n');
  writeFileSync(join(out, 'desk.css'), 'body{font-family:sans-serif}\n');
}
