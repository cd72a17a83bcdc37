// The 256 MiB pipeline through the real CLI: `tipline keys init`, `tipline serve` (a child, PoW difficulty 0),
// `tipline submit --file` (encrypt + chunked upload) and `tipline fetch` (download + decrypt + write).
import { join } from 'node:path';
import { statSync } from 'node:fs';
import { CLI, log, resetPeak, runMeasured, sampleProc, spawnUntil, stopChild, type Measured, type ProcSample } from './util.js';
import { sha256File } from './baselines.js';

const PASSPHRASE = 'bench passphrase, not a secret';

export interface Stage {
  wallMs: number;
  client: Measured;
  serverPeakBytes: number;
  serverPeakIsPerStage: boolean;
  serverCpuSeconds: number;
}

export interface PipelineResult {
  db: string;
  envelopeBytes: number;
  serverIdleBytes: number;
  upload: Stage;
  fetch: Stage;
  fixedSubmit: Measured; // a message-only submit: node start-up, directory, PoW, 3 requests
  fixedFetch: Measured; // a fetch of one message-only tip: node start-up, key unlock (KDF), listing, one tiny tip
  verified: boolean;
}

function check(what: string, m: Measured): Measured {
  if (m.code !== 0) throw new Error(`${what} exited with ${m.code}:\n${m.stderr.slice(-2000)}\n${m.stdout.slice(-1000)}`);
  return m;
}

export async function keysInit(dir: string): Promise<string> {
  const r = check('keys init', await runMeasured([CLI, 'keys', 'init', '--dir', dir, '--name', 'desk'], { TIPLINE_PASSPHRASE: PASSPHRASE }, join(dir, '..', 'keys.time'), 60_000));
  const fp = /fingerprint: (\S.*)$/m.exec(r.stdout)?.[1];
  if (!fp) throw new Error(`no fingerprint in:\n${r.stdout}`);
  return fp.trim();
}

export async function pipeline(o: { label: string; work: string; keys: string; fingerprint: string; input: string; inputSha256: string; databaseUrl?: string }): Promise<PipelineResult> {
  const env: Record<string, string> = { TIPLINE_POW_DIFFICULTY: '0', TIPLINE_PASSPHRASE: PASSPHRASE, TIPLINE_PROGRESS: '0' };
  const serveEnv: Record<string, string> = { ...env, DATABASE_URL: o.databaseUrl ?? '' };
  // BENCH_PROFILE_DIR: write a V8 CPU profile of each `tipline serve` child there (for looking at where time goes).
  const prof = process.env.BENCH_PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}`, `--cpu-prof-name=serve-${o.label}.cpuprofile`] : [];
  const { child, match } = await spawnUntil([...prof, CLI, 'serve', '--port', '0', '--data', join(o.work, 'data'), '--directory', join(o.keys, 'directory.json')], serveEnv, /listening on (http:\/\/\S+)[\s\S]*staff API on (http:\/\/[^\s,]+)/);
  const url = match[1]!;
  const staffUrl = match[2]!; // desks fetch from the staff listener
  const pid = child.pid!;
  const out = join(o.work, 'out');
  try {
    const idle = sampleProc(pid);

    const stage = async (what: string, args: string[]): Promise<Stage> => {
      const perStage = resetPeak(pid);
      const s0 = sampleProc(pid) as ProcSample;
      const client = check(what, await runMeasured(args, env, join(o.work, `${what}.time`), 600_000));
      const s1 = sampleProc(pid) as ProcSample;
      return { wallMs: client.wallMs, client, serverPeakBytes: s1.hwmBytes, serverPeakIsPerStage: perStage, serverCpuSeconds: s1.cpuSeconds - s0.cpuSeconds };
    };
    log(`  [${o.label}] submitting ${o.input} ...`);
    const upload = await stage('submit', [CLI, 'submit', '--server', url, '--fingerprint', o.fingerprint, '-m', 'benchmark tip', '--file', o.input]);
    const envelopeBytes = Number(/stored: (\d+) bytes/.exec(upload.client.stdout)?.[1] ?? NaN);
    log(`  [${o.label}] fetching ...`);
    const fetch = await stage('fetch', [CLI, 'fetch', '--server', staffUrl, '--key', join(o.keys, 'desk.key'), '--out', out]);
    // Fixed costs, measured after the big tip so the timed fetch above only had the one tip to get.
    const fixedSubmit = check('submit (message only)', await runMeasured([CLI, 'submit', '--server', url, '--fingerprint', o.fingerprint, '-m', 'fixed-cost probe'], env, join(o.work, 'submit0.time'), 60_000));
    const fixedFetch = check('fetch (nothing new)', await runMeasured([CLI, 'fetch', '--server', staffUrl, '--key', join(o.keys, 'desk.key'), '--out', out], env, join(o.work, 'fetch0.time'), 60_000));

    // The fetched copy must be the input, byte for byte (checked after timing).
    const tipId = /tip id: (\S+)/.exec(upload.client.stdout)?.[1];
    const copy = join(out, tipId ?? 'missing', 'files', 'input.bin');
    const verified = statSync(copy).size === statSync(o.input).size && (await sha256File(copy)) === o.inputSha256;
    return { db: o.label, envelopeBytes, serverIdleBytes: idle?.rssBytes ?? NaN, upload, fetch, fixedSubmit, fixedFetch, verified };
  } finally {
    await stopChild(child);
  }
}
