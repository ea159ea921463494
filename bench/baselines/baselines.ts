// Held-out ROC AUC of each example's Kiln model next to scikit-learn baselines on the very same
// rows. Runs each example for real on Temporal (a dev server, a worker with the built-in steps
// and an in-memory store, every approval gate approved by an approver principal), then follows
// the run's lineage from its held-out evaluation to the rows Kiln's final model was trained on
// and the rows it was scored on, writes both to CSV, and has baselines.py fit LogisticRegression
// and HistGradientBoostingClassifier on them. Run through run.sh, which prepares the venv.
// Usage: tsx bench/baselines/baselines.ts --python bench/.venv/bin/python [--keep]
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, isDeepStrictEqual } from 'node:util';
import type { WorkflowHandle } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { builtinSteps } from '../../activities';
import { ArtifactStore } from '../../activities/artifacts/store';
import type { Cell } from '../../activities/common/dataset/cells';
import { loadDataset } from '../../activities/common/dataset/dataset';
import { loadModel } from '../../activities/common/model/model';
import { compile, type AnyPipeline } from '../../dsl';
import { openStore, SYSTEM, type Store } from '../../store';
import type { ArtifactNode, LineageGraph, StepNode } from '../../store/lineage/graph';
import { createKilnWorker } from '../../workers/create-worker';
import { recordAndSend } from '../../cli/decide';
import { runPipeline, statusQuery } from '../../workflows';
import type { NodeSnapshot, RunResult } from '../../workflows/protocol';
import { temporal } from '../../test/support/temporal';
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

const APPROVER = 'bench';
const EVALUATE = 'evaluate.classifier';

/** A stage of the benchmark could not find what it looks for in a run; says which run and what. */
class BenchError extends Error {
  constructor(example: string, message: string) {
    super(`${example}: ${message}`);
    this.name = 'BenchError';
  }
}

