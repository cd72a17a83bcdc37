#!/usr/bin/env node
// `tipline`: one CLI for the server, the source's command-line client and the newsroom.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { readFileSync } from 'node:fs';
import { initCrypto } from '../../crypto/node.js';
import { CliError, USAGE_EXIT } from './errors.js';
import { parseProxy } from './http.js';
import { printable } from './printable.js';

const USAGE = `usage: tipline <command> [options]

  serve   [--port N] [--host H] [--data DIR] [--directory FILE] [--fingerprint FP]
                                                                  run the tip line (DATABASE_URL selects PostgreSQL)
  keys init --dir DIR [--name NAME] [--days N]                    make the root key, a desk key and a signed directory
  keys add-desk --dir DIR --name NAME [--auditor] [--days N]       add a desk (or auditor) key and re-sign the directory
  submit  --server URL --fingerprint FP [--file PATH]... [--socks HOST:PORT] < message.txt   (or -m TEXT)
  fetch   --server URL --key FILE --out DIR [--socks HOST:PORT]   download and decrypt every tip not yet in DIR
  delete  --server URL --key FILE TIP_ID...                       delete tips from the server

Passphrases are read from TIPLINE_PASSPHRASE when set, otherwise asked for without echo.`;

const say = (s: string) => process.stdout.write(`${s}\n`);
const warn = (s: string) => process.stderr.write(`${s}\n`);

function args<const O extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: O, positionals = false) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: positionals as true, strict: true });
  } catch (err) {
    throw new CliError(`${(err as Error).message}\n${USAGE}`, USAGE_EXIT);
  }
}

function need(value: unknown, flag: string): string {
  if (typeof value !== 'string' || value === '') throw new CliError(`missing ${flag}\n${USAGE}`, USAGE_EXIT);
  return value;
}

function int(value: unknown, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new CliError(`${flag} must be a whole number`, USAGE_EXIT);
  return n;
}

