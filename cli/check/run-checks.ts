import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ApplicationFailure } from '@temporalio/common';
import { PlanError, validatePlan, type PipelinePlan } from '../../dsl';
import { ArtifactStore } from '../../activities/artifacts/store';
import { loadPlan } from '../load-pipeline';
import { checksDeclaration, type ChecksDeclaration } from './declaration';
import { CheckDeclarationError, runDataCheck, runModelCheck } from './declared';
import { checksFileBeside, findPipelines } from './project';
import { typecheck, type TypeDiagnostic } from './typecheck';

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

/** Where a pipeline's checks are declared: a checks file beside it, or its module's `checks` export. */
type ChecksSource = { beside: string } | { module: string } | { refused: unknown } | undefined;

/** Where `file`'s checks are declared; a checks file beside it that leads out of the project is reported as refused. */
async function checksSourceOf(file: string, root: string): Promise<ChecksSource> {
  try {
    const beside = await checksFileBeside(file, root);
    if (beside) return { beside };
  } catch (refused) {
    return { refused };
  }
  return file.endsWith('.ts') ? { module: resolve(root, file) } : undefined;
}

/** The checks declared at `source`, read with their schema. */
async function declarationFrom(source: ChecksSource, root: string): Promise<ChecksDeclaration | undefined> {
  if (!source) return undefined;
  if ('refused' in source) throw source.refused;
  const path = 'beside' in source ? source.beside : source.module;
  const mod = (await import(pathToFileURL(path).href)) as { default?: unknown; checks?: unknown };
  const value = 'beside' in source ? mod.default : mod.checks;
  if (value === undefined) return undefined;
  const parsed = checksDeclaration.safeParse(value);
  if (!parsed.success)
    throw new Error(
      `${relative(root, path)} declares checks kiln check cannot read: ${parsed.error.issues
        .map((i) => `${i.path.join('.') || '(top)'}: ${i.message}`)
        .join('; ')}`,
    );
  return parsed.data;
}

async function checkPipeline(
  file: string,
  root: string,
  declaredIn: ChecksSource,
  types: readonly TypeDiagnostic[],
  scratch: ArtifactStore,
) {
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
    declared = await declarationFrom(declaredIn, root);
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
  const sources = new Map<string, ChecksSource>();
  for (const file of files) sources.set(file, await checksSourceOf(file, root));
  const besides = [...sources.values()].flatMap((s) => (s && 'beside' in s ? [s.beside] : []));
  const errors = await typecheck([...files.filter((f) => f.endsWith('.ts')), ...besides], root);
  const scratch = await mkdtemp(join(tmpdir(), 'kiln-check-'));
  try {
    const cases: CheckCase[] = [];
    for (const file of files) {
      const source = sources.get(file);
      const own = [resolve(root, file), ...(source && 'beside' in source ? [source.beside] : [])];
      const types = errors.filter((e) => own.includes(e.file));
      cases.push(...(await checkPipeline(file, root, source, types, new ArtifactStore(scratch))));
    }
    return { root, files, cases, passed: cases.every((c) => c.passed) };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
