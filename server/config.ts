import type { Kysely } from 'kysely';
import type { Database } from '../schema/db.js';
import { MAX_CHUNK_SIZE } from '../schema/wire.js';

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
  /** Most bytes that uploads in progress may claim together; past it new uploads are refused (503). */
  maxPendingBytes?: number;
  /** Most chunk bodies being received at once; past it a chunk is refused (503) before its body is read. */
  maxConcurrentChunks?: number;
  uploadTtlHours?: number;
  retentionDays?: number;
  /** The newsroom's root fingerprint (normalised); when set, only directories it signed are trusted. */
  rootFingerprint?: string | undefined;
  /** Called after a tip is committed and before it is acknowledged (PGlite: flush its WAL to disk). */
  afterCommit?: () => Promise<void>;
  /** The clock, replaceable in tests (retention, expiry, replay windows). */
  now?: () => Date;
}

export interface ResolvedConfig extends Required<Omit<ServerConfig, 'logStream' | 'rootFingerprint'>> {
  logStream: NodeJS.WritableStream;
  rootFingerprint: string | undefined;
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
  maxConcurrentChunks: 64,
  uploadTtlHours: 24,
  retentionDays: 30,
} as const;

export function resolveConfig(c: ServerConfig): ResolvedConfig {
  const chunk = c.uploadChunkSize ?? DEFAULTS.uploadChunkSize;
  // Clients trust the chunk size the server announces (and the wire schema bounds it): never announce a bad one.
  if (!Number.isSafeInteger(chunk) || chunk < 1 || chunk > MAX_CHUNK_SIZE) throw new RangeError(`uploadChunkSize must be an integer from 1 to ${MAX_CHUNK_SIZE}, got ${chunk}`);
  return {
    db: c.db,
    logStream: c.logStream ?? process.stdout,
    logLevel: c.logLevel ?? DEFAULTS.logLevel,
    powDifficulty: c.powDifficulty ?? DEFAULTS.powDifficulty,
    uploadChunkSize: chunk,
    maxEnvelopeBytes: c.maxEnvelopeBytes ?? DEFAULTS.maxEnvelopeBytes,
    maxPendingBytes: c.maxPendingBytes ?? DEFAULTS.maxPendingBytes,
    maxConcurrentChunks: c.maxConcurrentChunks ?? DEFAULTS.maxConcurrentChunks,
    uploadTtlHours: c.uploadTtlHours ?? DEFAULTS.uploadTtlHours,
    retentionDays: c.retentionDays ?? DEFAULTS.retentionDays,
    rootFingerprint: c.rootFingerprint,
    afterCommit: c.afterCommit ?? (async () => {}),
    now: c.now ?? (() => new Date()),
  };
}
