import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { mulberry32 } from '../../activities/common/random';

// The training benchmark's data (issue 12): `rows` rows of 8 numeric columns x1..x8 and a string
// label 'yes'/'no' drawn from a logistic model of them, about 45 bytes a row (22 MB at 500,000
// rows). Seeded: the same arguments give the same bytes on every machine.
// Usage: npx tsx bench/training/generate.ts OUT.csv [ROWS] [SEED]

/** The true model, per standard deviation of each column; the columns have different scales and offsets (so standardization matters), two of them are noise. */
const COEFFICIENTS = [0.8, -0.5, 0.9, 0, 1.2, -0.8, 0.4, 0];
const SCALES = [1, 2, 30, 5, 0.5, 400, 1, 10];
const OFFSETS = [0, 5, 100, -3, 1, 2000, 0, 50];

/** A standard normal from two uniforms (Box–Muller). */
const normal = (random: () => number) => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());

export async function generateCsv(path: string, rows = 500_000, seed = 12): Promise<void> {
  const random = mulberry32(seed);
  const out = createWriteStream(path);
  out.write(`${COEFFICIENTS.map((_, j) => `x${j + 1}`).join(',')},label\n`);
  let chunk = '';
  for (let i = 0; i < rows; i++) {
    let z = -0.3;
    const cells = SCALES.map((scale, j) => {
      const standard = normal(random);
      z += COEFFICIENTS[j]! * standard;
      return Number((OFFSETS[j]! + scale * standard).toFixed(3));
    });
    const label = random() < 1 / (1 + Math.exp(-z)) ? 'yes' : 'no';
    chunk += `${cells.join(',')},${label}\n`;
    if (chunk.length > 1 << 20) {
      if (!out.write(chunk)) await once(out, 'drain');
      chunk = '';
    }
  }
  out.end(chunk);
  await once(out, 'finish');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [path, rows, seed] = process.argv.slice(2);
  if (!path) throw new Error('usage: generate.ts OUT.csv [ROWS] [SEED]');
  await generateCsv(path, rows ? Number(rows) : undefined, seed ? Number(seed) : undefined);
}
