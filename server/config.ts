import { readFileSync } from 'node:fs';
import { totalmem } from 'node:os';
import type { Kysely } from 'kysely';
import type { Database } from '../schema/db.js';
import { MAX_CHUNK_SIZE } from '../schema/wire.js';
import { POW_MAX_BASE_DIFFICULTY as POW_CLIENT_MAX_BASE } from '../crypto/pow.js';

export interface ServerConfig {
  db: Kysely<Database>;
  /** Where log lines go (one JSON object per line). Defaults to stdout. */
  logStream?: NodeJS.WritableStream;
  logLevel?: 'info' | 'warn' | 'error' | 'silent';
  /** Leading zero bits a proof-of-work must have for a one-chunk upload (bigger ones and load add bits). */
  powDifficulty?: number;
  /** Transport chunk size for uploads (bytes); every chunk but the last has exactly this length. */
  uploadChunkSize?: number;
  /** Largest envelope accepted (bytes). */
  maxEnvelopeBytes?: number;
  /** Most bytes that uploads in progress may have RECEIVED together (what they claim is not charged); past it
   * new uploads and chunks are refused (503 + Retry-After). */
  maxPendingBytes?: number;
  /** Most bytes of ciphertext that finished tips may hold together; an upload that would pass it is refused
   * (503 + Retry-After) when it opens and when it finishes. */
  maxStoredBytes?: number;
  /** Most chunk bodies being received at once; past it a chunk is refused (503) before its body is read. */
  maxConcurrentChunks?: number;
  /** Most chunk bodies of one upload being received at once (one flooder's upload cannot hold every slot). */
  maxConcurrentChunksPerUpload?: number;
  /** A body that sends fewer than minBodyBytesPerWindow bytes in any window of bodyRateWindowSeconds is cut off. */
  minBodyBytesPerWindow?: number;
  bodyRateWindowSeconds?: number;
  /** An upload that receives nothing for this long expires (each stored chunk pushes the expiry forward). */
  uploadIdleMinutes?: number;
  /** The longest an upload may stay open, however busy. */
  uploadTtlHours?: number;
  /** Days a tip is kept (its expiry day: received day + this); from the signed policy's retention.tips_days. */
  retentionDays?: number;
  /** Days a reply is kept after it is posted; the policy's retention.replies_days. */
  replyRetentionDays?: number;
  /** The retention values in force, shared by both listeners and changed in place when a newer signed policy is
   * applied (SIGHUP, server/policy-enforce.ts); when given, it decides retentionDays, replyRetentionDays and
   * uploadTtlHours. */
  liveRetention?: RetentionValues;
  /** The built page's folder (dist/web); tests serve a changed copy to prove verify-site notices. */
  webDir?: string | undefined;
  /** Reply fetches (262 KB answers) handled at once; more get 503 with Retry-After. */
  maxReplyFetches?: number;
  /** The newsroom's root fingerprint (normalised); when set, only directories it signed are trusted. */
  rootFingerprint?: string | undefined;
  /** Called after a tip is committed and before it is acknowledged (PGlite: flush its WAL to disk). */
  afterCommit?: () => Promise<void>;
  /** The clock, replaceable in tests (retention, expiry, replay windows, the load gauge's windows). */
  now?: () => Date;
  /** PGlite's data folder: the load gauge watches its free disk space. */
  dataDir?: string | undefined;
  /** Thresholds of the load gauge (server/load.ts). */
  load?: Partial<LoadThresholds>;
}

/** What the signed policy's retention decides (retention.tips_days, replies_days, uploads_hours). */
export interface RetentionValues {
  retentionDays: number;
  replyRetentionDays: number;
  uploadTtlHours: number;
}

/** When the server refuses work, and how proof-of-work is priced under load. "Soft" refuses new uploads; "hard"
 * refuses chunks too (an upload under way is worth more than a new one). */
