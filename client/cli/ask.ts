// A yes/no question put to the person at the terminal, on /dev/tty: standard input may be a pipe (a script, a
// list of ids), and its lines are never taken as an answer. No terminal (cron, a service) means no one to ask:
// the caller refuses unless told --yes. Threat: a destructive command run unattended, by mistake, deleting
// what no one meant to.
import { closeSync, openSync, readSync, writeSync } from 'node:fs';

export interface Terminal {
  /** Asks; true only for an answer starting with y or Y (the default is no). */
  confirm(question: string): boolean;
  close(): void;
}

/** The controlling terminal, or undefined when this process has none. */
export function openTerminal(): Terminal | undefined {
  let fd: number;
  try {
    fd = openSync('/dev/tty', 'r+');
  } catch {
    return undefined;
  }
  return {
    confirm(question: string): boolean {
      writeSync(fd, `${question} [y/N] `);
      const bytes: number[] = [];
      const one = Buffer.alloc(1);
      for (;;) {
        let n: number;
        try {
          n = readSync(fd, one, 0, 1, null);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'EAGAIN') continue;
          throw err;
        }
        if (n === 0 || one[0] === 0x0a || one[0] === 0x0d || bytes.length > 200) break;
        bytes.push(one[0]!);
      }
      return /^\s*y/i.test(Buffer.from(bytes).toString('utf8'));
    },
    close: () => closeSync(fd),
  };
}
