// The dependency direction, enforced: crypto <- schema <- server | client. crypto/ imports nothing of the
// project outside itself (and Node's modules only in crypto/node.ts); schema/ imports crypto/ and schema/;
// server/ and client/ import crypto/, schema/ and themselves, never each other, except that the `tipline`
// command loads the server, by a dynamic import(), in its serve command only. No import cycle among server/
// modules (type-only imports count: they are how the routes and app.ts used to tie themselves together).
// Every import is read with TypeScript's parser: static imports, `import type`, export-from, import() strings.
import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { join, posix, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const AREAS = ['crypto', 'schema', 'server', 'client'] as const;
type Area = (typeof AREAS)[number];

const ALLOWED: Record<Area, readonly Area[]> = {
  crypto: ['crypto'],
  schema: ['crypto', 'schema'],
  server: ['crypto', 'schema', 'server'],
  client: ['crypto', 'schema', 'client'],
};

interface Edge {
  from: string; // project path, e.g. server/app.ts
  to: string; // project path of a project module, or the bare specifier of a package
  /** A package or one of Node's modules, not a file of the project. */
  external: boolean;
  kind: 'static' | 'type' | 'export' | 'dynamic';
  line: number;
  /** For a dynamic import: whether it sits in the CLI's serve command (a `case 'serve'`, a function named serve…). */
  inServe: boolean;
}

function areaOf(path: string): Area | undefined {
  return AREAS.find((a) => path.startsWith(`${a}/`));
}

/** Resolves a relative specifier as TypeScript's NodeNext resolution does for this project: x.js is x.ts. */
function resolveSpecifier(from: string, spec: string, exists: (p: string) => boolean): string {
  const base = posix.normalize(posix.join(posix.dirname(from), spec));
  for (const candidate of [base.replace(/\.js$/, '.ts'), `${base}.ts`, `${base}/index.ts`, base]) if (exists(candidate)) return candidate;
  return base;
}

function inServeCommand(node: ts.Node): boolean {
  for (let n: ts.Node | undefined = node; n; n = n.parent) {
    if (ts.isCaseClause(n) && ts.isStringLiteral(n.expression) && n.expression.text === 'serve') return true;
    if ((ts.isFunctionDeclaration(n) || ts.isMethodDeclaration(n) || ts.isFunctionExpression(n)) && n.name && /^serve/i.test(n.name.getText())) return true;
    if (ts.isVariableDeclaration(n) && /^serve/i.test(n.name.getText())) return true;
  }
  return false;
}

function importsOf(path: string, source: string, exists: (p: string) => boolean): Edge[] {
  const sf = ts.createSourceFile(path, source, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const edges: Edge[] = [];
  const add = (spec: string, kind: Edge['kind'], node: ts.Node) => {
    const to = spec.startsWith('.') ? resolveSpecifier(path, spec, exists) : spec;
    edges.push({ from: path, to, external: !spec.startsWith('.'), kind, line: sf.getLineAndCharacterOfPosition(node.getStart()).line + 1, inServe: kind === 'dynamic' && inServeCommand(node) });
  };
  const visit = (node: ts.Node) => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) add(node.moduleSpecifier.text, node.importClause?.isTypeOnly ? 'type' : 'static', node);
    else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) add(node.moduleSpecifier.text, 'export', node);
    else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference) && ts.isStringLiteral(node.moduleReference.expression)) add(node.moduleReference.expression.text, 'static', node);
    else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const arg = node.arguments[0];
      // A computed import() could load anything: refused outright, so the check cannot be walked around.
      if (arg && (ts.isStringLiteral(arg) || ts.isNoSubstitutionTemplateLiteral(arg))) add(arg.text, 'dynamic', node);
      else add('<computed import()>', 'dynamic', node);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) add(node.argument.literal.text, 'type', node);
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return edges;
}

const show = (e: Edge) => `${e.from}:${e.line} -> ${e.to} (${e.kind})`;

