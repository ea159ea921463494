import { loadPredictor, type Predictor } from '../../serving';
import { features, trainCreditModel } from '../../test/serving/credit-model';
import { testContext } from '../../test/support/step-context';

// Which engine the server runs each kind of Kiln model with (serving/engines.ts FASTER_ENGINE):
// Kiln's forward pass against onnxruntime-node on the exported graph, on the German credit model,
// one row per call and 1,000 rows per call, in this process.
//   npx tsx bench/serve/engines.ts

const ctx = await testContext();

async function time(predictor: Predictor, rows: Record<string, unknown>[], calls: number): Promise<number> {
  for (let i = 0; i < Math.min(calls, 200); i++) await predictor.predict(rows);
  const started = performance.now();
  for (let i = 0; i < calls; i++) await predictor.predict(rows);
  return (performance.now() - started) / calls;
}

const lines: string[] = [];
try {
  for (const network of [{ architecture: 'logistic' as const }, { architecture: 'mlp' as const, hidden: [16, 8] }]) {
    const credit = await trainCreditModel(ctx, network);
    const artifact = {
      model: 'credit-risk',
      version: 1,
      kind: 'model',
      sha256: credit.model.sha256,
      signature: null,
      bytes: await ctx.artifacts.read(credit.model.uri),
    };
    const rows = credit.holdout.map(features);
    const batch = Array.from({ length: 1000 }, (_, i) => rows[i % rows.length]!);
    for (const engine of ['kiln', 'onnx'] as const) {
      const predictor = await loadPredictor(artifact, engine);
      const one = await time(predictor, [rows[0]!], 20_000);
      const thousand = await time(predictor, batch, 200);
      lines.push(
        `| ${network.architecture.padEnd(8)} | ${engine.padEnd(4)} | ${(one * 1000).toFixed(1).padStart(8)} µs | ${Math.round(
          1000 / (thousand / 1000),
        )
          .toLocaleString('en-US')
          .padStart(10)} rows/s |`,
      );
      await predictor.close();
    }
  }
} finally {
  await ctx.dispose();
}
console.log('| model    | engine | one row / call | 1,000 rows / call |');
console.log('|---|---|---:|---:|');
for (const line of lines) console.log(line);
