import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ApplicationFailure } from '@temporalio/common';
import { PlanError, validatePlan, type PipelinePlan } from '../../dsl';
import { ArtifactStore } from '../../activities/artifacts/store';
import { loadPlan } from '../load-pipeline';
import { checksDeclaration, type ChecksDeclaration } from './declaration';
import { CheckDeclarationError, runDataCheck, runModelCheck } from './declared';
import { checksFileFor, findPipelines } from './project';
import { typecheck, type TypeError } from './typecheck';

/** What one check is about: the plan compiles, its file type-checks, its data and model checks pass. */
export type CheckKind = 'compile' | 'types' | 'checks' | 'data' | 'model';

/** One check's outcome; `file` is project-relative, `node` the plan node at fault when there is one. */
export interface CheckCase {
  file: string;
  kind: CheckKind;
  name: string;
  node?: string;
  passed: boolean;
  reason?: string;
  seconds: number;
}

export interface CheckReport {
  root: string;
  files: string[];
  cases: CheckCase[];
  passed: boolean;
}

const nodeOf = (error: unknown): string | undefined =>
  error instanceof PlanError || error instanceof CheckDeclarationError ? error.node || undefined : undefined;

/** The message with its causes, as the CLI prints an error. */
function reasonOf(error: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    // Temporal's failures put the step's failure type beside the message.
    const type = e instanceof ApplicationFailure && e.type ? `${e.type}: ` : '';
    if (!parts.some((p) => p.endsWith(e.message))) parts.push(`${type}${e.message}`);
  }
  return parts.join(': ') || String(error);
}

/** Runs `fn` as one check: passed when it returns, failed with the reason (and node) when it throws. */
async function timed(
  base: Pick<CheckCase, 'file' | 'kind' | 'name'> & { node?: string },
  fn: () => Promise<void>,
): Promise<CheckCase> {
  const start = performance.now();
  try {
    await fn();
    return { ...base, passed: true, seconds: (performance.now() - start) / 1000 };
  } catch (error) {
    const node = nodeOf(error) ?? base.node;
    return {
      ...base,
      ...(node && { node }),
      passed: false,
      reason: reasonOf(error),
      seconds: (performance.now() - start) / 1000,
    };
  }
}

/** The checks declared for a pipeline: `<name>.checks.ts` beside it, else its module's `checks` export. */
async function declarationFor(file: string, root: string): Promise<ChecksDeclaration | undefined> {
  const beside = checksFileFor(resolve(root, file));
  const source = (await stat(beside).catch(() => undefined))?.isFile()
    ? { path: beside, value: ((await import(pathToFileURL(beside).href)) as { default?: unknown }).default }
    : file.endsWith('.ts')
      ? {
          path: resolve(root, file),
          value: ((await import(pathToFileURL(resolve(root, file)).href)) as { checks?: unknown }).checks,
        }
      : undefined;
  if (source?.value === undefined) return undefined;
  const parsed = checksDeclaration.safeParse(source.value);
  if (!parsed.success)
    throw new Error(
      `${relative(root, source.path)} declares checks kiln check cannot read: ${parsed.error.issues
        .map((i) => `${i.path.join('.') || '(top)'}: ${i.message}`)
        .join('; ')}`,
    );
  return parsed.data;
}

async function checkPipeline(file: string, root: string, types: readonly TypeError[], scratch: ArtifactStore) {
  const cases: CheckCase[] = [];
  let plan: PipelinePlan | undefined;
  cases.push(
    await timed({ file, kind: 'compile', name: 'compiles and validates' }, async () => {
      plan = (await loadPlan(resolve(root, file))).plan;
      validatePlan(plan);
    }),
  );
  if (file.endsWith('.ts')) {
    const errors = types.map((e) => `${relative(root, e.file)}:${e.line}:${e.column} TS${e.code}: ${e.message}`);
    cases.push({
      file,
      kind: 'types',
      name: 'type-checks',
      passed: errors.length === 0,
      ...(errors.length && { reason: errors.join('\n') }),
      seconds: 0,
    });
  }
  if (!plan) return cases;
  const compiled = plan;
  let declared: ChecksDeclaration | undefined;
  const read = await timed({ file, kind: 'checks', name: 'declares readable checks' }, async () => {
    declared = await declarationFor(file, root);
  });
  if (!read.passed) return [...cases, read];
  const where = { plan: compiled, root, artifacts: scratch };
  for (const check of declared?.data ?? [])
    cases.push(
      await timed({ file, kind: 'data', name: `data: ${check.node} on ${check.sample}`, node: check.node }, () =>
        runDataCheck(check, where),
      ),
    );
  for (const check of declared?.models ?? [])
    cases.push(
      await timed(
        {
          file,
          kind: 'model',
          name: `model: ${check.node} on ${typeof check.metrics === 'string' ? check.metrics : 'declared metrics'}`,
          node: check.node,
        },
        () => runModelCheck(check, where),
      ),
    );
  return cases;
}

/**
 * `kiln check`: finds the pipelines under `paths` (the project when none), below `root` only, and
 * for each compiles and validates its plan, type-checks its module and its checks file, and runs the
 * data and model checks it declares.
 */
export async function runChecks(paths: readonly string[], root: string): Promise<CheckReport> {
  const files = await findPipelines(paths, root);
  if (files.length === 0) throw new Error(`no pipelines found under ${paths.length ? paths.join(', ') : root}`);
  const modules = files.filter((f) => f.endsWith('.ts'));
  const besides = [];
  for (const file of files) {
    const beside = checksFileFor(resolve(root, file));
    if ((await stat(beside).catch(() => undefined))?.isFile()) besides.push(beside);
  }
  const errors = await typecheck([...modules, ...besides], root);
  const scratch = await mkdtemp(join(tmpdir(), 'kiln-check-'));
  try {
    const cases: CheckCase[] = [];
    for (const file of files) {
      const mine = resolve(root, file);
      const own = errors.filter((e) => e.file === mine || e.file === checksFileFor(mine));
      cases.push(...(await checkPipeline(file, root, own, new ArtifactStore(scratch))));
    }
    return { root, files, cases, passed: cases.every((c) => c.passed) };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
