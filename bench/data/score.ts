import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadColumns, writeColumns, type ColumnValues } from '../../activities/common/dataset/dataset';
import { mulberry32 } from '../../activities/common/random';
import { evaluateClassifierImpl } from '../../activities/evaluate/classifier';
import { evaluateClassifier } from '../../activities/evaluate/steps';
import { scoreModelImpl } from '../../activities/model/score';
import { scoreModel } from '../../activities/model/steps';
import type { DatasetRef, ModelRef } from '../../activities/refs';
import { trainCreditModel } from '../../test/serving/credit-model';
import { benchContext } from './machine';

// Scoring and evaluating a large dataset of German credit's columns (its held-out rows resampled)
// with an MLP trained on German credit. Each phase runs in its own process so that peak RSS is its own.
// Usage:
//   tsx bench/data/score.ts prepare [rows=1000000]    trains the model, writes the dataset (once)
//   tsx bench/data/score.ts score|onnx|evaluate        times one phase on what prepare wrote
// KILN_BENCH_DIR (default /tmp/kiln-bench-score) holds the artifact store between runs.

const dir = process.env.KILN_BENCH_DIR ?? '/tmp/kiln-bench-score';
const refsFile = join(dir, 'refs.json');

const context = () => benchContext(join(dir, 'artifacts'));

async function prepare(rows: number): Promise<void> {
  await mkdir(dir, { recursive: true });
  const ctx = context();
  const credit = await trainCreditModel(ctx, { architecture: 'mlp', hidden: [16, 8] });
  const source = await loadColumns(ctx.artifacts, credit.test);
  const random = mulberry32(11);
  const picks = Uint32Array.from({ length: rows }, () => Math.floor(random() * source.rows));
  const values = source.columns.map((c): ColumnValues => {
    const from = source.values.get(c.name)!;
    return from instanceof Float64Array
      ? Float64Array.from(picks, (i) => from[i]!)
      : Array.from(picks, (i) => from[i]!);
  });
  const dataset = await writeColumns(ctx.artifacts, source.columns, values, rows);
  await writeFile(refsFile, JSON.stringify({ model: credit.model, dataset, holdout: credit.test }));
  console.log(`prepared ${rows} rows in ${dir}: dataset ${dataset.sha256}`);
}

async function phase(name: string): Promise<void> {
  const ctx = context();
  const { model, dataset, holdout } = JSON.parse(await readFile(refsFile, 'utf8')) as {
    model: ModelRef;
    dataset: DatasetRef;
    holdout: DatasetRef;
  };
  const sha = (text: string) => createHash('sha256').update(text).digest('hex');
  // The German credit holdout first: its outputs' hashes are the ones to compare across versions.
  const small = async (target: DatasetRef) =>
    name === 'evaluate'
      ? await evaluateClassifierImpl
          .run(evaluateClassifier.input.parse({ model, dataset: target }), ctx)
          .then((out) => ({
            hash: out.report.sha256,
            metrics: sha(JSON.stringify(out.metrics)),
          }))
      : await scoreModelImpl
          .run(scoreModel.input.parse({ model, dataset: target, engine: name === 'onnx' ? 'onnx' : 'kiln' }), ctx)
          .then((out) => ({ hash: out.predictions.sha256, metrics: sha(JSON.stringify(out.summary)) }));
  const onHoldout = await small(holdout);
  const started = process.hrtime.bigint();
  const onLarge = await small(dataset);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const peak = process.resourceUsage().maxRSS / 1024;
  console.log(
    `${name}: ${dataset.rows} rows in ${seconds.toFixed(2)} s, ${Math.round(dataset.rows / seconds)} rows/s, peak RSS ${peak.toFixed(0)} MiB`,
  );
  console.log(`  holdout output ${onHoldout.hash} (summary/metrics ${onHoldout.metrics.slice(0, 16)})`);
  console.log(`  large output   ${onLarge.hash} (summary/metrics ${onLarge.metrics.slice(0, 16)})`);
}

const [command = 'score', arg] = process.argv.slice(2);
if (command === 'prepare') await prepare(Number(arg ?? 1_000_000));
else await phase(command);
