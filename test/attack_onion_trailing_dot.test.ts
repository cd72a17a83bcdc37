// Attack: an onion address spelled with a trailing dot ("….onion." or "….onion%2e", both the same name to DNS
// and to Tor) slipped past the "an .onion address needs --socks" check: the command line then asked the local
// resolver for the onion name (telling it, and whoever watches it, which tip line this machine contacts) and
// tried to connect directly.
import t from 'tap';
import dns from 'node:dns';
import { runCli } from './helpers/cli.js';

const looked: string[] = [];
const lookup = dns.lookup;
// Records every name the process asks the resolver for; still resolves it (it fails: there is no such name).
dns.lookup = ((host: string, ...rest: unknown[]) => {
  looked.push(host);
  return (lookup as (...a: unknown[]) => unknown).call(dns, host, ...rest);
}) as typeof dns.lookup;
t.teardown(() => void (dns.lookup = lookup));

const { Api } = await import('../client/cli/api.js');
const { CliError } = await import('../client/cli/errors.js');

const ONION = 'abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz23.onion';

t.test('every spelling of an onion name is refused without --socks, before any lookup', async (t) => {
  for (const server of [`http://${ONION}/`, `http://${ONION}./`, `http://${ONION}%2e/`, `http://${ONION.toUpperCase()}./`, `http://${ONION}.:80/`]) {
    let api: InstanceType<typeof Api> | undefined;
    try {
      api = new Api(new URL(server));
    } catch (err) {
      t.ok(err instanceof CliError && /\.onion address needs Tor/.test(err.message), `${server}: refused (${(err as Error).message.slice(0, 40)}…)`);
      continue;
    }
    // Not refused: show what that costs (the name goes to the resolver), then fail.
    await api.source.pow().catch(() => {});
    await api.close();
    t.fail(`${server}: accepted without --socks`);
  }
  t.same(looked, [], 'no onion name was given to the resolver');
});

t.test('the command line refuses the trailing-dot spelling too', async (t) => {
  const r = await runCli(['submit', '--server', `${ONION}.`, '--fingerprint', 'a'.repeat(32), '-m', 'x', '--retry-for', '1'], { timeoutMs: 30_000 });
  t.equal(r.code, 2, r.stderr);
  t.match(r.stderr, /\.onion address needs Tor: add --socks/);
});
