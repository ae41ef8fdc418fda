#!/usr/bin/env node
/**
 * `npx tfjs-block-fusion <command> ...`: each command lives in its own module under src/cli/ and exports
 * `run(args: string[]): Promise<number>` (the exit code). Node-only: the package root never imports this.
 */
const COMMANDS: Record<string, { module: string; summary: string }> = {
  convert: { module: './convert.js', summary: 'rewrite an ONNX or TF.js graph so each residual block is one fused op' },
  model: { module: './model.js', summary: 'write a ConvNeXt or ConvFirstNet GraphModel with seeded random weights' },
  analyze: { module: './analyze.js', summary: 'profile a GraphModel: efficiency gap, waterline and roofline figures' },
};

function usage(): string {
  const rows = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`);
  return ['usage: tfjs-block-fusion <command> [options]', '', 'commands:', ...rows, '',
    'Run `tfjs-block-fusion <command> --help` for a command\'s options; --version prints the version.'].join('\n');
}

/** This package's version: the nearest package.json above this file (src/cli/ in the repo, dist/src/cli/ built). */
async function packageVersion(): Promise<string> {
  const { existsSync, readFileSync } = await import('node:fs');
  for (let up = '../'; up.length <= 12; up += '../') {
    const url = new URL(`${up}package.json`, import.meta.url);
    if (existsSync(url)) return (JSON.parse(readFileSync(url, 'utf8')) as { version: string }).version;
  }
  throw new Error('no package.json above the CLI');
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name == null) {
    // A usage error: the usage goes to stderr, as for the other usage errors.
    console.error(usage());
    return 2;
  }
  if (name === '--help' || name === '-h') {
    console.log(usage());
    return 0;
  }
  if (name === '--version' || name === '-v') {
    console.log(await packageVersion());
    return 0;
  }
  const command = COMMANDS[name];
  if (command == null) {
    console.error(`tfjs-block-fusion: unknown command '${name}'\n\n${usage()}`);
    return 2;
  }
  let mod: { run(args: string[]): Promise<number> };
  try {
    mod = await import(command.module);
  } catch (e) {
    console.error(`tfjs-block-fusion: command '${name}' is not available in this build (${(e as Error).message})`);
    return 2;
  }
  return mod.run(rest);
}

main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (e: unknown) => {
  console.error(`tfjs-block-fusion: ${e instanceof Error ? e.message : String(e)}`);
  process.exitCode = 1;
});
