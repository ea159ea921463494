import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { mulberry32 } from '../../activities/common/random';

// Writes a CSV of the shape: 8 numeric columns (6 decimals, 2 integers) and a string label.
// Usage: tsx bench/data/generate.ts <rows> <path>

/** Writes `rows` seeded rows to `path`; the same arguments give the same bytes. */
export async function generateCsv(rows: number, path: string, seed = 7): Promise<void> {
  const random = mulberry32(seed);
  const out = createWriteStream(path);
  let text = 'a,b,c,d,e,f,g,h,label\n';
  for (let i = 0; i < rows; i++) {
    const x = random();
    text +=
      `${(x * 100).toFixed(4)},${(random() * 10 - 5).toFixed(6)},${Math.floor(random() * 1000)},` +
      `${random().toFixed(5)},${(random() * 1e4).toFixed(2)},${(random() * 3).toFixed(3)},` +
      `${Math.floor(random() * 50)},${(random() - 0.5).toFixed(6)},${x + random() * 0.5 > 0.7 ? 'yes' : 'no'}\n`;
    if (text.length > 1 << 20) {
      if (!out.write(text)) await once(out, 'drain');
      text = '';
    }
  }
  out.end(text);
  await once(out, 'finish');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await generateCsv(Number(process.argv[2] ?? 500_000), process.argv[3] ?? 'bench.csv');
}
