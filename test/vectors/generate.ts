// Rewrites test/vectors/*.json from definitions.ts. Run only on a deliberate format change, then review the diff:
//   npx tsc -p . && node dist/test/vectors/generate.js
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { initCrypto } from '../../crypto/node.js';
import { buildEnvelopeFile, buildKeysFile } from './definitions.js';

await initCrypto();
// Compiled to dist/test/vectors/, so the source directory is three levels up.
const out = (name: string) => fileURLToPath(new URL(`../../../test/vectors/${name}`, import.meta.url));
writeFileSync(out('envelope.json'), `${JSON.stringify(await buildEnvelopeFile(), null, 1)}\n`);
writeFileSync(out('keys.json'), `${JSON.stringify(buildKeysFile(), null, 1)}\n`);
console.log('wrote test/vectors/envelope.json and test/vectors/keys.json');
