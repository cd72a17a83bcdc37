// `tipline keys rotate`: being built (issue 9). Stub: the owner replaces this file.
import { CliError } from '../errors.js';
import type { Io } from '../args.js';

export async function run(_argv: string[], _io: Io): Promise<number> {
  throw new CliError('not built yet');
}
