/**
 * Command-line parsing for `weft`: a small table of flags (wscat's names where wscat has one), long and
 * short forms, `--flag value` and `--flag=value`, repeatable flags collected into lists.
 */

/** A usage mistake: printed with a hint to `--help`, exits with EXIT.USAGE. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

interface FlagSpec {
  /** The key in ParsedArgs.values. */
  key: string;
  short?: string;
  /** Takes a value (a string), or is a switch. */
  value: boolean;
  /** May be given several times; the values are collected in order. */
  multiple?: boolean;
}

const FLAGS: Record<string, FlagSpec> = {
  connect: { key: 'connect', short: 'c', value: true },
  listen: { key: 'listen', short: 'l', value: true },
  host: { key: 'host', value: true },
  subprotocol: { key: 'subprotocol', short: 's', value: true, multiple: true },
  header: { key: 'header', short: 'H', value: true, multiple: true },
  origin: { key: 'origin', short: 'o', value: true },
  auth: { key: 'auth', value: true },
  'no-check': { key: 'noCheck', short: 'n', value: false },
  ca: { key: 'ca', value: true },
  cert: { key: 'cert', value: true },
  key: { key: 'key', value: true },
  passphrase: { key: 'passphrase', value: true },
  execute: { key: 'execute', short: 'x', value: true, multiple: true },
  wait: { key: 'wait', short: 'w', value: true },
  count: { key: 'count', value: true },
  'show-ping-pong': { key: 'showPingPong', short: 'P', value: false },
  slash: { key: 'slash', value: false },
  json: { key: 'json', value: false },
  binary: { key: 'binary', short: 'b', value: true },
  location: { key: 'location', short: 'L', value: false },
  'max-redirects': { key: 'maxRedirects', value: true },
  protocol: { key: 'protocolVersion', short: 'p', value: true },
  'connect-timeout': { key: 'connectTimeout', value: true },
  'no-deflate': { key: 'noDeflate', value: false },
  http2: { key: 'http2', value: false },
  'max-payload': { key: 'maxPayload', value: true },
  interactive: { key: 'interactive', short: 'i', value: false },
  'history-file': { key: 'historyFile', value: true },
  quiet: { key: 'quiet', short: 'q', value: false },
  help: { key: 'help', short: 'h', value: false },
  version: { key: 'version', short: 'V', value: false },
};

const SHORT: Record<string, string> = {};
for (const [name, spec] of Object.entries(FLAGS)) if (spec.short) SHORT[spec.short] = name;

/** What the command line said. */
export interface ParsedArgs {
  /** 'connect', 'listen', or '' (help / version). */
  command: '' | 'connect' | 'listen';
  /** The URL (connect) or the port (listen). */
  target: string;
  values: Record<string, string | string[] | boolean | undefined>;
}

/** Parses argv (without node and the script). Throws UsageError. */
export function parseArgs(argv: readonly string[]): ParsedArgs {
  const values: ParsedArgs['values'] = {};
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    let name: string;
    let inline: string | undefined;
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
      if (eq !== -1) inline = arg.slice(eq + 1);
      if (!(name in FLAGS)) throw new UsageError(`unknown option --${name}`);
    } else if (arg.length > 1 && arg[0] === '-' && !/^-\d/.test(arg)) {
      // -P, -nP (switches grouped), -s chat, -schat
      const letter = arg[1];
      if (!(letter in SHORT)) throw new UsageError(`unknown option -${letter}`);
      name = SHORT[letter];
      if (arg.length > 2) {
        if (FLAGS[name].value) inline = arg.slice(2);
        else {
          for (const l of arg.slice(2)) {
            if (!(l in SHORT) || FLAGS[SHORT[l]].value) throw new UsageError(`cannot group -${l} in ${arg}`);
            values[FLAGS[SHORT[l]].key] = true;
          }
        }
      }
    } else {
      positionals.push(arg);
      continue;
    }
    const spec = FLAGS[name];
    if (!spec.value) {
      if (inline !== undefined) throw new UsageError(`--${name} takes no value`);
      values[spec.key] = true;
      continue;
    }
    let value = inline;
    if (value === undefined) {
      if (i + 1 >= argv.length) throw new UsageError(`--${name} needs a value`);
      value = argv[++i];
    }
    if (spec.multiple) {
      const list = (values[spec.key] as string[] | undefined) ?? [];
      list.push(value);
      values[spec.key] = list;
    } else {
      values[spec.key] = value;
    }
  }

  let command: ParsedArgs['command'] = '';
  let target = '';
  if (values.connect !== undefined || values.listen !== undefined) {
    // wscat's form: weft -c URL / weft -l PORT
    if (values.connect !== undefined && values.listen !== undefined) {
      throw new UsageError('use either --connect or --listen');
    }
    command = values.connect !== undefined ? 'connect' : 'listen';
    target = (values.connect ?? values.listen) as string;
    if (positionals.length > 0) throw new UsageError(`unexpected argument ${positionals[0]}`);
  } else if (positionals.length > 0) {
    const [word, arg, extra] = positionals;
    if (word !== 'connect' && word !== 'listen') throw new UsageError(`unknown command ${word}`);
    command = word;
    if (arg === undefined) throw new UsageError(word === 'connect' ? 'connect needs a URL' : 'listen needs a PORT');
    if (extra !== undefined) throw new UsageError(`unexpected argument ${extra}`);
    target = arg;
  } else if (!values.help && !values.version) {
    throw new UsageError('nothing to do: give `connect URL` or `listen PORT`');
  }
  return { command, target, values };
}