export interface LoadThresholds {
  /** Event-loop delay (ms: the 99th percentile of each sample, the lowest over the last loopDelaySamples). */
  loopDelaySoftMs: number;
  loopDelayHardMs: number;
  loopDelaySamples: number;
  /** Resident memory (bytes). */
  rssSoftBytes: number;
  rssHardBytes: number;
  /** Free space in the data folder (bytes; PGlite only: PostgreSQL's disk is the database's to watch). */
  diskSoftFreeBytes: number;
  diskHardFreeBytes: number;
  /** How often the gauge samples (ms). */
  sampleMs: number;
  /** Opens per second (over windowSeconds) that cost no extra proof-of-work; each doubling past it adds a bit. */
  opensPerSecondFree: number;
  windowSeconds: number;
  /** The most bits load may add. */
  maxExtraBits: number;
}

export interface ResolvedConfig extends Required<Omit<ServerConfig, 'logStream' | 'rootFingerprint' | 'dataDir' | 'load' | 'webDir' | 'liveRetention'>> {
  webDir: string | undefined;
  logStream: NodeJS.WritableStream;
  rootFingerprint: string | undefined;
  dataDir: string | undefined;
  load: LoadThresholds;
}

export const DEFAULTS = {
  logLevel: 'info',
  // 11 bits of PBKDF2 attempts (2^22 HMAC-SHA256 iterations): about 1.5 s for a source at Tor Browser's
  // "Safer" level (WebCrypto is native there), about 1 s for a flooder's native code on the same two cores.
  // Clients refuse a base above 13.
  powDifficulty: 11,
  uploadChunkSize: 1024 * 1024,
  // 2 GiB of files plus manifest, padding (Padmé adds at most ~12 %) and chunk tags.
  maxEnvelopeBytes: 2.5 * 1024 ** 3,
  maxPendingBytes: 20 * 1024 ** 3,
  // Roughly 1,000 large tips, or 30 days of a busy desk's ordinary ones; set it to what the disk can hold.
  maxStoredBytes: 100 * 1024 ** 3,
  maxConcurrentChunks: 64,
  // The client keeps about 4 chunks in flight; twice that leaves room for retries on dropped circuits.
  maxConcurrentChunksPerUpload: 8,
  // About 4.3 KB/s: a slot held at the floor for the whole 180 s request timeout costs a flooder that much per
  // slot (64 slots: ~280 KB/s), while four chunks in flight over a 20 KB/s circuit still pass.
  minBodyBytesPerWindow: 64 * 1024,
  bodyRateWindowSeconds: 15,
  uploadIdleMinutes: 10,
  uploadTtlHours: 24,
  retentionDays: 30,
  replyRetentionDays: 30,
  maxReplyFetches: 8,
} as const;

/** The memory this process may use: its cgroup (v2) limit when it has one, else the machine's. */
function memoryLimit(): number {
  let limit = totalmem();
  try {
    // "0::/system.slice/tipline.service": the unit's own limit, not the root's (which has none).
    const path = /^0::(\/.*)$/m.exec(readFileSync('/proc/self/cgroup', 'utf8'))?.[1] ?? '/';
    const v = readFileSync(`/sys/fs/cgroup${path === '/' ? '' : path}/memory.max`, 'utf8').trim();
    if (/^\d+$/.test(v)) limit = Math.min(limit, Number(v));
  } catch {
    // No cgroup v2 here: the machine's memory it is.
  }
  return limit;
}

export const LOAD_DEFAULTS: LoadThresholds = {
  // Sustained (every sample for five seconds): answers are then seconds late for everyone, and Tor clients start
  // to give up. PGlite runs on this loop, so a busy machine alone can stall it for a second now and then.
  loopDelaySoftMs: 2000,
  loopDelayHardMs: 5000,
  loopDelaySamples: 5,
  // Of the memory this process may use (its cgroup's limit, e.g. the shipped unit's MemoryMax=2G, or the
  // machine's): refuse new uploads at 70 %, chunks at 85 %, before the kernel's OOM killer decides.
  rssSoftBytes: 0.7 * memoryLimit(),
  rssHardBytes: 0.85 * memoryLimit(),
  diskSoftFreeBytes: 4 * 1024 ** 3,
  diskHardFreeBytes: 1024 ** 3,
  sampleMs: 1000,
  opensPerSecondFree: 2,
  windowSeconds: 60,
  maxExtraBits: 6,
};