/** Starts the example with its default parameters and approves every gate that waits, until the run ends. */
async function runToEnd(handle: WorkflowHandle<typeof runPipeline>, store: Store): Promise<RunResult> {
  const approved = new Set<string>();
  for (;;) {
    const status = await handle.query(statusQuery);
    if (status.status !== 'running') break;
    for (const node of status.nodes) {
      if (node.type !== 'approval' || node.status !== 'waiting' || approved.has(node.id)) continue;
      approved.add(node.id);
      // As kiln approve does: on record first, since registry steps act only on recorded approvals.
      await recordAndSend(
        handle,
        store,
        await store.access.principalByName(SYSTEM, APPROVER),
        node.id,
        true,
        'bench/baselines',
      );
      console.error(`  ${status.pipeline}: approved '${node.id}' as ${APPROVER} (role approver)`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return handle.result();
}

/**
 * The held-out evaluation: the evaluate.classifier node outside any map (an evaluation inside
 * one scores a trial on validation rows). With several, the one whose metrics the pipeline returns.
 */
function heldOutEvaluation(example: string, result: RunResult): NodeSnapshot {
  const candidates = result.nodes.filter((n) => n.step === EVALUATE && !n.id.includes('['));
  const returned = (result.output as { metrics?: unknown } | null)?.metrics;
  const chosen =
    candidates.length === 1
      ? candidates
      : candidates.filter((n) => isDeepStrictEqual((n.output as { metrics?: unknown }).metrics, returned));
  if (chosen.length !== 1) {
    throw new BenchError(
      example,
      `expected one ${EVALUATE} node outside a map (or one whose metrics the pipeline returns), found ${candidates.map((n) => n.id).join(', ') || 'none'}`,
    );
  }
  return chosen[0]!;
}

/** What the lineage of one run says about artifacts: which step read or wrote which, on which port. */
function lineageOf(example: string, graph: LineageGraph) {
  const steps = graph.nodes.filter((n): n is StepNode => n.type === 'step');
  const artifacts = new Map(graph.nodes.filter((n): n is ArtifactNode => n.type === 'artifact').map((n) => [n.id, n]));
  const artifact = (id: string) =>
    artifacts.get(id) ??
    (() => {
      throw new BenchError(example, `lineage has no artifact ${id}`);
    })();
  const step = (nodeId: string) =>
    steps.find((s) => s.nodeId === nodeId) ??
    (() => {
      throw new BenchError(example, `lineage has no step '${nodeId}'`);
    })();
  return {
    step,
    /** The artifacts a step read, with the port each arrived on (`dataset`, `train`, `model`…). */
    inputs: (s: StepNode) =>
      graph.edges
        .filter((e) => e.type === 'input' && e.to === s.id)
        .map((e) => ({ port: e.port ?? '', artifact: artifact(e.from) })),
    /**
     * The steps that made an artifact, with the output port (`model`, `train`, `test`…): those
     * that wrote it without reading it, not the ones that pass it on (tune.record, tune.select).
     */
    producers: (a: ArtifactNode) =>
      graph.edges
        .filter(
          (e) =>
            e.type === 'output' &&
            e.to === a.id &&
            !graph.edges.some((i) => i.type === 'input' && i.from === a.id && i.to === e.from),
        )
        .map((e) => ({ port: e.port ?? '', step: steps.find((s) => s.id === e.from)! })),
  };
}

const csvField = (value: Cell) => {
  if (value === null) return '';
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
};

async function writeCsv(artifacts: ArtifactStore, uri: string, path: string): Promise<number> {
  const { columns, rows } = await loadDataset(artifacts, { uri });
  const lines = [
    columns.map((c) => csvField(c.name)).join(','),
    ...rows.map((r) => columns.map((c) => csvField(r[c.name]!)).join(',')),
  ];
  await writeFile(path, `${lines.join('\n')}\n`);
  return rows.length;
}

interface Baseline {
  example: string;
  train: { rows: number; from: string };
  test: { rows: number; from: string };
  model: string;
  kiln: number;
  backend: string;
  best?: { params: Record<string, unknown>; metrics: Record<string, number> };
  seconds: number;
  sklearn: { logistic_regression: number; hist_gradient_boosting: number };
  versions: Record<string, string>;
}

interface Bench {
  start(def: AnyPipeline): Promise<WorkflowHandle<typeof runPipeline>>;
  store: Store;
  artifacts: ArtifactStore;
}

async function baseline(def: AnyPipeline, bench: Bench, dir: string): Promise<Baseline> {
  const example = def.name;
  const started = performance.now();
  const handle = await bench.start(def);
  const result = await runToEnd(handle, bench.store);
  const seconds = (performance.now() - started) / 1000;
  console.error(`  ${example}: ${result.nodes.length} nodes on Temporal in ${seconds.toFixed(1)} s`);

  // Lineage, not the plan's shape: the evaluation read the final model and the held-out rows;
  // the step that wrote that model (a trial's train inside a map, or a plain train) read the
  // training rows. Where each dataset came from (split.test, tuningSplit.train) is its producer.
  const evaluation = heldOutEvaluation(example, result);
  const lineage = lineageOf(
    example,
    await bench.store.lineage.upstream(SYSTEM, { run: handle.workflowId }, { maxDepth: 1 }),
  );
  const read = lineage.inputs(lineage.step(evaluation.id));
  const port = (inputs: typeof read, name: string, step: string) =>
    inputs.find((i) => i.port === name)?.artifact ??
    (() => {
      throw new BenchError(example, `step '${step}' read no artifact on port '${name}'`);
    })();
  const model = port(read, 'model', evaluation.id);
  const heldOut = port(read, 'dataset', evaluation.id);
  const trainers = lineage.producers(model).map((p) => p.step);
  const trainSets = [
    ...new Set(
      trainers.flatMap((s) =>
        lineage
          .inputs(s)
          .filter((i) => i.artifact.kind === 'dataset')
          .map((i) => i.artifact),
      ),
    ),
  ];
  if (trainers.length === 0 || trainSets.length !== 1) {
    throw new BenchError(
      example,
      `the model ${model.sha256.slice(0, 12)} should come from steps that read one dataset; found steps ${trainers.map((s) => s.nodeId).join(', ') || 'none'} reading ${trainSets.length}`,
    );
  }
  const training = trainSets[0]!;
  const origin = (a: ArtifactNode) =>
    lineage
      .producers(a)
      .map((p) => `${p.step.nodeId}.${p.port}`)
      .join(' = ') || a.uri;

  const spec = await loadModel(bench.artifacts, model.uri);
  const folder = join(dir, example);
  await mkdir(folder, { recursive: true });
  const trainRows = await writeCsv(bench.artifacts, training.uri, join(folder, 'train.csv'));
  const testRows = await writeCsv(bench.artifacts, heldOut.uri, join(folder, 'test.csv'));
  // The baselines see the columns as the model's fitted transform does: numeric ones standardized, the rest one-hot.
  const meta = {
    label: spec.label,
    positive: spec.classes[1],
    numeric: spec.transform.spec.features.filter((f) => f.type !== 'categorical').map((f) => f.name),
    categorical: spec.transform.spec.features.filter((f) => f.type === 'categorical').map((f) => f.name),
  };
  await writeFile(join(folder, 'meta.json'), JSON.stringify(meta));

  const python = spawnSync(args.python!, [join(here, 'baselines.py'), folder], { encoding: 'utf8' });
  if (python.error || python.status !== 0) {
    console.error(python.stderr);
    throw new Error(
      `baselines.py failed (${python.error?.message ?? `exit ${python.status}`}); is ${args.python} the venv made by bench/baselines/run.sh?`,
    );
  }
  const reference = JSON.parse(python.stdout) as Pick<Baseline, 'sklearn' | 'versions'>;
  const best = (result.nodes.find((n) => n.step === 'tune.select')?.output as { best?: Baseline['best'] } | undefined)
    ?.best;
  return {
    example,
    train: { rows: trainRows, from: origin(training) },
    test: { rows: testRows, from: origin(heldOut) },
    model: trainers.map((s) => s.nodeId).join(' = '),
    kiln: (evaluation.output as { metrics: { rocAuc: number } }).metrics.rocAuc,
    backend: spec.backend,
    ...(best ? { best: { params: best.params, metrics: best.metrics } } : {}),
    seconds,
    ...reference,
  };
}

// The worker's and the steps' logs stay quiet unless something goes wrong; the numbers go to stdout.
Runtime.install({ logger: new DefaultLogger('WARN') });
const dir = await mkdtemp(join(tmpdir(), 'kiln-baselines-'));
const server = await temporal();
const store = await openStore({ dir: 'memory://' });
const connection = await NativeConnection.connect({ address: server.address });
try {
  await store.access.createToken(SYSTEM, { name: APPROVER, role: 'approver' });
  const taskQueue = `bench-baselines-${randomUUID()}`;
  const artifactsDir = join(dir, 'artifacts');
  const worker = await createKilnWorker({
    connection,
    namespace: server.namespace,
    taskQueue,
    steps: builtinSteps,
    artifactsDir,
    store,
    tracing: false,
  });
  const bench: Bench = {
    store,
    artifacts: new ArtifactStore(artifactsDir),
    start: (def) =>
      server.client.workflow.start(runPipeline, {
        taskQueue,
        workflowId: `bench-${def.name}-${randomUUID()}`,
        args: [{ plan: compile(def), params: {} }],
      }),
  };
  const results: Baseline[] = [];
  await worker.runUntil(async () => {
    for (const def of [creditRisk, wages]) results.push(await baseline(def, bench, dir));
  });

  const versions = results[0]!.versions;
  console.log(
    `held-out ROC AUC, each example run on Temporal with its defaults; the baselines fit on the rows Kiln's final model was trained on (scikit-learn ${versions.sklearn}, numpy ${versions.numpy}, Python ${versions.python})`,
  );
  console.log(
    `${'example'.padEnd(12)} ${'train/test'.padStart(10)} ${'Kiln (TF.js)'.padStart(13)} ${'backend'.padStart(8)} ${'sklearn LR'.padStart(11)} ${'sklearn HGB'.padStart(12)}`,
  );
  for (const r of results) {
    console.log(
      `${r.example.padEnd(12)} ${`${r.train.rows}/${r.test.rows}`.padStart(10)} ${r.kiln.toFixed(4).padStart(13)} ${r.backend.padStart(8)} ${r.sklearn.logistic_regression.toFixed(4).padStart(11)} ${r.sklearn.hist_gradient_boosting.toFixed(4).padStart(12)}`,
    );
  }
  for (const r of results) {
    console.log(
      `${r.example}: model from ${r.model}, trained on ${r.train.from} (${r.train.rows} rows), scored on ${r.test.from} (${r.test.rows} rows); run ${r.seconds.toFixed(1)} s`,
    );
    if (r.best)
      console.log(
        `  best trial: ${JSON.stringify(r.best.params)}, ROC AUC ${r.best.metrics.rocAuc?.toFixed(4)} on its ${r.best.metrics.rows} validation rows`,
      );
  }
  if (args.keep) console.log(`CSVs and artifacts kept in ${dir}`);
} finally {
  await connection.close();
  await store.close();
  await server.stop();
  if (!args.keep) await rm(dir, { recursive: true, force: true });
}
