// A private Tor network on loopback for tests, with Debian's tor: three directory authorities, two relays, the
// deployment's own onion services (deploy/torrc, with only its paths, target ports and log line rewritten, and
// the test-network settings added) and one client whose SOCKS port the test uses. The clients' SOCKS and control
// ports are chosen by tor itself (`auto`) and read back from its log; the relays' ports must be known before
// any tor starts (each torrc lists the authorities'), so they are free loopback ports, and should one be taken
// by a concurrent test before tor binds it ("Address already in use"), the whole network is started again on
// other ports (the onion addresses stay the same). Every file lives in one temporary folder, and every tor process started here is ended by stop(), by the
// process's exit, and (should this process be SIGKILLed) by tor itself: __OwningControllerProcess makes each
// one exit when the test process is gone.
//
// Reachable about 45-90 s after start: the authorities must vote a consensus (10 s intervals here) before the
// onion service can publish its descriptor and the client can fetch it.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository's deploy/torrc (this file is compiled to dist/test/helpers/). */
export const DEPLOY_TORRC = fileURLToPath(new URL('../../../deploy/torrc', import.meta.url));

export function hasTor(): boolean {
  const r = spawnSync('tor', ['--version'], { encoding: 'utf8' });
  const g = spawnSync('tor-gencert', ['--help'], { encoding: 'utf8' });
  return r.error === undefined && r.status === 0 && g.error === undefined;
}

// ---- torrc ---------------------------------------------------------------------------------------------

export interface TorrcLine {
  key: string;
  value: string;
}

/** torrc syntax as tor reads it for these files: `Key value`, `#` comments, blank lines. */
export function parseTorrc(text: string): TorrcLine[] {
  const out: TorrcLine[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*$/, '').trim();
    if (line === '') continue;
    const m = /^(\S+)\s*(.*)$/.exec(line);
    if (m) out.push({ key: m[1]!, value: m[2]!.trim() });
  }
  return out;
}

/** The lines before the first HiddenServiceDir, and each onion service's block (a HiddenServiceDir and the
 * HiddenService* lines up to the next one), keyed by the folder's last component ("tipline-source"). */
export function splitTorrc(lines: TorrcLine[]): { global: TorrcLine[]; services: Map<string, TorrcLine[]> } {
  const global: TorrcLine[] = [];
  const services = new Map<string, TorrcLine[]>();
  let current: TorrcLine[] | undefined;
  for (const l of lines) {
    if (l.key === 'HiddenServiceDir') {
      current = [l];
      services.set(basename(l.value.replace(/\/+$/, '')), current);
    } else if (current && l.key.startsWith('HiddenService')) {
      current.push(l);
    } else {
      // Tor reads a non-HiddenService option anywhere as global; so does this.
      global.push(l);
    }
  }
  return { global, services };
}

export interface ServiceRewrite {
  /** The loopback port this onion service's HiddenServicePort lines forward to instead of the deployed one. */
  target: number;
  /** Folder for its keys and hostname (made 0700 by the harness). */
  dir: string;
}

/**
 * The onion service host's torrc: deploy/torrc as deployed, keeping every option it sets (PoW defences, intro
 * point limits, stream limits, SocksPort 0, SafeLogging…), with only these rewritten: each HiddenServiceDir to
 * `dir`, each HiddenServicePort target to 127.0.0.1:`target` (the virtual port stays), `Log … syslog` to a
 * file. Services not named in `services` are left out. The test-network settings are appended by the caller.
 */
export function onionHostTorrc(deployTorrc: string, services: Record<string, ServiceRewrite>, logFile: string): string {
  const { global, services: deployed } = splitTorrc(parseTorrc(deployTorrc));
  const out: string[] = [];
  for (const l of global) {
    if (l.key === 'Log') out.push(`Log ${l.value.replace(/\s+syslog$/, ` file ${logFile}`)}`);
    else out.push(`${l.key} ${l.value}`);
  }
  for (const [name, rw] of Object.entries(services)) {
    const block = deployed.get(name);
    if (!block) throw new Error(`deploy/torrc has no onion service named ${name} (has: ${[...deployed.keys()].join(', ')})`);
    for (const l of block) {
      if (l.key === 'HiddenServiceDir') out.push(`HiddenServiceDir ${rw.dir}`);
      else if (l.key === 'HiddenServicePort') {
        const m = /^(\d+)\s+127\.0\.0\.1:\d+$/.exec(l.value);
        if (!m) throw new Error(`unexpected HiddenServicePort in deploy/torrc: ${l.value}`);
        out.push(`HiddenServicePort ${m[1]} 127.0.0.1:${rw.target}`);
      } else out.push(`${l.key} ${l.value}`);
    }
  }
  return `${out.join('\n')}\n`;
}

