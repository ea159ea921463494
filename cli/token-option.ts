import { readFileSync } from 'node:fs';

/** The help line every command that takes --token gets. */
export const tokenFileHelp = `  --token-file PATH  act as the principal of the token in this file (preferred: --token shows in \`ps\`)`;

/** What --token costs, printed whenever it is used. */
export const TOKEN_ARGUMENT_WARNING =
  'kiln: warning: --token puts the token in the process list (`ps`) and your shell history; use --token-file PATH or KILN_TOKEN instead';

/**
 * Takes `--token-file PATH` out of a command's arguments and puts the file's token in
 * `env.KILN_TOKEN`, where every command's caller() finds it; warns through `warn` when `--token`
 * is given on the command line. The file's content never appears in a message.
 * @example const rest = takeTokenFile(['models', '--token-file', 'me.token'], process.env, console.error);
 */
export function takeTokenFile(args: string[], env: NodeJS.ProcessEnv, warn: (line: string) => void): string[] {
  const rest: string[] = [];
  let file: string | undefined;
  let inline = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') {
      rest.push(...args.slice(i));
      break;
    }
    if (arg === '--token-file' || arg.startsWith('--token-file=')) {
      const value = arg === '--token-file' ? args[++i] : arg.slice('--token-file='.length);
      if (!value) throw new Error('--token-file needs a path: --token-file PATH');
      if (file !== undefined) throw new Error('--token-file is given twice; give it once');
      file = value;
      continue;
    }
    if (arg === '--token' || arg.startsWith('--token=')) inline = true;
    rest.push(arg);
  }
  if (file !== undefined && inline) throw new Error('give --token-file or --token, not both');
  if (inline) warn(TOKEN_ARGUMENT_WARNING);
  if (file !== undefined) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      throw new Error(`--token-file ${file} cannot be read: ${(error as NodeJS.ErrnoException).code ?? 'error'}`, {
        cause: error,
      });
    }
    const token = text.trim();
    if (token === '' || /\s/.test(token))
      throw new Error(`--token-file ${file} must hold one token on one line, as \`kiln token create\` prints it`);
    env.KILN_TOKEN = token;
  }
  return rest;
}
