// A Tor-like link on loopback, for the benchmark (there is no netem here): a SOCKS5 front (as Tor's client
// port) or a plain TCP forwarder that adds a one-way delay to every byte, paces each direction to a shared
// bandwidth (one circuit carries all of a run's streams), and charges one round trip for each new connection
// (Tor answers a stream's CONNECT only after the exit has opened it). It counts connections and
// request/response round trips (turns: the client sends after the server spoke, or for the first time).
import { createServer, connect, type Server, type Socket } from 'node:net';

export interface LinkOptions {
  /** Added to every byte, each way. */
  oneWayMs: number;
  /** Bytes per second, each way, shared by all connections. */
  bytesPerSec: number;
}

export interface ConnStats {
  dest: string;
  opened: number;
  turns: number;
  /** When each turn began (the client's first bytes after the server spoke). */
  turnTimes: number[];
  up: number;
  down: number;
}

export interface LinkStats {
  connections: number;
  turns: number;
  bytesUp: number;
  bytesDown: number;
  /** Connections at the same time, at most. */
  maxOpen: number;
  /** performance.now() when the first of them was opened (NaN without any). */
  firstOpenedAt: number;
  /**
   * Round trips on the critical path: new connections and turns, where those that begin within half a round
   * trip of each other (connections opened side by side, requests sent in parallel) count once. A rough
   * measure, meant for short exchanges (a one-chunk tip), not for bulk transfers.
   */
  waves: number;
}

const SEGMENT = 16 * 1024;
/** Queued bytes per connection and direction past which the sender is paused (about twice the link's BDP). */
const HIGH_WATER = 1024 * 1024;

type Dir = 'up' | 'down';

class Pipe {
  private queue: { at: number; data: Buffer }[] = [];
  private queued = 0;
  private timer: NodeJS.Timeout | undefined;
  private ended = false;

  constructor(
    private readonly link: TorLink,
    private readonly dir: Dir,
    private readonly from: Socket,
    private readonly to: Socket,
    private readonly notBefore: () => number,
  ) {}

  push(data: Buffer): void {
    for (let off = 0; off < data.length; off += SEGMENT) {
      const seg = data.subarray(off, Math.min(data.length, off + SEGMENT));
      this.queue.push({ at: this.link.schedule(this.dir, seg.length, this.notBefore()), data: seg });
      this.queued += seg.length;
    }
    if (this.queued > HIGH_WATER) this.from.pause();
    this.arm();
  }

  end(): void {
    this.ended = true;
    this.arm();
  }

  private arm(): void {
    if (this.timer) return;
    const head = this.queue[0];
    if (!head) {
      if (this.ended && !this.to.destroyed) this.to.end();
      return;
    }
    this.timer = setTimeout(() => this.flush(), Math.max(0, head.at - performance.now()));
  }

  private flush(): void {
    this.timer = undefined;
    const t = performance.now();
    while (this.queue[0] && this.queue[0].at <= t + 1) {
      const { data } = this.queue.shift()!;
      this.queued -= data.length;
      if (!this.to.destroyed) this.to.write(data);
    }
    if (this.queued <= HIGH_WATER / 2 && this.from.isPaused()) this.from.resume();
    this.arm();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.queue = [];
  }
}

function waves(times: number[], within: number): number {
  let n = 0;
  let start = -Infinity;
  for (const t of [...times].sort((a, b) => a - b)) {
    if (t > start + within) {
      n++;
      start = t;
    }
  }
  return n;
}

export class TorLink {
  private readonly servers: Server[] = [];
  private readonly sockets = new Set<Socket>();
  private freeAt: Record<Dir, number> = { up: 0, down: 0 };
  private conns: ConnStats[] = [];
  private open = 0;
  private maxOpen = 0;

  constructor(readonly o: LinkOptions) {}

  get rttMs(): number {
    return 2 * this.o.oneWayMs;
  }

  /** When a segment of `bytes` handed over now (not before `notBefore`) reaches the far end. */
  schedule(dir: Dir, bytes: number, notBefore: number): number {
    const start = Math.max(performance.now(), this.freeAt[dir], notBefore);
    this.freeAt[dir] = start + (bytes / this.o.bytesPerSec) * 1000;
    return this.freeAt[dir] + this.o.oneWayMs;
  }

  /** Counters since the last reset, for connections to `destPort` (all when undefined). */
  stats(destPort?: number): LinkStats {
    const cs = this.conns.filter((c) => destPort === undefined || c.dest.endsWith(`:${destPort}`));
    return {
      connections: cs.length,
      turns: cs.reduce((n, c) => n + c.turns, 0),
      bytesUp: cs.reduce((n, c) => n + c.up, 0),
      bytesDown: cs.reduce((n, c) => n + c.down, 0),
      maxOpen: this.maxOpen,
      firstOpenedAt: cs.length > 0 ? Math.min(...cs.map((c) => c.opened)) : NaN,
      // A connection that never carried a request (a browser's spare one) kept no one waiting.
      waves: waves(cs.filter((c) => c.turns > 0).flatMap((c) => [c.opened, ...c.turnTimes]), this.rttMs / 2),
    };
  }

  /** Each connection's opening and turns, in ms after `t0` (for looking at where the time went). */
  timeline(t0: number, destPort?: number): string {
    return this.conns
      .filter((c) => destPort === undefined || c.dest.endsWith(`:${destPort}`))
      .map((c, i) => `#${i} opened ${(c.opened - t0).toFixed(0)} ms, turns at ${c.turnTimes.map((x) => (x - t0).toFixed(0)).join(', ')} ms; ${c.up} B up, ${c.down} B down`)
      .join('\n');
  }

  reset(): void {
    this.conns = [];
    this.maxOpen = this.open;
  }

