// `tipline submit --socks` sends everything through a SOCKS5 proxy (Tor's, in real use; Debian's microsocks
// here) on one connection for the whole run (one Tor stream), and fails with one clear line when the proxy is
// not there.
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, startCliServer } from './helpers/cli.js';
import { quickKeysInit } from './helpers/quick-keys.js'; // keys init made once per test run, at the least KDF cost
import { IN_CI, seedPglite } from './helpers/databases.js';

const haveMicrosocks = spawnSync('sh', ['-c', 'command -v microsocks']).status === 0;

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

t.test('submit through a SOCKS5 proxy', { skip: !haveMicrosocks && !IN_CI ? 'microsocks not installed (apt-get install microsocks): SOCKS path not tested' : false }, async (t) => {
  t.ok(haveMicrosocks, 'microsocks is installed');
  const work = mkdtempSync(join(tmpdir(), 'tipline-socks-'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));
  const keys = join(work, 'keys');
  const init = await quickKeysInit(keys);
  const fp = /fingerprint: (.+)/.exec(init.stdout)![1]!;
  await seedPglite(join(work, 'data', 'pg'));
  const server = await startCliServer(['--port', '0', '--data', join(work, 'data'), '--directory', join(keys, 'directory.json')], { DATABASE_URL: '', TIPLINE_POW_DIFFICULTY: '6' });
  t.teardown(() => server.child.kill('SIGKILL'));
  const proxyPort = await freePort();
  const proxy = spawn('microsocks', ['-i', '127.0.0.1', '-p', String(proxyPort)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let proxyLog = '';
  proxy.stdout.on('data', (d) => (proxyLog += d));
  proxy.stderr.on('data', (d) => (proxyLog += d));
  t.teardown(() => proxy.kill('SIGKILL'));
  await new Promise((r) => setTimeout(r, 300));

  // Several chunks (the server's are 1 MiB): directory, challenge, the opening and the other chunks.
  const file = join(work, 'document.bin');
  writeFileSync(file, randomBytes(3 * 1024 * 1024 + 4321));
  const r = await runCli(['submit', '--server', server.url, '--fingerprint', fp, '-m', 'via socks', '--file', file, '--socks', `127.0.0.1:${proxyPort}`]);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /tip id: [a-z2-7]{26}/);
  t.ok(Number(/stored: (\d+) bytes/.exec(r.stdout)?.[1]) > 3 * 1024 * 1024, 'a tip of several chunks');
  const viaProxy = (proxyLog.match(/connected to 127\.0\.0\.1:\d+/g) ?? []).length;
  t.equal(viaProxy, 1, 'every request went through the proxy, on one connection for the whole run');

  const viaEnv = await runCli(['submit', '--server', server.url, '--fingerprint', fp, '-m', 'via ALL_PROXY'], { env: { ALL_PROXY: `socks5h://127.0.0.1:${proxyPort}` } });
  t.equal(viaEnv.code, 0, viaEnv.stderr);

  proxy.kill('SIGKILL');
  const dead = await runCli(['submit', '--server', server.url, '--fingerprint', fp, '-m', 'no proxy', '--socks', `127.0.0.1:${proxyPort}`, '--retry-for', '1']);
  // With the proxy gone the same command fails: it never went around the proxy.
  t.equal(dead.code, 1);
  t.match(dead.stderr, /^tipline: .*SOCKS proxy 127\.0\.0\.1:\d+/m, 'one clear line naming the proxy');
  t.equal(dead.stderr.trim().split('\n').filter((l) => l.startsWith('tipline:')).length, 1);
});
