// How busy the server is, as the flood controls need it: extra proof-of-work bits under load, whether to refuse
// new uploads or chunks, and how long a refused client should wait. One gauge per process (several instances on
// one database each price by their own load; nothing here is shared or stored).
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { statfsSync } from 'node:fs';
import type { LoadThresholds } from './config.js';

/** What the gauge lets through now: everything, chunks of uploads under way only, or nothing new. */
export type Pressure = 'ok' | 'soft' | 'hard';

export interface LoadGauge {
  /** Leading zero bits to add to every new challenge now (0 when idle; rises under load, falls back after). */
  powExtraBits(): number;
  /** Seconds a refused client should wait before trying again (the Retry-After header of a 429/503). */
  retryAfterSeconds(): number;
  /** Stops any timers the gauge runs. */
  close(): void;
  /** An upload was opened (its rate prices the next challenges). */
  noteOpen(): void;
  /** 'soft': refuse new uploads; 'hard': refuse chunks too. */
  pressure(): Pressure;
}

/** A gauge that never reports load (tests of other parts, and tools that build a context by hand). */
export function idleGauge(): LoadGauge {
  return { powExtraBits: () => 0, retryAfterSeconds: () => 5, close: () => {}, noteOpen: () => {}, pressure: () => 'ok' };
}

export interface Readings {
  loopDelayMs: number;
  rssBytes: number;
  /** Free bytes in the data folder, or undefined when there is none to watch. */
  diskFreeBytes: number | undefined;
}

/** What the process measures of itself; replaceable in tests (`probe`). */
export function processProbe(dataDir: string | undefined): { read(): Readings; close(): void } {
  const h: IntervalHistogram = monitorEventLoopDelay({ resolution: 20 });
  h.enable();
  return {
    read() {
      // Nanoseconds; the 99th percentile since the last reading, so one slow moment long past does not linger.
      const loopDelayMs = h.count > 0 ? h.percentile(99) / 1e6 : 0;
      h.reset();
      let diskFreeBytes: number | undefined;
      if (dataDir) {
        try {
          const s = statfsSync(dataDir);
          diskFreeBytes = s.bavail * s.bsize;
        } catch {
          diskFreeBytes = undefined;
        }
      }
      return { loopDelayMs, rssBytes: process.memoryUsage.rss(), diskFreeBytes };
    },
    close: () => h.disable(),
  };
}

export interface GaugeOptions {
  thresholds: LoadThresholds;
  now: () => Date;
  dataDir?: string | undefined;
  /** Replaces the process's own readings (tests). */
  probe?: { read(): Readings; close(): void };
  /** Told when the pressure changes (a log line for the operator: what was refused, and why). */
  onPressure?(p: Pressure, r: Readings): void;
}

export function processGauge(o: GaugeOptions): LoadGauge & { /** Takes a reading now (tests; a timer does it every sampleMs). */ sample(): void } {
  const t = o.thresholds;
  const probe = o.probe ?? processProbe(o.dataDir);
  let last: Readings = { loopDelayMs: 0, rssBytes: 0, diskFreeBytes: undefined };
  // The loop's delay counts only when it lasts: the lowest of the last few samples. One slow moment (a large
  // PGlite write blocks the loop; so does a garbage collection) must not turn sources away.
  const recentDelays: number[] = [];
  let loopDelayMs = 0;
  const pressure = (): Pressure => {
    const disk = last.diskFreeBytes;
    if (loopDelayMs >= t.loopDelayHardMs || last.rssBytes >= t.rssHardBytes || (disk !== undefined && disk <= t.diskHardFreeBytes)) return 'hard';
    if (loopDelayMs >= t.loopDelaySoftMs || last.rssBytes >= t.rssSoftBytes || (disk !== undefined && disk <= t.diskSoftFreeBytes)) return 'soft';
    return 'ok';
  };

  let reported: Pressure = 'ok';
  const sample = () => {
    last = probe.read();
    recentDelays.push(last.loopDelayMs);
    if (recentDelays.length > t.loopDelaySamples) recentDelays.shift();
    loopDelayMs = recentDelays.length < t.loopDelaySamples ? 0 : Math.min(...recentDelays);
    const p = pressure();
    if (p !== reported) o.onPressure?.(p, { ...last, loopDelayMs });
    reported = p;
  };
  sample();
  const timer = setInterval(sample, t.sampleMs);
  timer.unref();

  // Opens per whole second of the (injectable) clock, over the last windowSeconds: a ring of counters, so a
  // flood costs a few bytes of memory, not one entry per request.
  const buckets = new Map<number, number>();
  const second = () => Math.floor(o.now().getTime() / 1000);
  const opensPerSecond = () => {
    const nowS = second();
    let n = 0;
    for (const [s, c] of buckets) {
      if (s <= nowS - t.windowSeconds) buckets.delete(s);
      else n += c;
    }
    return n / t.windowSeconds;
  };

  return {
    noteOpen() {
      const s = second();
      buckets.set(s, (buckets.get(s) ?? 0) + 1);
      if (buckets.size > t.windowSeconds + 1) opensPerSecond(); // drops old seconds
    },
    powExtraBits() {
      // Each doubling of the open rate past the free rate adds a bit (a flood pays for itself, more as it
      // grows); a busy event loop adds two. Both fall back as the window slides past the burst.
      const rate = opensPerSecond();
      let bits = rate > t.opensPerSecondFree ? Math.floor(Math.log2(rate / t.opensPerSecondFree)) + 1 : 0;
      if (loopDelayMs >= t.loopDelaySoftMs) bits += 2;
      return Math.min(bits, t.maxExtraBits);
    },
    retryAfterSeconds() {
      // Long enough for a sample or two to show relief; longer when the server is really struggling.
      const p = pressure();
      return p === 'hard' ? 30 : p === 'soft' ? 15 : 5;
    },
    pressure,
    sample,
    close() {
      clearInterval(timer);
      probe.close();
    },
  };
}