/** Operator settings read from the environment (systemd `Environment=` lines). */
function serverTuning() {
  const env = process.env;
  const level = env.TIPLINE_LOG_LEVEL;
  if (level !== undefined && !['info', 'warn', 'error', 'silent'].includes(level)) throw new CliError('TIPLINE_LOG_LEVEL must be info, warn, error or silent', USAGE_EXIT);
  return {
    ...(env.TIPLINE_POW_DIFFICULTY ? { powDifficulty: Math.min(int(env.TIPLINE_POW_DIFFICULTY, 'TIPLINE_POW_DIFFICULTY', 14), 32) } : {}),
    ...(env.TIPLINE_RETENTION_DAYS ? { retentionDays: Math.max(1, int(env.TIPLINE_RETENTION_DAYS, 'TIPLINE_RETENTION_DAYS', 30)) } : {}),
    ...(level ? { logLevel: level as 'info' | 'warn' | 'error' | 'silent' } : {}),
  };
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    say(USAGE);
    return command ? 0 : USAGE_EXIT;
  }
  await initCrypto();
  switch (command) {
    case 'serve': {
      const { values } = args(rest, { port: { type: 'string' }, host: { type: 'string' }, data: { type: 'string' }, directory: { type: 'string' }, fingerprint: { type: 'string' } });
      const pin = values.fingerprint ?? process.env.TIPLINE_ROOT_FINGERPRINT;
      const { normalizeFingerprint } = await import('../../crypto/keys.js');
      const { serve, defaultDirectoryFile } = await import('../../server/serve.js');
      const server = await serve({
        host: values.host ?? '127.0.0.1',
        port: int(values.port, '--port', 8080),
        dataDir: values.data ?? 'data',
        databaseUrl: process.env.DATABASE_URL || undefined,
        directoryFile: values.directory ?? defaultDirectoryFile(),
        rootFingerprint: pin ? normalizeFingerprint(pin) : undefined,
        tuning: serverTuning(),
        say: warn,
      });
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      await server.close();
      return 0;
    }
    case 'keys': {
      const [sub, ...more] = rest;
      const { values } = args(more, { dir: { type: 'string' }, name: { type: 'string' }, days: { type: 'string' }, auditor: { type: 'boolean' } });
      const { keysInit, keysAdd } = await import('./commands/keys.js');
      const days = int(values.days, '--days', 365);
      if (sub === 'init') await keysInit(need(values.dir, '--dir'), values.name ?? 'desk', days, say);
      else if (sub === 'add-desk') await keysAdd(need(values.dir, '--dir'), need(values.name, '--name'), values.auditor ? 'auditor' : 'desk', days, say);
      else throw new CliError(`unknown keys command "${sub ?? ''}"\n${USAGE}`, USAGE_EXIT);
      return 0;
    }
    case 'submit': {
      const { values } = args(rest, {
        server: { type: 'string' }, fingerprint: { type: 'string' }, message: { type: 'string', short: 'm' },
        file: { type: 'string', multiple: true }, socks: { type: 'string' }, 'retry-for': { type: 'string' },
      });
      let message = values.message;
      if (message !== undefined) warn('note: -m leaves the message in your shell history and, while this runs, in the process list; piping it on standard input does not');
      if (message === undefined) {
        if (process.stdin.isTTY) throw new CliError('no message: give -m TEXT or pipe it on standard input', USAGE_EXIT);
        message = readFileSync(0, 'utf8');
      }
      const { submit } = await import('./commands/submit.js');
      const receipt = await submit({
        server: need(values.server, '--server'),
        fingerprint: need(values.fingerprint, '--fingerprint'),
        message,
        files: values.file ?? [],
        proxy: parseProxy(values.socks ?? process.env.ALL_PROXY),
        retryForMs: int(values['retry-for'], '--retry-for', 600) * 1000,
        say: warn,
      });
      say(`tip id: ${receipt.tip_id}`);
      say(`stored: ${receipt.size} bytes of ciphertext, received ${receipt.received_day} (the server keeps the day, not the time)`);
      say('Nothing about you was kept with it: no address, no browser details, no exact time.');
      return 0;
    }
    case 'fetch': {
      const { values } = args(rest, { server: { type: 'string' }, key: { type: 'string' }, out: { type: 'string' }, socks: { type: 'string' } });
      const { loadStaffKey } = await import('./keyfiles.js');
      const server = need(values.server, '--server');
      const out = need(values.out, '--out');
      const key = await loadStaffKey(need(values.key, '--key'));
      const { fetchAll } = await import('./commands/fetch.js');
      const r = await fetchAll({ server, key, out, proxy: parseProxy(values.socks ?? process.env.ALL_PROXY), say });
      say(`${r.fetched} fetched, ${r.skipped} already here, ${r.failed} failed`);
      return r.failed > 0 ? 1 : 0;
    }
    case 'delete': {
      const { values, positionals } = args(rest, { server: { type: 'string' }, key: { type: 'string' }, socks: { type: 'string' } }, true);
      if (positionals.length === 0) throw new CliError(`missing TIP_ID\n${USAGE}`, USAGE_EXIT);
      const { loadStaffKey } = await import('./keyfiles.js');
      const { Api } = await import('./api.js');
      const server = need(values.server, '--server');
      const key = await loadStaffKey(need(values.key, '--key'));
      const api = new Api(new URL(server), parseProxy(values.socks ?? process.env.ALL_PROXY));
      for (const id of positionals) {
        await api.deleteTip(key, id);
        say(`deleted ${id}`);
      }
      return 0;
    }
    default:
      throw new CliError(`unknown command "${command}"\n${USAGE}`, USAGE_EXIT);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof CliError) {
      warn(`tipline: ${err.message.split('\n').map((l) => printable(l, 2000)).join('\n')}`);
      process.exitCode = err.exitCode;
    } else if ((err as Error)?.name === 'NetworkError') {
      warn(`tipline: cannot reach the server: ${printable((err as Error).message)}`);
      process.exitCode = 1;
    } else {
      warn(`tipline: ${printable((err as Error)?.message ?? String(err))}`);
      process.exitCode = 1;
    }
  },
);
