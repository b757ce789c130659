/** The `weft` command: parses the command line and runs `connect` or `listen`. */
import * as fs from 'fs';
import * as path from 'path';
import { HELP, parseArgs, UsageError } from './args';
import { connect } from './connect';
import { EXIT, exit } from './exit';
import { listen } from './listen';

/** The package version, read from package.json next to dist/. */
function version(): string {
  try {
    const file = path.join(__dirname, '..', '..', '..', 'package.json');
    return (JSON.parse(fs.readFileSync(file, 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** Runs the CLI with `argv` (the arguments after the script name). */
export function main(argv: readonly string[]): void {
  try {
    const args = parseArgs(argv);
    if (args.values.help) {
      process.stdout.write(HELP);
      return;
    }
    if (args.values.version) {
      process.stdout.write(`weft ${version()}\n`);
      return;
    }
    if (args.command === 'connect') connect(args);
    else listen(args);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`weft: ${err.message}\nTry 'weft --help'.\n`);
    exit(EXIT.USAGE);
  }
}
