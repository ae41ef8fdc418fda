/**
 * Command-line option tokens as every command reads them: `--flag value` or `--flag=value`, and switches, which
 * take no value (`--verify=no` read as on would be the opposite of what was meant).
 */

/** An option token split at its first '=' (`--batch=2`: '--batch' and '2'); any other token unchanged. */
export function splitOption(arg: string): { flag: string; inline: string | undefined } {
  const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
  return eq > 0 ? { flag: arg.slice(0, eq), inline: arg.slice(eq + 1) } : { flag: arg, inline: undefined };
}

/**
 * The usage error for a positional argument given as '' (an unset shell variable, "$OUT"), which a path resolver would
 * read as the current directory; null when it is not empty.
 */
export function emptyArgumentProblem(name: string, value: string): string | null {
  return value.trim() === '' ? `${name} is empty` : null;
}

/** The usage error for a switch given a value: its message, or null when none was given. */
export function switchValueProblem(arg: string): string | null {
  const { flag, inline } = splitOption(arg);
  return inline === undefined ? null : `${flag} is a switch and takes no value (got '${arg}'): give ${flag} or leave it out`;
}