// ---- keys for client authorisation -----------------------------------------------------------------------

const B32 = 'abcdefghijklmnopqrstuvwxyz234567';
/** RFC 4648 base32, lower case, no padding: how tor writes x25519 keys in .auth files. */
export function base32(bytes: Uint8Array): string {
  let bits = 0;
  let value = 0;
  let out = '';
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += B32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += B32[(value << (5 - bits)) & 31];
  return out;
}

/** An x25519 key pair for onion client authorisation, as the base32 tor's .auth / .auth_private files hold. */
export function clientAuthKeys(): { publicB32: string; privateB32: string } {
  const { publicKey, privateKey } = generateKeyPairSync('x25519');
  const raw = (jwk: string | undefined) => Buffer.from(jwk ?? '', 'base64url');
  const pub = raw(publicKey.export({ format: 'jwk' }).x);
  const priv = raw(privateKey.export({ format: 'jwk' }).d);
  return { publicB32: base32(pub).toUpperCase(), privateB32: base32(priv).toUpperCase() };
}

/**
 * A v3 onion service identity made here rather than by tor, so its address is known before any tor starts (a
 * server that must know its own onion address can start first, not while seven tor processes compete for the
 * CPU). Written as tor writes it: hs_ed25519_secret_key holds the expanded (SHA-512, clamped) secret key.
 */
export function writeOnionKeys(dir: string): string {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const pub = Buffer.from(publicKey.export({ format: 'jwk' }).x ?? '', 'base64url');
  const seed = Buffer.from(privateKey.export({ format: 'jwk' }).d ?? '', 'base64url');
  const expanded = createHash('sha512').update(seed).digest();
  expanded[0]! &= 248;
  expanded[31]! &= 127;
  expanded[31]! |= 64;
  const header = (tag: string) => Buffer.concat([Buffer.from(`== ed25519v1-${tag}: type0 ==`), Buffer.alloc(3)]);
  writeFileSync(join(dir, 'hs_ed25519_secret_key'), Buffer.concat([header('secret'), expanded]), { mode: 0o600 });
  writeFileSync(join(dir, 'hs_ed25519_public_key'), Buffer.concat([header('public'), pub]), { mode: 0o600 });
  const version = Buffer.from([3]);
  const checksum = createHash('sha3-256').update(Buffer.concat([Buffer.from('.onion checksum'), pub, version])).digest().subarray(0, 2);
  return `${base32(Buffer.concat([pub, checksum, version]))}.onion`;
}

// ---- processes ---------------------------------------------------------------------------------------------

const started = new Set<ChildProcess>();
let exitHook = false;
function track(child: ChildProcess): void {
  started.add(child);
  child.once('exit', () => started.delete(child));
  if (!exitHook) {
    exitHook = true;
    // Whatever way the test process ends (a failed assertion, an exception, tap's timeout), no tor outlives it.
    process.once('exit', () => {
      for (const c of started) c.kill('SIGKILL');
    });
  }
}

export async function freePorts(n: number): Promise<number[]> {
  // All held open at once, so the n ports differ; closed just before tor binds them.
  const servers: Server[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const s = createServer();
      await new Promise<void>((resolve, reject) => s.once('error', reject).listen(0, '127.0.0.1', resolve));
      servers.push(s);
    }
    return servers.map((s) => (s.address() as { port: number }).port);
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
  }
}

function run(cmd: string, args: string[], opts: { cwd?: string; input?: string } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    track(child);
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`${cmd} ${args.join(' ')} exited with ${code}:\n${out}`));
    });
    child.stdin.end(opts.input ?? '');
  });
}

const privateDir = (dir: string): string => {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700); // tor refuses a DataDirectory or HiddenServiceDir others can read
  return dir;
};

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

