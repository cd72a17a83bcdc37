// `tipline list`. CONTRACT stub (written by the lead; a helper implements it).
import type { Io } from '../args.js';
import { CliError } from '../errors.js';

export async function run(_argv: string[], _io: Io): Promise<number> {
  throw new CliError('tipline list is not built yet');
}
