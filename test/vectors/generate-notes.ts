// Rewrites test/vectors/notes.json (crypto/FORMAT.md §Desk notes) from notes.ts. Run only on a deliberate format
// change, then review the diff:
//   npx tsc -p . && node dist/test/vectors/generate-notes.js
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { initCrypto } from '../../crypto/node.js';
import { buildNotesFile } from './notes.js';

await initCrypto();
// Compiled to dist/test/vectors/, so the source directory is three levels up.
const out = fileURLToPath(new URL('../../../test/vectors/notes.json', import.meta.url));
writeFileSync(out, `${JSON.stringify(buildNotesFile(), null, 1)}\n`);
console.log('wrote test/vectors/notes.json');
