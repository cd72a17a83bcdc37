// `tipline verify-site --socks` through a private Tor network on loopback (test/helpers/tor-network.ts): a real
// `tipline serve --directory DIR/directory.json` publishes the client manifest `tipline keys sign-manifest`
// signed beside it, behind deploy/torrc's public onion service, and verify-site checks every file through the
// onion as Tor Browser would fetch them. Without tor the test is skipped and says so; with CI=true it runs.
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, startCliServer } from './helpers/cli.js';
import { quickKeysInit } from './helpers/quick-keys.js'; // keys init made once per test run, at the least KDF cost
import { IN_CI, seedPglite } from './helpers/databases.js';
import { freePorts, hasTor, startTorNetwork, type TorNetwork } from './helpers/tor-network.js';

const SOURCE = 'tipline-source';
const torSkip = hasTor() ? false : IN_CI ? false : 'tor not installed (apt-get install tor): verify-site through an onion service is skipped';

t.test('verify-site --socks passes against the public onion', { timeout: 480_000, skip: torSkip }, async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'tipline-verify-tor-'));
  let net: TorNetwork | undefined;
  let server: Awaited<ReturnType<typeof startCliServer>> | undefined;
  t.teardown(async () => {
    await net?.stop();
    server?.child.kill('SIGKILL');
    rmSync(work, { recursive: true, force: true });
  });
  const keys = join(work, 'keys');
  const init = await quickKeysInit(keys);
  t.equal(init.code, 0, init.stderr);
  const fingerprint = /fingerprint: (.+)/.exec(init.stdout)![1]!;
  const signed = await runCli(['keys', 'sign-manifest', '--dir', keys]);
  t.equal(signed.code, 0, signed.stderr);
  await seedPglite(join(work, 'data', 'pg'));
  const [publicPort, staffPort] = await freePorts(2);
  net = await startTorNetwork({
    targets: { [SOURCE]: publicPort! },
    readyTimeoutMs: 150_000,
    log: (l) => t.comment(l),
    beforeStart: async () => {
      server = await startCliServer(['--port', String(publicPort), '--staff-port', String(staffPort), '--data', join(work, 'data'), '--directory', join(keys, 'directory.json'), '--fingerprint', fingerprint], { DATABASE_URL: '', TIPLINE_POW_DIFFICULTY: '10', TIPLINE_LOG_LEVEL: 'warn' });
    },
  });
  t.match(server!.output(), /client-manifest: .*published/, 'tipline serve published the signed manifest found beside the directory');
  const onion = `http://${net.onions[SOURCE]!}`;

  const direct = await runCli(['verify-site', onion, '--fingerprint', fingerprint]);
  t.equal(direct.code, 2, 'an onion without --socks is refused (never looked up in DNS)');
  t.match(direct.stderr, /needs Tor: add --socks/);

  const r = await runCli(['verify-site', onion, '--fingerprint', fingerprint, '--socks', `127.0.0.1:${net.socksPort}`], { timeoutMs: 240_000 });
  t.comment(r.stdout);
  t.equal(r.code, 0, `exit 0${r.stderr ? `: ${r.stderr}` : ''}`);
  for (const p of ['/.well-known/tipline/client-manifest', '/', '/es/', '/de/', '/assets/app.js', '/assets/worker.js', '/assets/style.css']) t.match(r.stdout, new RegExp(`^PASS ${p.replace(/[./]/g, '\\$&')}: `, 'm'), `PASS ${p} through the onion`);
  t.notMatch(r.stdout, /^FAIL/m);
  t.match(r.stdout, new RegExp(`verify-site: PASS: \\d+ paths served by ${onion.replace(/[./]/g, '\\$&')} match`));
});
