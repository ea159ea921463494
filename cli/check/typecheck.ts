import { resolve } from 'node:path';

/** A TypeScript error in a checked file, at its line and column (1-based). */
export interface TypeDiagnostic {
  file: string;
  line: number;
  column: number;
  code: number;
  message: string;
}

/**
 * Type-checks `files` as one program with the project's tsconfig.json (found from `root` upwards;
 * strict defaults without one) and returns the errors located in those files. TypeScript is the
 * project's own: a project without it is told to install it.
 */
export async function typecheck(files: readonly string[], root: string): Promise<TypeDiagnostic[]> {
  if (files.length === 0) return [];
  const ts = await import('typescript').then(
    (m) => m.default,
    (error: unknown) => {
      throw new Error("kiln check type-checks with the project's TypeScript: run `npm install --save-dev typescript`", {
        cause: error,
      });
    },
  );
  const configFile = ts.findConfigFile(root, (f) => ts.sys.fileExists(f));
  let options: import('typescript').CompilerOptions = {
    strict: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    skipLibCheck: true,
  };
  if (configFile) {
    const read = ts.readConfigFile(configFile, (f) => ts.sys.readFile(f));
    if (read.error) throw new Error(`${configFile}: ${ts.flattenDiagnosticMessageText(read.error.messageText, '\n')}`);
    options = ts.parseJsonConfigFileContent(read.config, ts.sys, resolve(configFile, '..')).options;
  }
  const wanted = new Set(files.map((f) => resolve(root, f)));
  const program = ts.createProgram({ rootNames: [...wanted], options: { ...options, noEmit: true } });
  return ts.getPreEmitDiagnostics(program).flatMap((d) => {
    if (!d.file || d.start === undefined || !wanted.has(resolve(d.file.fileName))) return [];
    const { line, character } = d.file.getLineAndCharacterOfPosition(d.start);
    return [
      {
        file: resolve(d.file.fileName),
        line: line + 1,
        column: character + 1,
        code: d.code,
        message: ts.flattenDiagnosticMessageText(d.messageText, ' '),
      },
    ];
  });
}