// ---- the network ---------------------------------------------------------------------------------------------

export interface TorNetworkOptions {
  /** Onion services from deploy/torrc to run, by folder name, each with the loopback port it forwards to. */
  targets: Record<string, number>;
  /** Services that get client authorisation: an authorized_clients/<name>.auth file on the host, and the
   * private half in the client's ClientOnionAuthDir. */
  clientAuth?: string[];
  /** The deployment torrc to take the services from (default: the repository's deploy/torrc). */
  torrc?: string;
  /** How long to wait for every onion service to answer HTTP through the client (default 240 s: a loaded 2-core CI machine has taken more than 150). */
  readyTimeoutMs?: number;
  /** Called with the onion addresses before any tor starts: where a test starts the server that must know its
   * own onion address (the staff host its desks sign for). */
  beforeStart?: (onions: Record<string, string>) => Promise<void>;
  log?: (line: string) => void;
}

export interface TorNetwork {
  /** The client's SOCKS5 port on 127.0.0.1. */
  socksPort: number;
  /** The onion address ("…onion", no scheme) of each service. */
  onions: Record<string, string>;
  /** The onion host's torrc as generated (deploy/torrc plus rewrites). */
  onionTorrc: string;
  dir: string;
  /** Milliseconds from start: keys made, tor processes started, each onion first reachable. */
  timings: Record<string, number>;
  /** The last lines each tor logged, for a failure message. */
  logs(): string;
  /** Another client, holding no client-authorisation key, once it has bootstrapped; its SOCKS port. */
  addClient(name: string): Promise<number>;
  /** Ends every tor process this network started and removes its folder. Safe to call twice. */
  stop(): Promise<void>;
}

/** Settings that make a handful of tor processes on loopback a working network in about a minute. */
function testNetworkSettings(name: string, dir: string, dirAuthorities: string[], logs = true): string[] {
  return [
    'TestingTorNetwork 1',
    `DataDirectory ${dir}`,
    // The onion host's Log line is deploy/torrc's own, pointed at this same file.
    ...(logs ? [`Log notice file ${join(dir, 'notice.log')}`] : []),
    `__OwningControllerProcess ${process.pid}`,
    'ShutdownWaitLength 0',
    'AssumeReachable 1',
    // Every relay may be an HSDir, a guard and an exit at once: there are only five of them.
    'TestingDirAuthVoteHSDir *',
    'TestingDirAuthVoteGuard *',
    'TestingDirAuthVoteExit *',
    'TestingMinExitFlagThreshold 0',
    'TestingV3AuthInitialVotingInterval 10',
    'TestingV3AuthInitialVoteDelay 2',
    'TestingV3AuthInitialDistDelay 2',
    'V3AuthVotingInterval 10',
    'V3AuthVoteDelay 2',
    'V3AuthDistDelay 2',
    'TestingServerDownloadInitialDelay 0',
    'TestingClientDownloadInitialDelay 0',
    'TestingClientConsensusDownloadInitialDelay 0',
    `# ${name}`,
    ...dirAuthorities,
  ];
}

function relaySettings(nick: string, orPort: number, dirPort: number): string[] {
  return [`Nickname ${nick}`, `ORPort 127.0.0.1:${orPort}`, `DirPort 127.0.0.1:${dirPort}`, 'Address 127.0.0.1', 'SocksPort 0', 'ExitRelay 1', 'ExitPolicy accept 127.0.0.0/8:*,reject *:*'];
}

/** Tor's SOCKS5 replies, with the onion-service codes a SocksPort with ExtendedErrors gives (as Tor Browser's). */
export const SOCKS_REPLIES: Record<number, string> = {
  0x01: 'general failure',
  0x04: 'host unreachable',
  0x05: 'connection refused',
  0x06: 'TTL expired',
  0xf0: 'onion service descriptor can not be found',
  0xf1: 'onion service descriptor is invalid',
  0xf2: 'onion service introduction failed',
  0xf3: 'onion service rendezvous failed',
  0xf4: 'onion service missing client authorization',
  0xf5: 'onion service wrong client authorization',
  0xf6: 'onion service invalid address',
  0xf7: 'onion service introduction timed out',
};

