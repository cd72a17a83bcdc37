// Rewrites test/vectors/directory.json (crypto/FORMAT.md §Directory) from directory.ts. Run only on a deliberate
// format change, then review the diff:
//   npx tsc -p . && node dist/test/vectors/generate-directory.js
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { initCrypto } from '../../crypto/node.js';
import { buildDirectoryFile } from './directory.js';

await initCrypto();
// Compiled to dist/test/vectors/, so the source directory is three levels up.
const out = fileURLToPath(new URL('../../../test/vectors/directory.json', import.meta.url));
writeFileSync(out, `${JSON.stringify(buildDirectoryFile(), null, 1)}\n`);
console.log('wrote test/vectors/directory.json');