/** Every edge against the direction, as printable lines. */
function violations(edges: Edge[]): string[] {
  const out: string[] = [];
  for (const e of edges) {
    const from = areaOf(e.from);
    if (!from) continue;
    if (e.to === '<computed import()>') {
      out.push(`${show(e)}: an import() of a computed specifier`);
      continue;
    }
    if (e.external) {
      // Only crypto/node.ts may use Node's modules: crypto/ also runs in browsers.
      if (from === 'crypto' && isBuiltin(e.to) && e.from !== 'crypto/node.ts') out.push(`${show(e)}: crypto/ is pure (Node's modules only in crypto/node.ts)`);
      continue;
    }
    const to = areaOf(e.to);
    if (!to) {
      out.push(`${show(e)}: outside crypto/, schema/, server/ and client/`);
      continue;
    }
    if (ALLOWED[from].includes(to)) continue;
    if (from === 'client' && e.to === 'server/serve.ts' && e.from.startsWith('client/cli/') && e.kind === 'dynamic' && e.inServe) continue;
    out.push(`${show(e)}: ${from}/ may import only ${ALLOWED[from].join('/, ')}/`);
  }
  return out;
}

/** Import cycles among the given modules (Tarjan's strongly connected components), each with its edges. */
function cycles(edges: Edge[], within: (p: string) => boolean): string[] {
  const graph = new Map<string, Edge[]>();
  for (const e of edges) if (within(e.from) && within(e.to)) graph.set(e.from, [...(graph.get(e.from) ?? []), e]);
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[] = [];
  let next = 0;
  const connect = (v: string) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const e of graph.get(v) ?? []) {
      if (!index.has(e.to)) {
        connect(e.to);
        low.set(v, Math.min(low.get(v)!, low.get(e.to)!));
      } else if (onStack.has(e.to)) low.set(v, Math.min(low.get(v)!, index.get(e.to)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const scc = new Set<string>();
    for (let w = stack.pop()!; ; w = stack.pop()!) {
      onStack.delete(w);
      scc.add(w);
      if (w === v) break;
    }
    const inner = [...scc].flatMap((m) => (graph.get(m) ?? []).filter((e) => scc.has(e.to))).sort((a, b) => (show(a) < show(b) ? -1 : 1));
    if (scc.size > 1 || inner.length > 0) found.push(`cycle among ${[...scc].sort().join(', ')}:\n    ${inner.map(show).join('\n    ')}`);
  };
  for (const v of graph.keys()) if (!index.has(v)) connect(v);
  return found;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const full = join(dir, d.name);
    if (d.isDirectory()) return sourceFiles(full);
    return d.isFile() && d.name.endsWith('.ts') && !d.name.endsWith('.d.ts') ? [full] : [];
  });
}

function check(files: Map<string, string>): { edges: Edge[]; violations: string[]; cycles: string[] } {
  const edges = [...files].flatMap(([path, source]) => importsOf(path, source, (p) => files.has(p)));
  return { edges, violations: violations(edges), cycles: cycles(edges, (p) => p.startsWith('server/')) };
}

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
  const files = new Map<string, string>();
  for (const area of AREAS) {
    for (const full of sourceFiles(join(ROOT, area))) files.set(relative(ROOT, full).split(sep).join('/'), readFileSync(full, 'utf8'));
  }
  t.ok(files.size > 40, `${files.size} source files read`);
  const r = check(files);
  t.ok(r.edges.filter((e) => areaOf(e.to)).length > 100, `${r.edges.length} imports read`);
  t.same(r.violations, [], `imports against the direction:\n  ${r.violations.join('\n  ')}`);
  t.same(r.cycles, [], `import cycles in server/:\n  ${r.cycles.join('\n  ')}`);
  const serveLoads = r.edges.filter((e) => e.from.startsWith('client/') && e.to === 'server/serve.ts');
  t.equal(serveLoads.length, 1, 'the CLI loads the server in exactly one place');
  t.ok(serveLoads.every((e) => e.kind === 'dynamic' && e.inServe), 'dynamically, in its serve command');
});
