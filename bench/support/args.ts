/**
 * Command-line parsing for the bench/ entry scripts: each script describes its options once (an ArgsSpec), and
 * `parseCommandLine` checks process.argv against it before any backend or device work. `-h` / `--help` prints the
 * usage and exits 0; an unknown option, a missing value, a bad value or an unknown key of a list option prints one
 * line naming it, then the usage, and exits 2. `parseArgs` is the same check without printing or exiting (tests).
 *
 * Options are `--flag` (a switch) or `--flag VALUE` / `--flag=VALUE`. A value option given twice is an error
 * (which one was meant?); a switch given twice is the switch.
 */

import { splitOption, switchValueProblem } from '../../src/cli/options.js';

export interface FlagSpec {
  /** The option as typed, e.g. '--json'. */
  name: string;
  /** Placeholder of the value in the usage ('FILE', 'N', 'a,b,...'); absent: a switch. */
  value?: string;
  /** One line (or a few) of usage text. */
  help: string;
  /** The value is a comma-separated list whose every item must be one of these. */
  keys?: readonly string[];
  /** The value must be one of these. */
  choices?: readonly string[];
  /** Checks the value: an error message (without the flag's name) or null. */
  check?: (value: string) => string | null;
  /** Takes effect only together with this switch: given without it is an error. */
  requires?: string;
  /** An empty value ('') is accepted (otherwise refused: `--json ''` would quietly write nothing). */
  allowEmpty?: boolean;
}

export interface ArgsSpec {
  /** How the script is run, shown after 'usage: ' (further lines indented under it). */
  usage: string[];
  /** What the script does, a short paragraph. */
  about: string;
  flags: FlagSpec[];
  /** Positional arguments, e.g. { name: 'FILE...', min: 1 }; absent: none allowed. */
  positionals?: { name: string; min: number; help: string };
  /** Text after the options (defaults, output). */
  notes?: string;
}

/** What was given: the switches present, the value options' values, the positional arguments. */
export interface ParsedArgs {
  switches: Set<string>;
  values: Map<string, string>;
  positionals: string[];
}

/** A command-line mistake; its message names the option (and for list keys, the valid ones). */
export class ArgsError extends Error {}

/** True when the token is a request for the usage text. */
const isHelp = (a: string) => a === '-h' || a === '--help';

/**
 * Checks `argv` (process.argv.slice(2)) against `spec`. Returns 'help' when -h / --help is anywhere in it;
 * throws ArgsError for anything the script would not understand.
 */
export function parseArgs(spec: ArgsSpec, argv: readonly string[]): ParsedArgs | 'help' {
  if (argv.some(isHelp)) return 'help';
  const byName = new Map(spec.flags.map((f) => [f.name, f]));
  const parsed: ParsedArgs = { switches: new Set(), values: new Map(), positionals: [] };
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i];
    if (!token.startsWith('-')) {
      if (spec.positionals == null) throw new ArgsError(`unexpected argument '${token}' (options start with --)`);
      parsed.positionals.push(token);
      continue;
    }
    const { flag: name, inline } = splitOption(token);
    const flag = byName.get(name);
    if (flag == null) throw new ArgsError(`unknown option ${name}`);
    if (flag.value == null) {
      const problem = switchValueProblem(token);
      if (problem != null) throw new ArgsError(problem);
      parsed.switches.add(name);
      continue;
    }
    let value = inline;
    if (value === undefined) {
      value = argv[i + 1];
      if (value == null || value.startsWith('--') || isHelp(value)) throw new ArgsError(`${name} needs a value (${flag.value})`);
      i++;
    }
    if (parsed.values.has(name)) throw new ArgsError(`${name} given twice`);
    checkValue(flag, value);
    parsed.values.set(name, value);
  }
  for (const flag of spec.flags) {
    const given = parsed.switches.has(flag.name) || parsed.values.has(flag.name);
    if (given && flag.requires != null && !parsed.switches.has(flag.requires)) {
      throw new ArgsError(`${flag.name} takes effect only with ${flag.requires}`);
    }
  }
  const min = spec.positionals?.min ?? 0;
  if (parsed.positionals.length < min) throw new ArgsError(`expected ${spec.positionals!.name}`);
  return parsed;
}