export class SocksReplyError extends Error {
  constructor(readonly reply: number) {
    super(`SOCKS reply 0x${reply.toString(16)}: ${SOCKS_REPLIES[reply] ?? 'unknown'}`);
  }
}

/** A SOCKS5 CONNECT to host:port with the name resolved by the proxy; the reply code is kept, where a general
 * SOCKS library maps Tor's extended codes to "unknown". */
export function socksConnect(socksPort: number, host: string, port: number, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(socksPort, '127.0.0.1');
    let got = Buffer.alloc(0);
    let stage: 'method' | 'reply' = 'method';
    const fail = (e: Error) => (clearTimeout(timer), socket.destroy(), reject(e));
    const timer = setTimeout(() => fail(new Error(`no SOCKS reply in ${timeoutMs} ms`)), timeoutMs);
    socket.once('error', fail);
    socket.once('close', () => fail(new Error('the SOCKS proxy closed the connection')));
    socket.once('connect', () => socket.write(Buffer.from([5, 1, 0])));
    const onData = (d: Buffer) => {
      got = Buffer.concat([got, d]);
      if (stage === 'method') {
        if (got.length < 2) return;
        if (got[0] !== 5 || got[1] !== 0) return fail(new Error('the SOCKS proxy refused "no authentication"'));
        got = got.subarray(2);
        stage = 'reply';
        const name = Buffer.from(host, 'ascii');
        socket.write(Buffer.concat([Buffer.from([5, 1, 0, 3, name.length]), name, Buffer.from([port >> 8, port & 255])]));
      }
      // Tor answers CONNECT with an IPv4 bound address: 10 bytes.
      if (stage === 'reply' && got.length >= 10) {
        socket.off('data', onData);
        if (got[1] !== 0) return fail(new SocksReplyError(got[1]!));
        clearTimeout(timer);
        socket.removeAllListeners('error').removeAllListeners('close');
        if (got.length > 10) socket.unshift(got.subarray(10));
        resolve(socket);
      }
    };
    socket.on('data', onData);
  });
}

/** One HTTP status line from `onion`:80 through the SOCKS port, or an error; bounded by `timeoutMs`. */
export async function probeOnion(socksPort: number, onion: string, timeoutMs: number): Promise<string> {
  const t0 = Date.now();
  const socket = await socksConnect(socksPort, onion, 80, timeoutMs);
  try {
    return await new Promise<string>((resolve, reject) => {
      let got = '';
      const timer = setTimeout(() => reject(new Error('no HTTP answer')), Math.max(1, timeoutMs - (Date.now() - t0)));
      socket.on('data', (d: Buffer) => {
        got += d.toString('latin1');
        const nl = got.indexOf('\r\n');
        if (nl >= 0) {
          clearTimeout(timer);
          resolve(got.slice(0, nl));
        }
      });
      socket.on('error', (e) => (clearTimeout(timer), reject(e)));
      socket.on('close', () => (clearTimeout(timer), reject(new Error(`closed before an answer (${JSON.stringify(got.slice(0, 40))})`))));
      socket.write(`HEAD / HTTP/1.1\r\nHost: ${onion}\r\nConnection: close\r\n\r\n`);
    });
  } finally {
    socket.destroy();
  }
}

/** Sends control-port commands (cookie authentication) and resolves with the replies; each must be 250. */
export function torControl(port: number, cookieFile: string, commands: string[], timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let got = '';
    const timer = setTimeout(() => (socket.destroy(), reject(new Error(`tor control: no answer in ${timeoutMs} ms`))), timeoutMs);
    const lines = [`AUTHENTICATE ${readFileSync(cookieFile).toString('hex')}`, ...commands, 'QUIT'];
    socket.once('connect', () => socket.write(lines.map((l) => `${l}\r\n`).join('')));
    socket.on('data', (d: Buffer) => (got += d.toString('latin1')));
    socket.once('error', (e) => (clearTimeout(timer), reject(e)));
    socket.once('close', () => {
      clearTimeout(timer);
      const bad = got.split('\r\n').find((l) => /^[45]\d\d /.test(l));
      if (bad) reject(new Error(`tor control: ${bad}`));
      else resolve(got);
    });
  });
}

/** A relay's port taken between freePorts() and tor's bind. */
const BIND_FAILURE = /Address already in use|Could not bind/;
const ONION_KEY_FILES = ['hs_ed25519_secret_key', 'hs_ed25519_public_key'];