  /** Closes every connection now open, as Tor does with streams left idle while a source types. */
  dropAll(): void {
    for (const s of this.sockets) s.destroy();
  }

  async close(): Promise<void> {
    this.dropAll();
    await Promise.all(this.servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
  }

  /** A SOCKS5 front (no authentication, or any user name and password: Tor's IsolateSOCKSAuth). */
  listenSocks(): Promise<number> {
    return this.listen((client) => this.socksHandshake(client));
  }

  /** A plain forwarder to one address; the first bytes wait one round trip (the new connection's cost). */
  listenForward(host: string, port: number): Promise<number> {
    return this.listen((client) => {
      const accepted = performance.now();
      const upstream = connect({ port, host, allowHalfOpen: true });
      this.join(client, upstream, `${host}:${port}`, () => accepted + this.rttMs, Buffer.alloc(0), accepted);
    });
  }

  private listen(onConnection: (s: Socket) => void): Promise<number> {
    const server = createServer({ allowHalfOpen: true }, (s) => {
      this.track(s);
      s.setNoDelay(true);
      onConnection(s);
    });
    this.servers.push(server);
    return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));
  }

  private track(s: Socket): void {
    this.sockets.add(s);
    s.on('close', () => this.sockets.delete(s));
    s.on('error', () => s.destroy());
  }

  private socksHandshake(client: Socket): void {
    const accepted = performance.now();
    let buf = Buffer.alloc(0);
    let stage: 'greeting' | 'auth' | 'request' = 'greeting';
    const fail = (code: number) => {
      client.end(Buffer.from([5, code, 0, 1, 0, 0, 0, 0, 0, 0]));
    };
    const onData = (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      for (;;) {
        if (stage === 'greeting') {
          if (buf.length < 2 || buf.length < 2 + buf[1]!) return;
          const methods = [...buf.subarray(2, 2 + buf[1]!)];
          buf = buf.subarray(2 + buf[1]!);
          const method = methods.includes(2) ? 2 : methods.includes(0) ? 0 : 0xff;
          client.write(Buffer.from([5, method]));
          if (method === 0xff) return void client.end();
          stage = method === 2 ? 'auth' : 'request';
        } else if (stage === 'auth') {
          if (buf.length < 2) return;
          const ulen = buf[1]!;
          if (buf.length < 3 + ulen) return;
          const plen = buf[2 + ulen]!;
          if (buf.length < 3 + ulen + plen) return;
          buf = buf.subarray(3 + ulen + plen);
          client.write(Buffer.from([1, 0]));
          stage = 'request';
        } else {
          if (buf.length < 5) return;
          if (buf[0] !== 5 || buf[1] !== 1) return fail(7);
          const atyp = buf[3]!;
          let host: string;
          let off: number;
          if (atyp === 1) {
            if (buf.length < 10) return;
            host = [...buf.subarray(4, 8)].join('.');
            off = 8;
          } else if (atyp === 3) {
            const n = buf[4]!;
            if (buf.length < 5 + n + 2) return;
            host = buf.subarray(5, 5 + n).toString('latin1');
            off = 5 + n;
          } else if (atyp === 4) {
            if (buf.length < 22) return;
            host = (buf.subarray(4, 20).toString('hex').match(/.{4}/g) ?? []).join(':');
            off = 20;
          } else return fail(8);
          const port = buf.readUInt16BE(off);
          const rest = buf.subarray(off + 2);
          client.off('data', onData);
          client.pause();
          const upstream = connect({ port, host, allowHalfOpen: true });
          upstream.once('error', () => fail(5));
          upstream.once('connect', () => {
            // Tor: the CONNECT is answered once the exit has opened the stream, a round trip later.
            setTimeout(() => {
              if (client.destroyed) return void upstream.destroy();
              client.write(Buffer.from([5, 0, 0, 1, 127, 0, 0, 1, 0, 0]));
              this.join(client, upstream, `${host}:${port}`, () => 0, rest, accepted);
              client.resume();
            }, this.rttMs);
          });
          return;
        }
      }
    };
    client.on('data', onData);
  }

  private join(client: Socket, upstream: Socket, dest: string, notBefore: () => number, early: Buffer, opened: number): void {
    this.track(upstream);
    upstream.setNoDelay(true);
    const c: ConnStats = { dest, opened, turns: 0, turnTimes: [], up: 0, down: 0 };
    this.conns.push(c);
    this.open++;
    this.maxOpen = Math.max(this.maxOpen, this.open);
    let last: Dir | undefined;
    const up = new Pipe(this, 'up', client, upstream, notBefore);
    const down = new Pipe(this, 'down', upstream, client, notBefore);
    const onUp = (d: Buffer) => {
      if (last !== 'up') {
        c.turns++;
        c.turnTimes.push(performance.now());
      }
      last = 'up';
      c.up += d.length;
      up.push(d);
    };
    client.on('data', onUp);
    upstream.on('data', (d: Buffer) => {
      last = 'down';
      c.down += d.length;
      down.push(d);
    });
    client.on('end', () => up.end());
    upstream.on('end', () => down.end());
    let closed = false;
    let halves = 0;
    const close = () => {
      if (closed) return;
      closed = true;
      this.open--;
      up.stop();
      down.stop();
      client.destroy();
      upstream.destroy();
    };
    // A reset on either side resets the other (queued bytes are dropped, as when a circuit fails); a clean
    // close of both sides ends the connection.
    const onClose = (hadError: boolean) => (hadError || ++halves === 2 ? close() : undefined);
    client.on('close', onClose);
    upstream.on('close', onClose);
    client.on('error', close);
    upstream.on('error', close);
    if (early.length > 0) onUp(early);
  }
}