function checkValue(flag: FlagSpec, value: string): void {
  if (value === '' && !flag.allowEmpty) throw new ArgsError(`${flag.name} needs a value (${flag.value}), got ''`);
  if (flag.choices != null && !flag.choices.includes(value)) {
    throw new ArgsError(`${flag.name} must be one of ${flag.choices.join(', ')}; got '${value}'`);
  }
  if (flag.keys != null) {
    const bad = value.split(',').filter((k) => !flag.keys!.includes(k));
    if (bad.length > 0) {
      // Quoted where a key has a space (the --sweep-only variant names), so the list reads unambiguously.
      const quote = flag.keys.some((k) => k.includes(' ')) ? (k: string) => `'${k}'` : (k: string) => k;
      throw new ArgsError(`unknown ${flag.name} ${bad.length > 1 ? 'keys' : 'key'} ${bad.map((k) => `'${k}'`).join(', ')} ` +
        `(valid: ${flag.keys.map(quote).join(', ')})`);
    }
  }
  const problem = flag.check?.(value);
  if (problem != null) throw new ArgsError(`${flag.name}: ${problem}; got '${value}'`);
}

/** The usage text: synopsis, description, options (with -h / --help), notes. */
export function formatUsage(spec: ArgsSpec): string {
  const rows: [string, string][] = spec.flags.map((f) => [f.value == null ? f.name : `${f.name} ${f.value}`, f.help]);
  if (spec.positionals != null) rows.unshift([spec.positionals.name, spec.positionals.help]);
  rows.push(['-h, --help', 'this text']);
  const width = Math.max(...rows.map(([left]) => left.length)) + 2;
  const lines = [`usage: ${spec.usage[0]}`, ...spec.usage.slice(1).map((l) => `       ${l}`), '', spec.about, '',
    'options:'];
  for (const [left, help] of rows) {
    const [first, ...rest] = help.split('\n');
    lines.push(`  ${left.padEnd(width)}${first}`, ...rest.map((l) => `  ${' '.repeat(width)}${l}`));
  }
  if (spec.notes != null) lines.push('', spec.notes);
  return lines.join('\n');
}

/** A script's command line: its name in messages, its options, and how the parsed options become its settings. */
export interface BenchCommand<T> {
  /** e.g. 'bench/models.ts' */
  script: string;
  spec: ArgsSpec;
  /** Parsed options -> the script's settings (defaults filled in); throws ArgsError for combinations it refuses. */
  interpret: (p: ParsedArgs) => T;
}

/** The script's settings for `argv`, or 'help'; throws ArgsError. Prints nothing and never exits (tests). */
export function parseBenchArgs<T>(command: BenchCommand<T>, argv: readonly string[]): T | 'help' {
  const parsed = parseArgs(command.spec, argv);
  return parsed === 'help' ? 'help' : command.interpret(parsed);
}

/**
 * `parseBenchArgs` for a script's entry, before anything else runs: prints the usage and exits 0 on --help;
 * prints `script: problem`, a blank line and the usage to stderr and exits 2 on a mistake.
 */
export function parseCommandLine<T>(command: BenchCommand<T>, argv: readonly string[] = process.argv.slice(2)): T {
  let result: T | 'help';
  try {
    result = parseBenchArgs(command, argv);
  } catch (e) {
    if (!(e instanceof ArgsError)) throw e;
    console.error(`${command.script}: ${e.message}\n\n${formatUsage(command.spec)}`);
    process.exit(2);
  }
  if (result === 'help') {
    console.log(formatUsage(command.spec));
    process.exit(0);
  }
  return result;
}

// Value checks shared by the specs.

/** A positive integer. */
export const positiveInteger = (v: string): string | null => (/^[1-9]\d*$/.test(v) ? null : 'expected a positive integer');

/** A comma-separated list of positive integers. */
export const positiveIntegerList = (v: string): string | null =>
  (v.split(',').every((t) => /^[1-9]\d*$/.test(t)) ? null : 'expected positive integers separated by commas');

/** A comma-separated list of items each matching `pattern` (described as `what`); `allowEmpty`: empty items skipped. */
export function listOf(pattern: RegExp, what: string, allowEmpty = false): (v: string) => string | null {
  return (v) => (v.split(',').filter((t) => !allowEmpty || t !== '').every((t) => pattern.test(t)) ? null :
    `expected ${what} separated by commas`);
}
