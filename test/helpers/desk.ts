// A newsroom for desk app tests (keys made by the real CLI, a real server on PGlite or PostgreSQL) and the real
// `tipline desk` started as a child process, with raw HTTP to its local server (node:http, so any Host header can
// be sent, as a rebinding page's browser would).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, cliEnv, runCli } from './cli.js';
import { startServer, type TestServer } from './server.js';
import type { Dialect } from './databases.js';
import { publishDirectory } from '../../server/directory.js';

export interface Newsroom {
  work: string;
  keys: string;
  fp: string;
  deskKey: string;
  server: TestServer;
  store: Awaited<ReturnType<Dialect['open']>>;
  close(): Promise<void>;
}

export async function newsroom(dialect: Dialect, name = 'Desk Ana'): Promise<Newsroom> {
  const work = mkdtempSync(join(tmpdir(), 'tipline-desk-'));
  const keys = join(work, 'keys');
  const init = await runCli(['keys', 'init', '--dir', keys, '--name', name]);
  if (init.code !== 0) throw new Error(init.stderr);
  const fp = /fingerprint: (.+)/.exec(init.stdout)![1]!.trim();
  const deskKey = join(keys, readdirSync(keys).find((f) => f.endsWith('.key') && !['root.key', 'signing.key'].includes(f))!);
  const store = await dialect.open();
  await publishDirectory(store.db, JSON.parse(readFileSync(join(keys, 'directory.json'), 'utf8')), new Date());
  const server = await startServer({ db: store.db });
  return {
    work,
    keys,
    fp,
    deskKey,
    server,
    store,
    async close() {
      await server.close();
      await store.drop();
      rmSync(work, { recursive: true, force: true });
    },
  };
}

export interface RunningDesk {
  child: ChildProcess;
  url: string;
  port: number;
  secret: string;
  output: () => string;
  stop(): Promise<number | null>;
}

export function startDesk(args: string[], env: Record<string, string> = {}): Promise<RunningDesk> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'desk', ...args], { env: cliEnv({ TIPLINE_PASSPHRASE: 'correct horse battery staple', TIPLINE_PROGRESS: '0', ...env }), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`tipline desk did not start:\n${out}`));
    }, 120_000);
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /open: +(http:\/\/127\.0\.0\.1:(\d+)\/([A-Za-z0-9_-]+)\/)/.exec(out);
      if (m) {
        clearTimeout(timer);
        child.stdout!.off('data', onData);
        child.stdout!.on('data', (x: Buffer) => (out += x.toString()));
        resolve({
          child,
          url: m[1]!,
          port: Number(m[2]),
          secret: m[3]!,
          output: () => out,
          stop: async () => {
            child.kill('SIGTERM');
            return exited;
          },
        });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`tipline desk exited with ${code}:\n${out}`));
    });
  });
}

export interface RawAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  json: () => any;
}

/** One HTTP request to 127.0.0.1:port with exactly these headers (Host included). */
export function raw(port: number, path: string, o: { method?: string; headers?: Record<string, string>; body?: string | Buffer; host?: string } = {}): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: o.host ?? '127.0.0.1', port, path, method: o.method ?? 'GET', headers: { Host: `127.0.0.1:${port}`, ...o.headers }, setHost: false }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => {
        const body = Buffer.concat(parts);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json: () => JSON.parse(body.toString('utf8')) });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(o.body);
  });
}

/** A request the desk's own page would send: right Host, Origin, Sec-Fetch-Site, JSON. */
export function api(d: RunningDesk, path: string, o: { method?: string; body?: unknown } = {}): Promise<RawAnswer> {
  const headers: Record<string, string> = { Origin: `http://127.0.0.1:${d.port}`, 'Sec-Fetch-Site': 'same-origin' };
  if (o.body !== undefined) headers['Content-Type'] = 'application/json';
  return raw(d.port, `/${d.secret}/api/${path}`, { method: o.method ?? 'GET', headers, ...(o.body !== undefined ? { body: JSON.stringify(o.body) } : {}) });
}
