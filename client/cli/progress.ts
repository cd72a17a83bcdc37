// Progress on stderr for long work: a redrawn line on a terminal, a line every quarter otherwise.
const THRESHOLD = 4 * 1024 * 1024;

function mb(n: number): string {
  return `${(n / 1e6).toFixed(1)} MB`;
}

export interface Progress {
  add(n: number): void;
  done(): void;
}

export function progress(label: string, total: number, stream: NodeJS.WriteStream = process.stderr): Progress {
  if (total < THRESHOLD || process.env.TIPLINE_PROGRESS === '0') return { add() {}, done() {} };
  const tty = stream.isTTY === true;
  const started = Date.now();
  let seen = 0;
  let lastQuarter = -1;
  let lastDraw = 0;
  const draw = (final: boolean) => {
    const frac = total > 0 ? Math.min(1, seen / total) : 1;
    const secs = (Date.now() - started) / 1000;
    const rate = secs > 0 ? seen / secs : 0;
    const left = rate > 0 ? Math.max(0, (total - seen) / rate) : 0;
    const width = 24;
    const bar = '#'.repeat(Math.round(frac * width)).padEnd(width, '.');
    const line = `${label} [${bar}] ${(frac * 100).toFixed(0).padStart(3)}% ${mb(seen)} of ${mb(total)}${final ? '' : `, ${left.toFixed(0)} s left`}`;
    if (tty) stream.write(`\r${line}${final ? '\n' : ''}`);
    else stream.write(`${line}\n`);
  };
  return {
    add(n) {
      seen += n;
      if (tty) {
        if (Date.now() - lastDraw > 200) {
          lastDraw = Date.now();
          draw(false);
        }
      } else {
        const q = Math.floor((seen / total) * 4);
        if (q > lastQuarter && q < 4) {
          lastQuarter = q;
          draw(false);
        }
      }
    },
    done() {
      seen = total;
      draw(true);
    },
  };
}
