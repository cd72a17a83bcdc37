// Rewrites test/vectors/documents.json (FORMAT.md §Policy, §Canary, §Client manifest; PROTOCOL.md §Signed heads)
// from documents.ts. Run only on a deliberate format change, then review the diff:
//   npx tsc -p . && node dist/test/vectors/generate-documents.js
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { initCrypto } from '../../crypto/node.js';
import { buildDocumentsFile } from './documents.js';

await initCrypto();
// Compiled to dist/test/vectors/, so the source directory is three levels up.
const out = fileURLToPath(new URL('../../../test/vectors/documents.json', import.meta.url));
writeFileSync(out, `${JSON.stringify(buildDocumentsFile(), null, 1)}\n`);
console.log('wrote test/vectors/documents.json');
