// The import-direction checker used by test/import_direction.test.ts (and the attack tests that try to walk
// around it): every import read with TypeScript's parser, checked against crypto <- schema <- server | client.
import { readdirSync, readFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { join, posix, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url)); // from dist/test/helpers
export const AREAS = ['crypto', 'schema', 'server', 'client'] as const;
type Area = (typeof AREAS)[number];

const ALLOWED: Record<Area, readonly Area[]> = {
  crypto: ['crypto'],
  schema: ['crypto', 'schema'],
  server: ['crypto', 'schema', 'server'],
  client: ['crypto', 'schema', 'client'],
};

export interface Edge {
  from: string; // project path, e.g. server/app.ts
  to: string; // project path of a project module, or the bare specifier of a package
  /** A package or one of Node's modules, not a file of the project. */
  external: boolean;
  /** `url`: new URL('./x.js', import.meta.url), a file a Worker or a loader can run. */
  kind: 'static' | 'type' | 'export' | 'dynamic' | 'require' | 'url';
  line: number;
  /** For a dynamic import: whether it sits in the CLI's serve command (a `case 'serve'`, a function named serve…). */
  inServe: boolean;
}

export function areaOf(path: string): Area | undefined {
  return AREAS.find((a) => path.startsWith(`${a}/`));
}

/** Resolves a relative specifier as TypeScript's NodeNext resolution does for this project: x.js is x.ts. */
function resolveSpecifier(from: string, spec: string, exists: (p: string) => boolean): string {
  const base = posix.normalize(posix.join(posix.dirname(from), spec));
  const ts = base.replace(/\.js$/, '.ts').replace(/\.mjs$/, '.mts').replace(/\.cjs$/, '.cts');
  for (const candidate of [ts, `${base}.ts`, `${base}/index.ts`, base]) if (exists(candidate)) return candidate;
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

export function importsOf(path: string, source: string, exists: (p: string) => boolean): Edge[] {
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
    } else if (ts.isCallExpression(node) && (ts.isIdentifier(node.expression) || ts.isPropertyAccessExpression(node.expression)) && (ts.isIdentifier(node.expression) ? node.expression : node.expression.name).text === 'require') {
      // require() loads ES modules too on Node 20.19+ (createRequire gives one to any module).
      const arg = node.arguments[0];
      if (arg && (ts.isStringLiteral(arg) || ts.isNoSubstitutionTemplateLiteral(arg))) add(arg.text, 'require', node);
      else add('<computed require()>', 'require', node);
    } else if (ts.isNewExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === 'URL' && node.arguments?.length === 2) {
      const [spec, base] = node.arguments;
      if (spec && ts.isStringLiteral(spec) && spec.text.startsWith('.') && base && /^import\.meta\.url$/.test(base.getText())) add(spec.text, 'url', node);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) add(node.argument.literal.text, 'type', node);
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return edges;
}

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies?: Record<string, string>; devDependencies?: Record<string, string> };
const DECLARED = new Set([...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.devDependencies ?? {})]);
/** 'zod' of 'zod/v4', '@noble/ciphers' of '@noble/ciphers/aes.js'. */
const packageName = (spec: string) => spec.split('/').slice(0, spec.startsWith('@') ? 2 : 1).join('/');

const show = (e: Edge) => `${e.from}:${e.line} -> ${e.to} (${e.kind})`;

/** Every edge against the direction, as printable lines. */
export function violations(edges: Edge[]): string[] {
  const out: string[] = [];
  for (const e of edges) {
    const from = areaOf(e.from);
    if (!from) continue;
    if (e.to === '<computed import()>' || e.to === '<computed require()>') {
      out.push(`${show(e)}: a computed specifier`);
      continue;
    }
    if (e.external && !isBuiltin(e.to) && !DECLARED.has(packageName(e.to))) {
      // '#alias', '/abs', 'file:', the project's own name: each can reach any module of the project.
      out.push(`${show(e)}: neither one of Node's modules nor a package in package.json`);
      continue;
    }
    if (e.external) {
      // Only crypto/node.ts may use Node's modules: crypto/ also runs in browsers.
      if (from === 'crypto' && isBuiltin(e.to) && e.from !== 'crypto/node.ts') out.push(`${show(e)}: crypto/ is pure (Node's modules only in crypto/node.ts)`);
      continue;
    }
    const to = areaOf(e.to);
    if (!to && e.kind === 'url') continue; // a file that is not source (package.json, the built page)
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
export function cycles(edges: Edge[], within: (p: string) => boolean): string[] {
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

export function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const full = join(dir, d.name);
    if (d.isDirectory()) return sourceFiles(full);
    // Every extension tsc compiles here (NodeNext): .mts and .cts are modules like any other.
    return d.isFile() && /\.(ts|mts|cts|tsx)$/.test(d.name) && !/\.d\.[mc]?ts$/.test(d.name) ? [full] : [];
  });
}

export function check(files: Map<string, string>): { edges: Edge[]; violations: string[]; cycles: string[] } {
  const edges = [...files].flatMap(([path, source]) => importsOf(path, source, (p) => files.has(p)));
  return { edges, violations: violations(edges), cycles: cycles(edges, (p) => p.startsWith('server/')) };
}

/** The project's source files under `root`, by project path (e.g. server/app.ts). */
export function readTree(root: string = ROOT): Map<string, string> {
  const files = new Map<string, string>();
  for (const area of AREAS) {
    for (const full of sourceFiles(join(root, area))) files.set(relative(root, full).split(sep).join('/'), readFileSync(full, 'utf8'));
  }
  return files;
}