/** The port tor opened for a `… auto` listener of `kind` ('Socks', 'Control'), read from its notice log. */
async function listenerPort(noticeLog: string, kind: string, alive: () => boolean, timeoutMs = 60_000): Promise<number> {
  const re = new RegExp(`Opened ${kind} listener connection \\(ready\\) on 127\\.0\\.0\\.1:(\\d+)`);
  const until = Date.now() + timeoutMs;
  for (;;) {
    const m = existsSync(noticeLog) ? re.exec(readFileSync(noticeLog, 'utf8')) : null;
    if (m) return Number(m[1]);
    if (!alive()) throw new Error(`tor exited before opening its ${kind} port`);
    if (Date.now() > until) throw new Error(`tor opened no ${kind} port in ${timeoutMs / 1000} s`);
    await sleep(100);
  }
}

export async function startTorNetwork(o: TorNetworkOptions): Promise<TorNetwork> {
  const log = o.log ?? (() => {});
  // The onion keys are made once, so the addresses (and a server started for them in beforeStart) survive a
  // restart on other ports.
  const keyDir = mkdtempSync(join(tmpdir(), 'tipline-tor-keys-'));
  try {
    const onions: Record<string, string> = {};
    for (const name of Object.keys(o.targets)) onions[name] = writeOnionKeys(privateDir(join(keyDir, name)));
    let before = false;
    const beforeStart = async () => {
      if (before) return;
      before = true;
      await o.beforeStart?.(onions);
    };
    for (let attempt = 1; ; attempt++) {
      try {
        return await startOnce(o, keyDir, onions, beforeStart);
      } catch (e) {
        if (attempt >= 3 || !BIND_FAILURE.test((e as Error).message)) throw e;
        log(`tor network: a port was taken before tor could bind it (attempt ${attempt}): starting again on other ports`);
      }
    }
  } finally {
    rmSync(keyDir, { recursive: true, force: true });
  }
}

