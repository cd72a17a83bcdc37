// Rewrites test/vectors/replies.json (crypto/PROTOCOL.md §Codenames, §Reply tags, §Replies) from replies.ts. Run
// only on a deliberate format change, then review the diff:
//   npx tsc -p . && node dist/test/vectors/generate-replies.js
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { initCrypto } from '../../crypto/node.js';
import { buildRepliesFile } from './replies.js';

await initCrypto();
// Compiled to dist/test/vectors/, so the source directory is three levels up.
const out = fileURLToPath(new URL('../../../test/vectors/replies.json', import.meta.url));
writeFileSync(out, `${JSON.stringify(await buildRepliesFile(), null, 1)}\n`);
console.log('wrote test/vectors/replies.json');
