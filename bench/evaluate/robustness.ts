import { createHash } from 'node:crypto';
import { parseArgs } from 'node:util';
import type { StepContext } from '../../activities/library';
import { writeColumns } from '../../activities/common/dataset/dataset';
import { mulberry32 } from '../../activities/common/random';
import type { ModelSpec } from '../../activities/common/model/model';
import { modelRef } from '../../activities/refs';
import { evaluateRobustnessImpl } from '../../activities/evaluate/robustness';
import { validateChampionImpl } from '../../activities/validate/champion';
import { testContext } from '../../test/support/step-context';

// evaluate.robustness and validate.champion on a generated held-out set of `rows` rows (8
// numeric columns of different scales, a region, a 'yes'/'no' label drawn from a logistic model
// of them, as bench/training/generate.ts draws it) scored by that true model, written as a
// version 2 (Parquet) dataset. Times each step `repeat` times and prints rows/s and the peak RSS
// of the process (which includes generating the data: the baseline line shows it).
// Usage: npx tsx bench/evaluate/robustness.ts [--step robustness|champion] [--rows 375000] [--repeat 2]

const { values: args } = parseArgs({
  options: {
    rows: { type: 'string', default: '375000' },
    repeat: { type: 'string', default: '2' },
    // One step per process gives each its own peak RSS.
    step: { type: 'string', default: 'robustness' },
  },
});
const rows = Number(args.rows);
const repeat = Number(args.repeat);

const COEFFICIENTS = [0.8, -0.5, 0.9, 0, 1.2, -0.8, 0.4, 0];
const SCALES = [1, 2, 30, 5, 0.5, 400, 1, 10];
const OFFSETS = [0, 5, 100, -3, 1, 2000, 0, 50];
const REGIONS = ['east', 'north', 'south', 'west'];
const REGION_EFFECT = [0.2, 0.4, -0.4, -0.2];
const normal = (random: () => number) => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());

const random = mulberry32(12);
const x = COEFFICIENTS.map(() => new Float64Array(rows));
const region: string[] = [];
const label: string[] = [];
for (let i = 0; i < rows; i++) {
  let z = -0.3;
  COEFFICIENTS.forEach((c, j) => {
    const standard = normal(random);
    z += c * standard;
    x[j]![i] = Number((OFFSETS[j]! + SCALES[j]! * standard).toFixed(3));
  });
  const r = Math.floor(random() * REGIONS.length);
  // Some cells missing, so imputation is exercised.
  if (random() < 0.02) x[0]![i] = Number.NaN;
  region.push(REGIONS[r]!);
  label.push(random() < 1 / (1 + Math.exp(-(z + REGION_EFFECT[r]!))) ? 'yes' : 'no');
}

const model = (weight: number): ModelSpec => ({
  kind: 'kiln.model',
  version: 1,
  task: 'binary',
  architecture: 'logistic',
  label: 'label',
  classes: ['no', 'yes'],
  transform: {
    sha256: '0'.repeat(64),
    spec: {
      kind: 'kiln.transform',
      version: 1,
      label: 'label',
      features: [
        ...COEFFICIENTS.map((_, j) => ({
          name: `x${j + 1}`,
          type: 'numeric' as const,
          mean: OFFSETS[j]!,
          std: SCALES[j]!,
        })),
        { name: 'region', type: 'categorical' as const, categories: REGIONS },
      ],
    },
  },
  layers: [
    {
      weights: [...COEFFICIENTS, ...REGION_EFFECT].map((c) => [c * weight]),
      bias: [-0.3],
      activation: 'sigmoid',
    },
  ],
  backend: 'bench',
  seed: 0,
  params: { hidden: [], epochs: 0, learningRate: 0, batchSize: 1, l2: 0 },
});

const ctx = await testContext();
try {
  const columns = [
    ...x.map((_, j) => ({ name: `x${j + 1}`, type: 'number' as const })),
    { name: 'region', type: 'string' as const },
    { name: 'label', type: 'string' as const },
  ];
  const dataset = await writeColumns(ctx.artifacts, columns, [...x, region, label], rows);
  const ref = async (spec: ModelSpec) => {
    const stored = await ctx.artifacts.putJson(spec);
    return modelRef.parse({
      kind: 'model',
      ...stored,
      task: 'binary',
      architecture: 'logistic',
      label: 'label',
      classes: spec.classes,
      backend: 'bench',
    });
  };
  const challenger = await ref(model(1));
  const champion = await ref(model(0.8));
  const base = process.memoryUsage.rss();
  console.log(`${rows} rows; RSS after generating and writing the data ${(base / 2 ** 20).toFixed(0)} MiB`);

  const time = async (name: string, run: () => Promise<unknown>) => {
    for (let k = 0; k < repeat; k++) {
      const start = performance.now();
      const out = await run();
      const s = (performance.now() - start) / 1000;
      const peak = process.resourceUsage().maxRSS / 1024;
      console.log(
        `${name.padEnd(20)} ${s.toFixed(2)} s  ${Math.round(rows / s).toLocaleString('en')} rows/s  peak RSS ${peak.toFixed(0)} MiB`,
      );
      // The output's hash, to check that a change of implementation leaves it the same.
      if (k === repeat - 1)
        console.log(`  output sha256 ${createHash('sha256').update(JSON.stringify(out)).digest('hex')}`);
    }
  };

  if (args.step === 'robustness')
    await time('evaluate.robustness', () =>
      evaluateRobustnessImpl.run(
        {
          model: challenger,
          dataset,
          seed: 1,
          noise: 0.05,
          missingRate: 0.1,
          threshold: 0.5,
          sliceBy: ['region', 'x1'],
          worstBy: 'accuracy',
          minSliceSize: 10,
          gates: [],
        },
        ctx,
      ),
    );

  // A registry that names the champion model; the step reads nothing else from the store.
  const store = {
    registry: { getModelVersion: async () => ({ version: 1, artifactSha256: champion.sha256 }) },
  } as unknown as NonNullable<StepContext['store']>;
  if (args.step === 'champion')
    await time('validate.champion', () =>
      validateChampionImpl.run(
        { model: challenger, dataset, registeredName: 'bench', alias: 'production', metric: 'roc_auc', margin: 0.5 },
        { ...ctx, store },
      ),
    );
} finally {
  await ctx.dispose();
}
