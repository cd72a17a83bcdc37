// `tipline keys sign-manifest --dir DIR`: the root signs the client manifest of THIS installation's build
// (dist/web/client-manifest.json, written by `npm run build`) into DIR/client-manifest.json, which `tipline
// serve --directory DIR/directory.json` publishes at /.well-known/tipline/client-manifest for `tipline
// verify-site`. It prints the built manifest's SHA-256: anyone who rebuilds the same commit gets the same one.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { signClientManifest, validateBuiltManifest, type BuiltManifest } from '../../../crypto/client-manifest.js';
import { initCrypto } from '../../../crypto/node.js';
import { CliError } from '../errors.js';
import { args, need, usage, wantsHelp, type Io } from '../args.js';
import { openKey, writeJson } from './keys.js';
import { MANIFEST_FILE, changedSinceBuild, sha256Hex } from '../../web/manifest.js';

const COMMAND = 'keys sign-manifest';
/** This installation's built page (this file is dist/client/cli/commands/sign-manifest.js). */
const BUILT_WEB = fileURLToPath(new URL('../../../web/', import.meta.url));

export const HELP = `usage: tipline keys sign-manifest --dir DIR

The root signs the client manifest of this installation's build (dist/web/client-manifest.json, written by
npm run build): every file the server sends a source's browser, its SHA-256 and the Content-Security-Policy
it is served with. Writes DIR/client-manifest.json; tipline serve --directory DIR/directory.json publishes it
at /.well-known/tipline/client-manifest, and tipline verify-site checks a served page against it.

Rebuild the same commit elsewhere and compare the SHA-256 printed here with that build's
dist/web/client-manifest.json before signing: the manifest is the same bytes for the same commit.

  --dir DIR    the keys folder holding root.key (asks for its passphrase; TIPLINE_PASSPHRASE works too)

example:  npm run build && tipline keys sign-manifest --dir keys`;

export async function run(argv: string[], io: Io): Promise<number> {
  if (wantsHelp(argv)) {
    io.say(HELP);
    return 0;
  }
  const { values } = args(COMMAND, argv, { dir: { type: 'string' } });
  const dir = need(COMMAND, values.dir, '--dir DIR', 'the keys folder that holds root.key');
  const rootPath = join(dir, 'root.key');
  if (!existsSync(rootPath)) throw usage(COMMAND, `no root key at ${rootPath}: --dir is the folder tipline keys init made`);
  await initCrypto();

  const builtPath = join(BUILT_WEB, MANIFEST_FILE);
  const builtBytes = (() => {
    try {
      return readFileSync(builtPath);
    } catch {
      throw new CliError(`no client manifest at ${builtPath}: run npm run build first`);
    }
  })();
  let built: BuiltManifest;
  try {
    built = validateBuiltManifest(JSON.parse(builtBytes.toString('utf8')));
  } catch (err) {
    throw new CliError(`${builtPath} is not a client manifest (${(err as Error).message}): run npm run build again`);
  }
  // Threat: signing a manifest the served files no longer match (a file edited after the build), which every
  // verify-site would then fail, or worse, a manifest written by hand.
  const changed = changedSinceBuild(BUILT_WEB, built);
  if (changed.length > 0) throw new CliError(`${BUILT_WEB} no longer matches its manifest (${changed.slice(0, 5).join(', ')}): run npm run build again`);

  const root = await openKey(rootPath, 'root', 'root key');
  const signed = signClientManifest(built, new Date(), root);

  const out = join(dir, MANIFEST_FILE);
  writeJson(out, signed);
  io.say(`client manifest signed: ${out}`);
  io.say(`files: ${built.files.length} (version ${built.version})`);
  io.say(`sha256 of ${builtPath}: ${sha256Hex(builtBytes)}`);
  io.say(`publish it: tipline serve --directory ${join(dir, 'directory.json')} (or send a running serve SIGHUP)`);
  return 0;
}
