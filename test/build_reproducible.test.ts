// The build is reproducible: two builds of the same commit, into two other folders, give byte-identical files,
// the client manifest included, and the same manifest as dist/web's (the build `npm run build` made). So anyone
// can rebuild a release and compare its manifest's SHA-256 with the one the root signed. The manifest lists each
// file with its true hash, and nothing in it depends on the time or the folder built into.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { validateBuiltManifest } from '../crypto/client-manifest.js';
import { webFileOf } from '../schema/page.js';

const BUILD = fileURLToPath(new URL('../client/web/build.js', import.meta.url));
const WEB = fileURLToPath(new URL('../web/', import.meta.url));
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

function files(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (d: string) => {
    for (const e of readdirSync(d).sort()) {
      const p = join(d, e);
      if (statSync(p).isDirectory()) walk(p);
      else out.set(relative(dir, p), readFileSync(p));
    }
  };
  walk(dir);
  return out;
}

t.test('two builds of one commit are byte-identical', { timeout: 300_000 }, async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'tipline-build-'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));
  const outs = [join(work, 'one'), join(work, 'two', 'deeper')];
  for (const [i, out] of outs.entries()) {
    // The second a little later and through the environment variable, so a time or a path would show.
    if (i === 1) await new Promise((r) => setTimeout(r, 1100));
    const r = spawnSync(process.execPath, i === 0 ? [BUILD, '--out', out] : [BUILD], { encoding: 'utf8', env: { ...process.env, ...(i === 1 ? { TIPLINE_WEB_OUT: out } : {}) } });
    t.equal(r.status, 0, r.stderr);
  }
  const [a, b] = outs.map(files);
  t.same([...a!.keys()], [...b!.keys()], 'the same files');
  t.ok(a!.has('client-manifest.json') && a!.has('assets/app.js.gz') && a!.has('es/index.html.gz'), 'the manifest and the gzip copies among them');
  for (const [name, bytes] of a!) t.ok(bytes.equals(b!.get(name)!), `${name}: byte-identical`);
  t.equal(sha(a!.get('client-manifest.json')!), sha(readFileSync(join(WEB, 'client-manifest.json'))), 'the manifest is the one npm run build wrote in dist/web');

  const manifest = validateBuiltManifest(JSON.parse(a!.get('client-manifest.json')!.toString('utf8')));
  for (const f of manifest.files) t.equal(f.sha256, sha(a!.get(webFileOf(f.path))!), `${f.path}: listed with its hash`);
  const listed = new Set(manifest.files.map((f) => webFileOf(f.path)));
  const unlisted = [...a!.keys()].filter((n) => !n.endsWith('.gz') && n !== 'client-manifest.json' && !listed.has(n));
  t.same(unlisted, [], 'every built file is in the manifest');
  t.same(manifest.files.filter((f) => f.template).map((f) => f.path).sort(), ['/', '/de/', '/es/'], 'only the pages are templates');
  t.notMatch(a!.get('client-manifest.json')!.toString('utf8'), /\d{4}-\d\d-\d\dT|\/tmp\/|tipline-build/, 'no time, no folder in the manifest');
  for (const [name, bytes] of a!) if (name.endsWith('.gz')) t.equal(bytes.readUInt32LE(4), 0, `${name}: no time in the gzip header`);
});