export function resolveConfig(c: ServerConfig): ResolvedConfig {
  const chunk = c.uploadChunkSize ?? DEFAULTS.uploadChunkSize;
  // Clients trust the chunk size the server announces (and the wire schema bounds it): never announce a bad one.
  if (!Number.isSafeInteger(chunk) || chunk < 1 || chunk > MAX_CHUNK_SIZE) throw new RangeError(`uploadChunkSize must be an integer from 1 to ${MAX_CHUNK_SIZE}, got ${chunk}`);
  // Clients refuse challenges above their cap (client/shared/api.ts): a base above it would lock every source out.
  const pow = c.powDifficulty ?? DEFAULTS.powDifficulty;
  if (!Number.isInteger(pow) || pow < 0 || pow > POW_CLIENT_MAX_BASE) throw new RangeError(`powDifficulty must be an integer from 0 to ${POW_CLIENT_MAX_BASE} (clients refuse harder challenges), got ${pow}`);
  const resolved: ResolvedConfig = {
    db: c.db,
    logStream: c.logStream ?? process.stdout,
    logLevel: c.logLevel ?? DEFAULTS.logLevel,
    powDifficulty: c.powDifficulty ?? DEFAULTS.powDifficulty,
    uploadChunkSize: chunk,
    maxEnvelopeBytes: c.maxEnvelopeBytes ?? DEFAULTS.maxEnvelopeBytes,
    maxPendingBytes: c.maxPendingBytes ?? DEFAULTS.maxPendingBytes,
    maxStoredBytes: c.maxStoredBytes ?? DEFAULTS.maxStoredBytes,
    maxConcurrentChunks: c.maxConcurrentChunks ?? DEFAULTS.maxConcurrentChunks,
    maxConcurrentChunksPerUpload: c.maxConcurrentChunksPerUpload ?? DEFAULTS.maxConcurrentChunksPerUpload,
    minBodyBytesPerWindow: c.minBodyBytesPerWindow ?? DEFAULTS.minBodyBytesPerWindow,
    bodyRateWindowSeconds: c.bodyRateWindowSeconds ?? DEFAULTS.bodyRateWindowSeconds,
    uploadIdleMinutes: c.uploadIdleMinutes ?? DEFAULTS.uploadIdleMinutes,
    uploadTtlHours: c.uploadTtlHours ?? DEFAULTS.uploadTtlHours,
    retentionDays: c.retentionDays ?? DEFAULTS.retentionDays,
    // Unset: as long as tips (what a server without a policy always did).
    replyRetentionDays: c.replyRetentionDays ?? c.retentionDays ?? DEFAULTS.replyRetentionDays,
    webDir: c.webDir,
    maxReplyFetches: c.maxReplyFetches ?? DEFAULTS.maxReplyFetches,
    rootFingerprint: c.rootFingerprint,
    afterCommit: c.afterCommit ?? (async () => {}),
    now: c.now ?? (() => new Date()),
    dataDir: c.dataDir,
    load: { ...LOAD_DEFAULTS, ...c.load },
  };
  // Read at each use, so a newer policy applied on SIGHUP reaches every route without rebuilding the listeners.
  const live = c.liveRetention;
  if (live) {
    for (const key of ['retentionDays', 'replyRetentionDays', 'uploadTtlHours'] as const) {
      Object.defineProperty(resolved, key, { get: () => live[key], enumerable: true });
    }
  }
  return resolved;
}
