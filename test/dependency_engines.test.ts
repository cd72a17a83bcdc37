// The Node versions package.json promises are ones every installed package accepts: `npm ci` on the oldest
// supported Node prints no EBADENGINE warning, and a dependency bump that needs a newer Node fails here.
import t from 'tap';
import { readFileSync } from 'node:fs';
import semver from 'semver';

const root = new URL('../../', import.meta.url);
const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as { engines: { node: string } };
const lock = JSON.parse(readFileSync(new URL('package-lock.json', root), 'utf8')) as {
  packages: Record<string, { version?: string; engines?: { node?: string } | string[]; optional?: boolean }>;
};

t.test('every package in the lockfile runs on the oldest supported Node', async (t) => {
  const oldest = semver.minVersion(pkg.engines.node);
  t.ok(oldest, `engines.node "${pkg.engines.node}" names a version`);
  const refusing: string[] = [];
  for (const [path, entry] of Object.entries(lock.packages)) {
    const range = entry.engines && !Array.isArray(entry.engines) ? entry.engines.node : undefined;
    if (path === '' || !range) continue;
    if (!semver.satisfies(oldest!, range, { includePrerelease: true })) refusing.push(`${path.replace(/^.*node_modules\//, '')}@${entry.version}: node ${range}`);
  }
  t.same(refusing, [], `packages that would print EBADENGINE on Node ${oldest}`);
});

t.test('the Node running the tests is a supported one', async (t) => {
  t.ok(semver.satisfies(process.version, pkg.engines.node), `${process.version} satisfies ${pkg.engines.node}`);
});
