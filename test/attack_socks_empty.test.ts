// Attack (on the user's intent): `--socks ""` (a shell variable that was not set: --socks "$TOR_SOCKS") was read
// as "no proxy", and the command sent the tip directly, from the user's own address, after asking for Tor. An
// empty --socks is now a usage error, before any connection.
import t from 'tap';
import { createServer, type Socket } from 'node:net';
import { runCli } from './helpers/cli.js';

t.test('submit, fetch and delete refuse an empty --socks without connecting anywhere', async (t) => {
  let connections = 0;
  const sockets = new Set<Socket>();
  // Stands for the tip line: it only counts who reaches it directly.
  const server = createServer((s) => {
    connections++;
    sockets.add(s);
    s.destroy();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => server.close());
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const runs: [string, string[]][] = [
    ['submit', ['submit', '--server', url, '--fingerprint', 'a'.repeat(32), '-m', 'x', '--retry-for', '1', '--socks', '']],
    ['submit --socks=', ['submit', '--server', url, '--fingerprint', 'a'.repeat(32), '-m', 'x', '--retry-for', '1', '--socks=']],
    ['fetch', ['fetch', '--server', url, '--key', '/dev/null', '--out', '/tmp/never-written', '--socks', '']],
    ['delete', ['delete', '--server', url, '--key', '/dev/null', '--socks', '', 'a'.repeat(26)]],
  ];
  for (const [what, args] of runs) {
    const r = await runCli(args, { timeoutMs: 30_000 });
    t.equal(r.code, 2, `${what}: a usage error (${r.stderr.trim().split('\n').pop()})`);
    t.match(r.stderr, /--socks/, `${what}: naming --socks`);
  }
  t.equal(connections, 0, 'nothing connected directly');
});
