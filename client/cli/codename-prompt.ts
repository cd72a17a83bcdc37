// A source's codename on the command line: from TIPLINE_CODENAME (scripts) or typed at a prompt that does not
// echo. Never an argument. Threat: a codename in argv is in the shell history and, while the command runs, in
// the process list every local user can read; echoed, it stays in the terminal's scrollback and in view of
// whoever stands behind the source. Whoever holds it reads the replies, so it is kept like a passphrase.
import { openSync } from 'node:fs';
import { ReadStream } from 'node:tty';
import { CODENAME_WORDS, type CodenameProblem } from '../../crypto/codename.js';
import { CliError, USAGE_EXIT } from './errors.js';
import { promptHidden } from './passphrase.js';

export const CODENAME_ENV = 'TIPLINE_CODENAME';

/** The codename as typed (parsing is the caller's: a mistyped one still makes a visit, see client/shared/replies.ts). */
export async function readCodename(prompt = 'Codename (the words are not shown as you type): '): Promise<string> {
  const fromEnv = process.env[CODENAME_ENV];
  if (fromEnv !== undefined && fromEnv.trim() !== '') return fromEnv;
  // Standard input may carry the message (tipline submit --codename < message.txt): then the terminal itself.
  const input = process.stdin.isTTY ? process.stdin : terminal();
  if (!input) throw new CliError(`no codename: set ${CODENAME_ENV} or run in a terminal to be asked (never give it as an argument)`, USAGE_EXIT);
  try {
    return await promptHidden(prompt, input, 'codename');
  } finally {
    if (input !== process.stdin) input.destroy();
  }
}

function terminal(): ReadStream | undefined {
  try {
    return new ReadStream(openSync('/dev/tty', 'r'));
  } catch {
    return undefined; // no controlling terminal (a script, a service)
  }
}

/** One line saying what is wrong with a typed codename, without repeating the codename itself. */
export function codenameProblemText(problem: CodenameProblem): string {
  switch (problem.kind) {
    case 'unknown-word':
      return `mistyped codename: word ${problem.position} ("${problem.word}") is not one of the codename words; check it against what you wrote down`;
    case 'count':
      return `mistyped codename: a codename has ${CODENAME_WORDS} words, this has ${problem.count}`;
    case 'check':
      return 'mistyped codename: every word is a codename word, but they do not fit together: one word is wrong, or two are swapped';
  }
}
