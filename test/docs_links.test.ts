// The documents are self-contained: a person who clones the repository can follow every link in its Markdown
// files (README, DESIGN, SECURITY, deploy/, crypto/ specs) to a file in the clone, never to one beside it or on
// the web; and the design document that README and SECURITY.md send people to is there.
import t from 'tap';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
// The repository's own files only: not what .gitignore keeps out (node_modules, dist, and what the quick start
// makes: keys, data, and inbox, whose fetched tips may well hold Markdown).
const SKIP = new Set([
  '.git',
  ...readFileSync(join(root, '.gitignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => /^[\w.-]+\/$/.test(l))
    .map((l) => l.slice(0, -1)),
]);

function markdownFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    if (dir === root && SKIP.has(name)) return [];
    if (name === 'node_modules') return [];
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return markdownFiles(path);
    return name.endsWith('.md') ? [path] : [];
  });
}

t.test('every Markdown link stays inside the repository and finds its file', async (t) => {
  const files = markdownFiles(root);
  t.ok(files.some((f) => relative(root, f) === 'DESIGN.md'), 'DESIGN.md is in the repository');
  t.ok(SKIP.has('inbox') && SKIP.has('keys') && SKIP.has('data'), 'what the quick start makes is ignored (.gitignore)');
  let links = 0;
  for (const file of files) {
    const text = readFileSync(file, 'utf8').replace(/```[\s\S]*?```/g, ''); // code blocks hold commands, not links
    for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      links++;
      const target = m[1]!.replace(/#.*$/, '');
      const where = `${relative(root, file)}: ${m[1]}`;
      t.notMatch(target, /^[a-z][a-z0-9+.-]*:/i, `${where}: not a link off the repository`);
      if (target === '' || /^[a-z][a-z0-9+.-]*:/i.test(target)) continue;
      const path = resolve(dirname(file), target);
      const inside = relative(root, path);
      t.notOk(inside.startsWith('..') || isAbsolute(inside), `${where}: inside the repository`);
      t.ok(existsSync(path), `${where}: the file exists`);
    }
  }
  t.ok(links > 5, `${links} links checked`);
});

t.test('README and SECURITY.md point to the design in the repository', async (t) => {
  for (const doc of ['README.md', 'SECURITY.md']) {
    const text = readFileSync(join(root, doc), 'utf8');
    t.match(text, /\]\(DESIGN\.md\)/, `${doc} links DESIGN.md`);
    t.notMatch(text, /\.\.\/shared|design\.md\)/, `${doc} has no link to a design outside the repository`);
  }
  const design = readFileSync(join(root, 'DESIGN.md'), 'utf8');
  // SECURITY.md's table is numbered by DESIGN.md's invariants.
  const security = readFileSync(join(root, 'SECURITY.md'), 'utf8');
  const rows = [...security.matchAll(/^\| (\d)\. /gm)].map((m) => Number(m[1]));
  const invariants = design.slice(design.indexOf('## Invariants')).split('\n## ')[0]!;
  const numbered = [...invariants.matchAll(/^(\d)\. /gm)].map((m) => Number(m[1]));
  t.same(rows, numbered, 'SECURITY.md has one row per invariant of DESIGN.md, in the same order');
});