/** A number option: `undefined` when absent, else a finite number within [min, max] or a UsageError. */
export function numberOption(
  values: ParsedArgs['values'],
  key: string,
  flag: string,
  min: number,
  max: number,
  integer = true,
): number | undefined {
  const raw = values[key];
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (raw === '' || !Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
    throw new UsageError(`--${flag} must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}`);
  }
  return n;
}

/** The text `weft --help` prints. */
export const HELP = `Usage:
  weft connect URL [options]     open a WebSocket to URL (ws:, wss:, http:, https:)
  weft listen PORT [options]     accept WebSocket connections on PORT
  weft -c URL | -l PORT          the same, with wscat's flags

Input and output:
  stdin is a terminal: an interactive prompt with history (Up/Down); received messages print as "< msg".
  stdin is a pipe or file: each line is sent as one message; each received message is written to stdout
  on one line; everything else (connected, closed, pings, errors) goes to stderr. End of input closes
  the connection with 1000 (after --wait seconds if given).

Options (connect):
  -s, --subprotocol PROTO    offer a subprotocol (repeatable)
  -H, --header "NAME: VALUE" add a request header (repeatable)
  -o, --origin ORIGIN        the Origin header
      --auth USER:PASS       HTTP Basic authorization
  -n, --no-check             do not verify the server's TLS certificate
      --ca FILE              trust this CA certificate (PEM)
      --cert FILE, --key FILE, --passphrase PASS   a TLS client certificate
  -x, --execute MSG          send MSG once connected (repeatable), then wait and close
  -w, --wait SECONDS         with --execute or at end of input: wait before closing (default 2 with
                             --execute, 0 at end of input; -1 waits until the peer closes)
      --count N              close with 1000 after receiving N messages
  -L, --location             follow redirects;  --max-redirects N (default 10)
  -p, --protocol VERSION     Sec-WebSocket-Version (8 or 13)
      --connect-timeout SEC  give up if the opening handshake takes longer
      --no-deflate           do not offer permessage-deflate
      --http2                connect over HTTP/2 (RFC 8441) when the server offers it, else HTTP/1.1
      --max-payload BYTES    largest message accepted
  -i, --interactive          the interactive prompt even when stdin is not a terminal
      --history-file FILE    load and save the prompt's history in FILE

Options (both):
  -P, --show-ping-pong       print pings and pongs received
      --slash                lines starting with / are commands:
                               /ping [DATA]   send a ping; the pong prints with the round-trip time
                               /pong [DATA]   send an unsolicited pong
                               /close [CODE [REASON]]   close the connection(s)
      --json                 pretty-print received messages that are JSON
  -b, --binary ENC           binary frames as ENC (hex, base64 or utf8): received binary messages print
                             in ENC, and input lines / --execute messages are decoded from ENC and sent
                             as binary frames. Without it, lines go out as text frames and received
                             binary messages print as hex.
  -q, --quiet                no "connected" / "disconnected" notices
  -h, --help, -V, --version

Options (listen):
      --host HOST            the address to bind (default: all)
  -s, --subprotocol PROTO    a subprotocol the server accepts (repeatable; first client offer that matches)
      --cert FILE --key FILE serve wss: with this certificate
  Input lines go to every connected client. SIGINT / SIGTERM closes them with 1001 and exits 0.

Exit status (connect):
  0  closed with 1000, 1001 or 1005 (either side started it)
  1  usage error: bad option, bad URL, unreadable file
  2  could not connect: DNS, TCP, TLS, HTTP status, handshake timeout, subprotocol refused
  3  connection lost without a closing handshake (1006)
  4  closed with any other code (1002, 1003, 1007-1015, 3000-4999); the code and reason print on stderr
  5  the peer broke the protocol (invalid frame, bad UTF-8, message over --max-payload): weft failed the
     connection; the WS_ERR_* code prints on stderr
  130 interrupted twice (the second Ctrl-C drops the connection)
Exit status (listen): 0 after SIGINT/SIGTERM, 1 usage error, 2 could not listen.
`;
