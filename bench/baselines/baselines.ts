// Held-out ROC AUC of each example's Kiln model next to scikit-learn baselines on the very same
// split. Runs the example's compiled plan in this process (no Temporal), with Kiln's own step
// code, writes the split to CSV, and has baselines.py fit LogisticRegression and
// HistGradientBoostingClassifier on it. Run through run.sh, which prepares the venv.
// Usage: tsx bench/baselines/baselines.ts --python bench/.venv/bin/python [--keep]
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { builtinSteps } from '../../activities';
import { ArtifactStore } from '../../activities/artifacts/store';
import type { Cell } from '../../activities/data/cells';
import { loadDataset } from '../../activities/data/dataset';
import { loadTransform } from '../../activities/features/fit';
import type { StepContext } from '../../activities/library';
import type { DatasetRef, ModelRef, TransformRef } from '../../activities/refs';
import { compile, type AnyPipeline, type StepNode } from '../../dsl';
import { resolve as resolveBinding } from '../../workflows/resolve';
import creditRisk from '../../examples/credit-risk';
import wages from '../../examples/wages';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '../..');
const { values: args } = parseArgs({
  options: {
    python: { type: 'string', default: join(repo, 'bench/.venv/bin/python') },
    keep: { type: 'boolean', default: false },
  },
});

const steps = new Map(builtinSteps.map((s) => [s.def.name, s]));

/**
 * Runs a pipeline's step nodes in plan order with its default parameters, as the interpreter
 * would, but in this process; approvals are skipped. Returns each step's output by step name
 * (data.split, train.classifier, ...), so each step may appear once.
 */
async function runInProcess(def: AnyPipeline, ctx: StepContext): Promise<Map<string, unknown>> {
  const plan = compile(def);
  const params = (def.params as z.ZodType<Record<string, unknown>>).parse({});
  const outputs = new Map<string, unknown>();
  const byNode = new Map<string, unknown>();
  const env = {
    value: (node: string) => byNode.get(node),
    param: (name: string) => params[name],
    item: () => { throw new Error('map nodes are not supported here'); },
  };
  for (const node of plan.nodes) {
    if (node.type === 'approval') continue;
    if (node.type === 'map' || node.when?.length) throw new Error(`${def.name}: node '${node.id}' is a ${node.type} or conditional; only straight step pipelines are supported`);
    const step = steps.get((node as StepNode).step.name);
    if (!step) throw new Error(`${def.name}: no implementation of ${node.step.name}`);
    const input = step.def.input.parse(Object.fromEntries(Object.entries(node.inputs).map(([k, b]) => [k, resolveBinding(b, env)])));
    const started = performance.now();
    if (outputs.has(step.def.name)) throw new Error(`${def.name}: ${step.def.name} appears twice; name the outputs by node id instead`);
    outputs.set(step.def.name, step.def.output.parse(await step.run(input, { ...ctx, run: { ...ctx.run, pipeline: def.name, node: node.id } })));
    byNode.set(node.id, outputs.get(step.def.name));
    console.error(`  ${def.name}/${node.id}: ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }
  return outputs;
}

const csvField = (value: Cell) => {
  if (value === null) return '';
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
};

async function writeCsv(artifacts: ArtifactStore, ref: DatasetRef, path: string): Promise<void> {
  const { columns, rows } = await loadDataset(artifacts, ref);
  const lines = [columns.map((c) => csvField(c.name)).join(','), ...rows.map((r) => columns.map((c) => csvField(r[c.name]!)).join(','))];
  await writeFile(path, `${lines.join('\n')}\n`);
}

interface Baseline {
  example: string;
  train: number;
  test: number;
  kiln: number;
  backend: string;
  sklearn: { logistic_regression: number; hist_gradient_boosting: number };
  versions: Record<string, string>;
}

async function baseline(def: AnyPipeline, dir: string): Promise<Baseline> {
  const artifacts = new ArtifactStore(join(dir, 'artifacts'));
  const ctx: StepContext = {
    artifacts,
    heartbeat: () => {},
    signal: new AbortController().signal,
    log: () => {},
    readFrom: () => {},
    run: { workflowId: `bench-${def.name}`, runId: 'bench', pipeline: def.name, node: '' },
  };
  const outputs = await runInProcess(def, ctx);
  const split = outputs.get('data.split') as { train: DatasetRef; test: DatasetRef };
  const model = (outputs.get('train.classifier') as { model: ModelRef }).model;
  const transform = await loadTransform(artifacts, (outputs.get('features.fit') as { transform: TransformRef }).transform.uri);
  const auc = (outputs.get('evaluate.classifier') as { metrics: { rocAuc: number } }).metrics.rocAuc;

  const folder = join(dir, def.name);
  await mkdir(folder, { recursive: true });
  await writeCsv(artifacts, split.train, join(folder, 'train.csv'));
  await writeCsv(artifacts, split.test, join(folder, 'test.csv'));
  // The baselines see the columns as Kiln's fitted transform does: numeric ones standardized, the rest one-hot.
  const meta = {
    label: model.label,
    positive: model.classes[1],
    numeric: transform.features.filter((f) => f.type !== 'categorical').map((f) => f.name),
    categorical: transform.features.filter((f) => f.type === 'categorical').map((f) => f.name),
  };
  await writeFile(join(folder, 'meta.json'), JSON.stringify(meta));

  const run = spawnSync(args.python!, [join(here, 'baselines.py'), folder], { encoding: 'utf8' });
  if (run.error || run.status !== 0) {
    console.error(run.stderr);
    throw new Error(`baselines.py failed (${run.error?.message ?? `exit ${run.status}`}); is ${args.python} the venv made by bench/baselines/run.sh?`);
  }
  const reference = JSON.parse(run.stdout) as Pick<Baseline, 'sklearn' | 'versions'>;
  return { example: def.name, train: split.train.rows, test: split.test.rows, kiln: auc, backend: model.backend, ...reference };
}

const dir = await mkdtemp(join(tmpdir(), 'kiln-baselines-'));
try {
  const results: Baseline[] = [];
  for (const def of [creditRisk, wages]) results.push(await baseline(def, dir));
  const versions = results[0]!.versions;
  console.log(`held-out ROC AUC on each example's own seeded, stratified split (scikit-learn ${versions.sklearn}, numpy ${versions.numpy}, Python ${versions.python})`);
  console.log(`${'example'.padEnd(12)} ${'train/test'.padStart(10)} ${'Kiln (TF.js logistic)'.padStart(22)} ${'backend'.padStart(8)} ${'sklearn LR'.padStart(11)} ${'sklearn HGB'.padStart(12)}`);
  for (const r of results) {
    console.log(`${r.example.padEnd(12)} ${`${r.train}/${r.test}`.padStart(10)} ${r.kiln.toFixed(4).padStart(22)} ${r.backend.padStart(8)} ${r.sklearn.logistic_regression.toFixed(4).padStart(11)} ${r.sklearn.hist_gradient_boosting.toFixed(4).padStart(12)}`);
  }
  if (args.keep) console.log(`split CSVs kept in ${dir}`);
} finally {
  if (!args.keep) await rm(dir, { recursive: true, force: true });
}
