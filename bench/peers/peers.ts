// Kiln next to its peers on the same shapes, in one run: bench/overhead (Kiln's chain, light chain
// and fan-out against hand-written Temporal workflows, the floor) and bench/peers/peers.py (the same
// chain and fan-out in Prefect 3 and Dagster), one after the other, then one table.
// Usage: bash bench/peers/run.sh (installs the peers into bench/.venv), or
//        tsx bench/peers/peers.ts --python bench/.venv/bin/python
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const repo = join(dirname(fileURLToPath(import.meta.url)), '../..');
const { values } = parseArgs({
  options: { python: { type: 'string', default: join(repo, 'bench/.venv/bin/python') } },
});
const N = Number(process.env.STEPS ?? 100);
const REPS = Number(process.env.REPS ?? 5);

interface OverheadRow {
  case: string;
  kiln: number;
  hand: number;
}
interface PeerResults {
  versions: Record<string, string>;
  ms_per_task: Record<string, Record<string, number>>;
}

/** Runs a command with the benchmark's environment; its output goes to `log`, which is shown if it fails. */
function run(command: string, args: string[], env: Record<string, string>): Promise<string> {
  return new Promise((done, fail) => {
    const child = spawn(command, args, {
      cwd: repo,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let log = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (log = (log + chunk.toString()).slice(-8000)));
    child.once('error', fail);
    child.once('close', (code) =>
      code === 0
        ? done(out)
        : fail(new Error(`${command} ${args.join(' ')} exited with ${code}:\n${log}${out.slice(-4000)}`)),
    );
  });
}

const dir = await mkdtemp(join(tmpdir(), 'kiln-peers-'));
const json = join(dir, 'overhead.json');
const started = new Date();
process.stderr.write(`peers: Kiln and the hand-written floor (bench/overhead), ${N} steps, ${REPS} runs each\n`);
await run('npx', ['tsx', 'bench/overhead/overhead.ts'], {
  STEPS: String(N),
  REPS: String(REPS),
  BENCH_JSON: json,
});
const overhead = JSON.parse(await readFile(json, 'utf8')) as { rows: OverheadRow[] };
process.stderr.write(`peers: Prefect and Dagster (bench/peers/peers.py)\n`);
const peersOut = await run(values.python!, ['bench/peers/peers.py'], { STEPS: String(N), REPS: String(REPS) });
const peers = JSON.parse(peersOut.trim().split('\n').pop()!) as PeerResults;
await rm(dir, { recursive: true, force: true });

const row = (name: string) => overhead.rows.find((r) => r.case === name)!;
const peer = (engine: string, shape: string) => peers.ms_per_task[engine]?.[shape];
const shapes = [
  { label: `chain of ${N}`, kiln: row(`chain of ${N}`), floor: 'activities', peer: 'chain' },
  { label: `chain of ${N}, light`, kiln: row(`light chain of ${N}`), floor: 'local activities', peer: 'chain' },
  { label: `fan-out of ${N}`, kiln: row(`fan-out of ${N}`), floor: 'activities', peer: 'fan-out' },
];

console.log(
  `Kiln and peers, ms per step (median of ${REPS} runs after a warm-up), ${cpus().length} cores, ${cpus()[0]?.model}, ` +
    `${Math.round(totalmem() / 2 ** 30)} GiB, ${started.toISOString().slice(0, 16)}Z; ` +
    Object.entries(peers.versions)
      .map(([k, v]) => `${k} ${v}`)
      .join(', '),
);
const cols = ['case', 'Kiln', 'Temporal floor', 'Kiln/floor', 'Prefect', 'Dagster', 'Prefect/Kiln', 'Dagster/Kiln'];
const widths = [22, 8, 26, 11, 9, 9, 13, 13];
const line = (cells: string[]) =>
  console.log(cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' '));
line(cols);
const fmt = (x: number | undefined) => (x === undefined ? '—' : x.toFixed(2));
const ratio = (a: number | undefined, b: number) => (a === undefined ? '—' : `${(a / b).toFixed(2)}x`);
for (const s of shapes) {
  const prefect = peer('prefect', s.peer);
  const dagster = peer('dagster', s.peer);
  line([
    s.label,
    fmt(s.kiln.kiln),
    `${fmt(s.kiln.hand)} (${s.floor})`,
    ratio(s.kiln.kiln, s.kiln.hand),
    fmt(prefect),
    fmt(dagster),
    ratio(prefect, s.kiln.kiln),
    ratio(dagster, s.kiln.kiln),
  ]);
}
