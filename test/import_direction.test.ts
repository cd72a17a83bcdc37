// The dependency direction, enforced: crypto <- schema <- server | client. crypto/ imports nothing of the
// project outside itself (and Node's modules only in crypto/node.ts); schema/ imports crypto/ and schema/;
// server/ and client/ import crypto/, schema/ and themselves, never each other, except that the `tipline`
// command loads the server, by a dynamic import(), in its serve command only. No import cycle among server/
// modules (type-only imports count: they are how the routes and app.ts used to tie themselves together).
// Every import is read with TypeScript's parser (test/helpers/import-direction.ts): static imports, `import type`,
// export-from, import() and require() strings, new URL(…, import.meta.url); packages must be declared ones.
import t from 'tap';
import { areaOf, check, readTree } from './helpers/import-direction.js';

t.test('the checker finds what it is meant to find', async (t) => {
  const fake = new Map<string, string>([
    ['crypto/a.ts', `import { x } from '../schema/s.js';\nimport { readFileSync } from 'node:fs';\nimport { gcm } from '@noble/ciphers/aes.js';`],
    ['crypto/node.ts', `import { createRequire } from 'node:module';`],
    ['schema/s.ts', `export * from '../server/app.js';\nimport { y } from '../crypto/a.js';`],
    ['server/app.ts', `import { r } from './routes/r.js';\nimport { FINGERPRINT } from '../client/web/page.js';`],
    ['server/routes/r.ts', `import type { Ctx } from '../app.js';`],
    ['server/self.ts', `import type { Me } from './self.js';`],
    ['client/web/page.ts', `const m = await import('../../server/db.js');\nconst n = await import(name);`],
    [
      'client/cli/main.ts',
      [
        `import type { T } from '../../server/config.js';`,
        `switch (command) { case 'serve': { const { serve } = await import('../../server/serve.js'); break; } }`,
        `async function other() { await import('../../server/serve.js'); }`,
      ].join('\n'),
    ],
    ['server/serve.ts', ''],
    ['server/db.ts', ''],
    ['server/config.ts', ''],
    ['server/routes/t.ts', `import { fixture } from '../../test/helpers/fixtures.js';\nimport { readFileSync } from 'fs';`],
  ]);
  const r = check(fake);
  t.same(
    r.violations.map((v) => v.replace(/ \(.*$/, '')).sort(),
    [
      'client/cli/main.ts:1 -> server/config.ts',
      'client/cli/main.ts:3 -> server/serve.ts',
      'client/web/page.ts:1 -> server/db.ts',
      'client/web/page.ts:2 -> <computed import()>',
      'crypto/a.ts:1 -> schema/s.ts',
      'crypto/a.ts:2 -> node:fs',
      'schema/s.ts:1 -> server/app.ts',
      'server/app.ts:2 -> client/web/page.ts',
      'server/routes/t.ts:1 -> test/helpers/fixtures.js',
    ],
    'every forbidden edge, and only those (the serve command may load server/serve.js)',
  );
  t.equal(r.cycles.length, 2);
  t.match(r.cycles.join('\n'), /cycle among server\/app\.ts, server\/routes\/r\.ts:\n {4}server\/app\.ts:1 -> server\/routes\/r\.ts \(static\)\n {4}server\/routes\/r\.ts:1 -> server\/app\.ts \(type\)/);
  t.match(r.cycles.join('\n'), /cycle among server\/self\.ts/);
});

t.test('crypto <- schema <- server | client, and no cycle in server/', async (t) => {
  const files = readTree();
  t.ok(files.size > 40, `${files.size} source files read`);
  const r = check(files);
  t.ok(r.edges.filter((e) => areaOf(e.to)).length > 100, `${r.edges.length} imports read`);
  t.same(r.violations, [], `imports against the direction:\n  ${r.violations.join('\n  ')}`);
  t.same(r.cycles, [], `import cycles in server/:\n  ${r.cycles.join('\n  ')}`);
  const serveLoads = r.edges.filter((e) => e.from.startsWith('client/') && e.to === 'server/serve.ts');
  t.equal(serveLoads.length, 1, 'the CLI loads the server in exactly one place');
  t.ok(serveLoads.every((e) => e.kind === 'dynamic' && e.inServe), 'dynamically, in its serve command');
});
