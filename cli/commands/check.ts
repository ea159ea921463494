import { writeFile } from 'node:fs/promises';
import { realpath } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { runChecks } from '../check/run-checks';
import { renderHuman, renderJunit } from '../check/report';

export const help = `kiln check [paths…] [--junit FILE] [--json]
  For CI: finds the pipelines under the paths (the current directory when none: modules that export
  a pipeline, and JSON plans), compiles and validates each plan, type-checks the modules with the
  project's tsconfig.json, and runs the checks each declares (\`export const checks\` in the module or
  \`<name>.checks.ts\` beside it): data.quality checks on a sample file and validate.gates gates on a
  model's metrics. Exits 1 when any check fails. Reads only files below the current directory.
  --junit FILE    also write the results as JUnit XML
  --json          print the results as JSON instead of text`;

export async function check(args: string[], print = console.log): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { junit: { type: 'string' }, json: { type: 'boolean' } },
  });
  const report = await runChecks(positionals, await realpath(process.cwd()));
  if (values.junit) await writeFile(values.junit, renderJunit(report));
  print(values.json ? JSON.stringify(report, null, 2) : renderHuman(report));
  return report.passed ? 0 : 1;
}
