// Attack on the import-direction check (test/import_direction.test.ts): ways for client/ to load server/ code (or
// crypto/ to load anything) that the checker did not see. Each of these runs on Node 20.19 with this tsconfig:
// require() through createRequire (require(esm) is on by default), a .mts/.cts file (tsc compiles them; the
// checker read only .ts), a package "imports" alias (#server/…), an absolute or file: specifier, the package
// importing itself by name, and a worker started from a URL next to the module.
import t from 'tap';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { check, readTree } from './helpers/import-direction.js';

t.test('imports that walk around the checker are caught', async (t) => {
  const cases: [string, string][] = [
    ['require via createRequire', `import { createRequire } from 'node:module';\nconst require = createRequire(import.meta.url);\nconst db = require('../../server/db.js');`],
    ['a computed require', `const m = require(name);`],
    ['a package imports alias', `import { openDatabase } from '#server/db.js';`],
    ['an absolute path', `import { openDatabase } from '/srv/tipline/dist/server/db.js';`],
    ['a file: URL', `const m = await import('file:///srv/tipline/dist/server/db.js');`],
    ['the package by its own name', `import { openDatabase } from 'tipline/dist/server/db.js';`],
    ['a package that is not a dependency', `import x from 'left-pad';`],
    ['a worker from a URL beside the module', `import { Worker } from 'node:worker_threads';\nnew Worker(new URL('../../server/serve.js', import.meta.url));`],
  ];
  for (const [what, source] of cases) {
    const r = check(new Map([['client/cli/sneaky.ts', source], ['server/db.ts', ''], ['server/serve.ts', '']]));
    t.ok(r.violations.length > 0, `${what}: refused${r.violations[0] ? ` (${r.violations[0]})` : ''}`);
  }
  const fine = check(new Map([['client/cli/ok.ts', `import { Client } from 'undici';\nimport { z } from 'zod';\nimport { readFileSync } from 'node:fs';\nconst pkg = new URL('../../package.json', import.meta.url);`]]));
  t.same(fine.violations, [], 'declared packages, Node modules and a URL to a file outside the source areas still pass');
});

t.test('source files with the other extensions tsc compiles are read', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'tipline-imports-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const put = (path: string, text: string) => {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  };
  for (const area of ['crypto', 'schema']) mkdirSync(join(root, area));
  put('server/db.ts', '');
  put('client/cli/sneaky.mts', `import { openDatabase } from '../../server/db.js';`);
  put('client/cli/sneaky2.cts', `import { openDatabase } from '../../server/db.js';`);
  const r = check(readTree(root));
  t.equal(r.violations.length, 2, `both files read and refused: ${r.violations.join('; ')}`);
});
