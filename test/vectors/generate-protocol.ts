// Rewrites test/vectors/protocol.json (crypto/PROTOCOL.md) from protocol.ts. Run only on a deliberate format
// change, then review the diff:
//   npx tsc -p . && node dist/test/vectors/generate-protocol.js
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { initCrypto } from '../../crypto/node.js';
import { buildProtocolFile } from './protocol.js';

await initCrypto();
// Compiled to dist/test/vectors/, so the source directory is three levels up.
const out = fileURLToPath(new URL('../../../test/vectors/protocol.json', import.meta.url));
writeFileSync(out, `${JSON.stringify(await buildProtocolFile(), null, 1)}\n`);
console.log('wrote test/vectors/protocol.json');
