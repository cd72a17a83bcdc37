// A throwaway PostgreSQL cluster a test may stop and start at will, made with Debian's initdb and pg_ctl in a
// temporary folder, listening on a free loopback port. The shared server on 5432 is never touched: stopping it
// would break every other test running on the machine.
import { execFile, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { IN_CI } from './databases.js';

/** Debian's server binaries: the newest installed major version, unless TIPLINE_TEST_PG_BIN names a folder. */
function findBin(): string {
  if (process.env.TIPLINE_TEST_PG_BIN) return process.env.TIPLINE_TEST_PG_BIN;
  const versions = existsSync('/usr/lib/postgresql') ? readdirSync('/usr/lib/postgresql').filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a)) : [];
  const found = versions.map((v) => `/usr/lib/postgresql/${v}/bin`).find((b) => existsSync(join(b, 'initdb')));
  return found ?? '/usr/lib/postgresql/15/bin';
}
const BIN = findBin();

/** Why no cluster can be made here, or undefined. With CI=true a missing initdb is a failure, not a skip. */
export function clusterSkip(): string | undefined {
  if (existsSync(join(BIN, 'initdb')) && existsSync(join(BIN, 'pg_ctl'))) return undefined;
  const why = `no initdb/pg_ctl in ${BIN} (apt install postgresql, or set TIPLINE_TEST_PG_BIN): throwaway-cluster tests skipped`;
  if (IN_CI) throw new Error(`CI=true but ${why}`);
  return why;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

export interface PgCluster {
  /** postgres://… of the cluster's `postgres` database (trust authentication, loopback only). */
  url: string;
  port: number;
  /** Stops the cluster: `fast` ends every session at once (as a restart or failover does), `immediate` is a crash. */
  stop(mode?: 'fast' | 'immediate'): Promise<void>;
  start(): Promise<void>;
  /** Stops it (if running) and removes its folder. */
  destroy(): Promise<void>;
}

const root = userInfo().uid === 0;

/** Runs a PostgreSQL tool as the `postgres` user when we are root (initdb and postgres refuse to run as root). */
function tool(name: string, args: string[], timeoutMs = 60_000): Promise<string> {
  const [cmd, argv] = root ? ['runuser', ['-u', 'postgres', '--', join(BIN, name), ...args]] : [join(BIN, name), args];
  return new Promise((resolve, reject) => {
    execFile(cmd, argv, { timeout: timeoutMs, cwd: tmpdir() }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${name} ${args.join(' ')} failed: ${err.message}\n${stdout}${stderr}`));
      else resolve(stdout + stderr);
    });
  });
}

export async function startCluster(): Promise<PgCluster> {
  const base = mkdtempSync(join(tmpdir(), 'tipline-pgcluster-'));
  if (root) {
    const pg = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
    const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
    chownSync(base, Number(pg.stdout.trim()), Number(gid.stdout.trim()));
  }
  const data = join(base, 'data');
  const log = join(base, 'log');
  await tool('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '--no-sync', '--encoding=UTF8', '--locale=C'], 120_000);
  const port = await freePort();
  // Loopback only, its socket in its own folder, no fsync (a test's data need not survive the machine).
  const opts = `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=${base} -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c shared_buffers=16MB -c max_connections=40`;
  const ctl = (args: string[]) => tool('pg_ctl', ['-D', data, ...args]);
  let running = false;
  const start = async () => {
    await ctl(['-o', opts, '-l', log, '-w', '-t', '60', 'start']);
    running = true;
  };
  const stop = async (mode: 'fast' | 'immediate' = 'fast') => {
    await ctl(['-m', mode, '-w', '-t', '60', 'stop']);
    running = false;
  };
  // A test that dies midway must not leave a postgres behind.
  const onExit = () => {
    if (!running) return;
    const argv = [join(BIN, 'pg_ctl'), '-D', data, '-m', 'immediate', 'stop'];
    spawnSync(root ? 'runuser' : argv[0]!, root ? ['-u', 'postgres', '--', ...argv] : argv.slice(1), { timeout: 20_000 });
  };
  process.once('exit', onExit);
  await start();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    stop,
    start,
    async destroy() {
      if (running) await stop('immediate').catch(() => {});
      process.removeListener('exit', onExit);
      rmSync(base, { recursive: true, force: true });
    },
  };
}