async function startOnce(o: TorNetworkOptions, keyDir: string, onions: Record<string, string>, beforeStart: () => Promise<void>): Promise<TorNetwork> {
  const t0 = Date.now();
  const log = o.log ?? (() => {});
  const timings: Record<string, number> = {};
  const mark = (what: string) => {
    timings[what] = Date.now() - t0;
    log(`tor network: ${what} after ${(timings[what]! / 1000).toFixed(1)} s`);
  };
  const dir = mkdtempSync(join(tmpdir(), 'tipline-tor-'));
  const children: { name: string; child: ChildProcess; tail: string }[] = [];
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await Promise.all(
      children.map(
        ({ child }) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
            child.once('exit', () => (clearTimeout(timer), resolve()));
            child.kill('SIGTERM');
          }),
      ),
    );
    rmSync(dir, { recursive: true, force: true });
  };
  const logs = () =>
    children
      .map(({ name, tail }) => {
        const file = join(dir, name, 'notice.log');
        const notice = existsSync(file) ? readFileSync(file, 'utf8') : '';
        return `--- ${name}\n${(tail + notice).split('\n').slice(-15).join('\n')}`;
      })
      .join('\n');

  try {
    const ports = await freePorts(10);
    const orPort = (i: number) => ports[i]!;
    const dirPort = (i: number) => ports[5 + i]!;
    const empty = join(dir, 'empty-defaults'); // no /etc/tor/torrc-defaults of the host's
    writeFileSync(empty, '');

    // Authorities: a v3 identity and signing certificate (tor-gencert), and the relay identity fingerprint,
    // read from a configuration without TestingTorNetwork (which refuses to start with no DirAuthority yet).
    const auths = await Promise.all(
      [0, 1, 2].map(async (i) => {
        const d = privateDir(join(dir, `a${i}`));
        const keys = privateDir(join(d, 'keys'));
        await run('tor-gencert', ['--create-identity-key', '-m', '12', '-a', `127.0.0.1:${dirPort(i)}`, '--passphrase-fd', '0'], { cwd: keys, input: '\n' });
        await run('tor', ['--list-fingerprint', '--defaults-torrc', empty, '-f', '/dev/null', '--ignore-missing-torrc', '--DataDirectory', d, '--ORPort', String(orPort(i)), '--Address', '127.0.0.1', '--Nickname', `a${i}`, '--SocksPort', '0']);
        const v3 = /^fingerprint (\S+)/m.exec(readFileSync(join(keys, 'authority_certificate'), 'utf8'))?.[1];
        const fp = readFileSync(join(d, 'fingerprint'), 'utf8').trim().split(/\s+/)[1];
        if (!v3 || !fp) throw new Error(`authority a${i}: no fingerprint`);
        return `DirAuthority a${i} orport=${orPort(i)} no-v2 v3ident=${v3} 127.0.0.1:${dirPort(i)} ${fp}`;
      }),
    );
    mark('authority keys made');

    const torrcs = new Map<string, string[]>();
    for (const i of [0, 1, 2]) {
      torrcs.set(`a${i}`, [...testNetworkSettings(`a${i}`, join(dir, `a${i}`), auths), ...relaySettings(`a${i}`, orPort(i), dirPort(i)), 'AuthoritativeDirectory 1', 'V3AuthoritativeDirectory 1', `ContactInfo a${i}@test.invalid`]);
    }
    for (const i of [3, 4]) {
      privateDir(join(dir, `r${i}`));
      torrcs.set(`r${i}`, [...testNetworkSettings(`r${i}`, join(dir, `r${i}`), auths), ...relaySettings(`r${i}`, orPort(i), dirPort(i))]);
    }

    // The onion service host: deploy/torrc itself, rewritten. The test-network lines come after it; none of
    // them is an onion service option, so none overrides what deploy/torrc says about the services.
    const hsDir = privateDir(join(dir, 'hs'));
    const rewrites: Record<string, ServiceRewrite> = {};
    for (const [name, target] of Object.entries(o.targets)) rewrites[name] = { target, dir: privateDir(join(hsDir, name)) };
    const onionTorrc = onionHostTorrc(readFileSync(o.torrc ?? DEPLOY_TORRC, 'utf8'), rewrites, join(hsDir, 'notice.log'));
    torrcs.set('hs', [onionTorrc, ...testNetworkSettings('hs', hsDir, auths, false)]);

    // Client authorisation: the host lists the public half, the client holds the private half.
    const clientDir = privateDir(join(dir, 'client'));
    const authDir = privateDir(join(clientDir, 'onion-auth'));
    const authKeys = new Map<string, { publicB32: string; privateB32: string }>();
    for (const name of o.clientAuth ?? []) {
      const k = clientAuthKeys();
      authKeys.set(name, k);
      const authorized = privateDir(join(rewrites[name]!.dir, 'authorized_clients'));
      writeFileSync(join(authorized, 'test-desk.auth'), `descriptor:x25519:${k.publicB32}\n`, { mode: 0o600 });
    }

    const startTor = (name: string) => {
      const torrc = join(dir, name, 'torrc');
      writeFileSync(torrc, `${torrcs.get(name)!.join('\n')}\n`);
      const child = spawn('tor', ['--defaults-torrc', empty, '-f', torrc], { stdio: ['ignore', 'pipe', 'pipe'] });
      track(child);
      const entry = { name, child, tail: '' };
      const keep = (d: Buffer) => (entry.tail = (entry.tail + d.toString()).slice(-4000));
      child.stdout!.on('data', keep);
      child.stderr!.on('data', keep);
      child.once('exit', (code, signal) => {
        if (!stopped) log(`tor network: ${name} exited early (${signal ?? code})`);
      });
      children.push(entry);
    };
    for (const [name, rw] of Object.entries(rewrites)) {
      for (const f of ONION_KEY_FILES) {
        copyFileSync(join(keyDir, name, f), join(rw.dir, f));
        chmodSync(join(rw.dir, f), 0o600);
      }
    }
    await beforeStart();

    for (const name of ['a0', 'a1', 'a2', 'r3', 'r4', 'hs']) startTor(name);
    // Tor writes each address as soon as it has loaded the keys: it must be the one computed above.
    for (const [name, rw] of Object.entries(rewrites)) {
      const file = join(rw.dir, 'hostname');
      for (let i = 0; !existsSync(file) || readFileSync(file, 'utf8').trim() === ''; i++) {
        if (i > 300) throw new Error(`no onion address for ${name} after 30 s`);
        if (children.find((c) => c.name === 'hs')!.child.exitCode !== null) throw new Error('the onion service host exited');
        await sleep(100);
      }
      const written = readFileSync(file, 'utf8').trim();
      if (written !== onions[name]) throw new Error(`tor made ${written} of ${name}'s keys, not ${onions[name]}`);
    }
    for (const [name, k] of authKeys) {
      writeFileSync(join(authDir, `${name}.auth_private`), `${onions[name]!.replace(/\.onion$/, '')}:descriptor:x25519:${k.privateB32}\n`, { mode: 0o600 });
    }
    // ExtendedErrors, as Tor Browser's tor has: onion-service failures get their own SOCKS reply codes.
    torrcs.set('client', [...testNetworkSettings('client', clientDir, auths), 'SocksPort 127.0.0.1:auto ExtendedErrors', `ClientOnionAuthDir ${authDir}`, 'ControlPort 127.0.0.1:auto', 'CookieAuthentication 1']);
    startTor('client');
    const clientAlive = () => children.find((c) => c.name === 'client')!.child.exitCode === null;
    const socksPort = await listenerPort(join(clientDir, 'notice.log'), 'Socks', clientAlive);
    const controlPort = await listenerPort(join(clientDir, 'notice.log'), 'Control', clientAlive);
    mark('tor processes started');

    // Reachable: an HTTP answer from every onion through the client, as a source's first request would get.
    // Bounded from here: the keys and the caller's server above have had their time.
    const readyMs = o.readyTimeoutMs ?? 240_000;
    const deadline = Date.now() + readyMs;
    let newnymAt = 0;
    for (const [name, onion] of Object.entries(onions)) {
      let last = '';
      for (;;) {
        const dead = children.find((c) => c.child.exitCode !== null || c.child.signalCode !== null);
        if (dead) throw new Error(`tor ${dead.name} exited (${dead.child.exitCode ?? dead.child.signalCode})`);
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`${name} (${onion}) not reachable ${(readyMs / 1000).toFixed(0)} s after tor started: ${last}`);
        const tried = Date.now();
        try {
          const status = await probeOnion(socksPort, onion, Math.min(30_000, left));
          if (/^HTTP\/1\.[01] \d{3}/.test(status)) break;
          last = `answered ${JSON.stringify(status)}`;
        } catch (e) {
          last = (e as Error).message;
          // Asked too early (the descriptor not yet published), the client has tried every HSDir and will not
          // ask them again for many minutes ("No more HSDir available to query"). NEWNYM forgets that; tor
          // takes it at most once every 10 s.
          if (e instanceof SocksReplyError && e.reply === 0xf0 && Date.now() - newnymAt > 10_000) {
            newnymAt = Date.now();
            log(`tor network: ${name}: descriptor not found yet; NEWNYM so the client asks the HSDirs again`);
            await torControl(controlPort, join(clientDir, 'control_auth_cookie'), ['SIGNAL NEWNYM']).catch((err: Error) => log(`tor network: NEWNYM failed: ${err.message}`));
          }
        }
        await sleep(Math.max(0, 2_000 - (Date.now() - tried)));
      }
      mark(`${name} reachable`);
    }
    const addClient = async (name: string): Promise<number> => {
      if (torrcs.has(name)) throw new Error(`tor ${name} exists already`);
      const d = privateDir(join(dir, name));
      torrcs.set(name, [...testNetworkSettings(name, d, auths), 'SocksPort 127.0.0.1:auto ExtendedErrors']);
      startTor(name);
      const notice = join(d, 'notice.log');
      const port = await listenerPort(notice, 'Socks', () => children.find((c) => c.name === name)!.child.exitCode === null);
      const until = Date.now() + 90_000;
      while (!(existsSync(notice) && /Bootstrapped 100%/.test(readFileSync(notice, 'utf8')))) {
        if (Date.now() > until) throw new Error(`client ${name} did not bootstrap in 90 s\n${logs()}`);
        await sleep(250);
      }
      return port;
    };
    return { socksPort, onions, onionTorrc, dir, timings, logs, addClient, stop };
  } catch (e) {
    const detail = logs();
    await stop();
    throw new Error(`${(e as Error).message}\n${detail}`);
  }
}
