/**
 * Where the CLI reads lines and writes what happens. Interactive: a readline prompt with history, and
 * everything on stdout with the prompt redrawn after it. Piped: stdin lines, received messages alone on
 * stdout (one per line), notices and errors on stderr.
 */
import * as fs from 'fs';
import * as readline from 'readline';

/** Line input and the three kinds of output. */
export interface CliConsole {
  readonly interactive: boolean;
  /** Starts delivering input lines; `onEnd` at end of input (Ctrl-D, EOF). */
  start(onLine: (line: string) => void, onEnd: () => void): void;
  /** A received message. */
  message(text: string): void;
  /** A notice (connected, pong timing, closed). */
  info(text: string): void;
  /** An error. */
  error(text: string): void;
  /** Stops reading input. */
  stop(): void;
  /** Holds input lines back while the socket has too much to write; `resume` reads on. */
  pause(): void;
  resume(): void;
}

/** Options of makeConsole. */
export interface ConsoleOptions {
  interactive: boolean;
  /** Interactive mode: load the history from this file and save it there after each line. */
  historyFile?: string;
  /** Ctrl-C at the interactive prompt (the terminal is raw there, so no SIGINT reaches the process). */
  onInterrupt: () => void;
}

/** Reads a history file: one entry a line, oldest first (readline keeps newest first). */
function loadHistory(file: string): string[] {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').filter((l) => l !== '').reverse();
  } catch {
    return [];
  }
}

const HISTORY_SIZE = 500;

/** What both consoles share: one readline over stdin, held back, resumed and stopped alike. */
abstract class LineConsole implements CliConsole {
  abstract readonly interactive: boolean;
  protected rl: readline.Interface | null = null;

  abstract start(onLine: (line: string) => void, onEnd: () => void): void;
  abstract message(text: string): void;
  abstract info(text: string): void;
  abstract error(text: string): void;

  /** Reads from `rl` from now on; `onEnd` when its input ends (not when `stop()` closes it). */
  protected use(rl: readline.Interface, onEnd: () => void): void {
    this.rl = rl;
    rl.on('close', () => {
      if (this.rl === null) return;
      this.rl = null;
      onEnd();
    });
  }

  pause(): void {
    if (this.rl) this.rl.pause();
  }
  resume(): void {
    if (this.rl) this.rl.resume();
  }
  stop(): void {
    const rl = this.rl;
    this.rl = null;
    if (rl) {
      rl.close();
      this.stopped();
    }
    process.stdin.pause();
  }
  /** After `stop()` closed the reader. */
  protected stopped(): void {}
}

class InteractiveConsole extends LineConsole {
  readonly interactive = true;
  private readonly tty = process.stdout.isTTY === true;

  constructor(private readonly opts: ConsoleOptions) {
    super();
  }

  start(onLine: (line: string) => void, onEnd: () => void): void {
    const { historyFile } = this.opts;
    const rl = readline.createInterface({
      input: process.stdin,
      output: process.stdout,
      terminal: true,
      prompt: '> ',
      historySize: HISTORY_SIZE,
      history: historyFile ? loadHistory(historyFile) : [],
      removeHistoryDuplicates: true,
    });
    this.use(rl, onEnd);
    if (historyFile) {
      rl.on('history', (history: string[]) => {
        try {
          fs.writeFileSync(historyFile, history.slice().reverse().join('\n') + '\n');
        } catch (err) {
          this.error(`cannot save history: ${(err as Error).message}`);
        }
      });
    }
    rl.on('line', (line) => {
      onLine(line);
      if (this.rl) rl.prompt();
    });
    rl.on('SIGINT', this.opts.onInterrupt);
    rl.prompt();
  }

  private print(stream: NodeJS.WriteStream, text: string): void {
    const rl = this.rl;
    if (rl && this.tty) {
      readline.clearLine(process.stdout, 0);
      readline.cursorTo(process.stdout, 0);
    } else if (rl) {
      stream.write('\n');
    }
    stream.write(text + '\n');
    if (rl) rl.prompt(true);
  }

  message(text: string): void {
    this.print(process.stdout, `< ${text}`);
  }
  info(text: string): void {
    this.print(process.stdout, text);
  }
  error(text: string): void {
    this.print(process.stderr, text);
  }
  protected override stopped(): void {
    // the prompt goes away, so that what follows starts on a clean line
    if (this.tty) {
      readline.clearLine(process.stdout, 0);
      readline.cursorTo(process.stdout, 0);
    }
  }
}

class PipeConsole extends LineConsole {
  readonly interactive = false;

  start(onLine: (line: string) => void, onEnd: () => void): void {
    const rl = readline.createInterface({ input: process.stdin, terminal: false, crlfDelay: Infinity });
    this.use(rl, onEnd);
    rl.on('line', onLine);
  }
  message(text: string): void {
    process.stdout.write(text + '\n');
  }
  info(text: string): void {
    process.stderr.write(text + '\n');
  }
  error(text: string): void {
    process.stderr.write(text + '\n');
  }
}

/** The console for this run. */
export function makeConsole(opts: ConsoleOptions): CliConsole {
  return opts.interactive ? new InteractiveConsole(opts) : new PipeConsole();
}
