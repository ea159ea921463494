import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { exportOnnxImpl } from '../../activities/model/export-onnx';
import { exportOnnx } from '../../activities/model/steps';
import { openStore } from '../../store';
import { features, register, trainCreditModel } from '../../test/serving/credit-model';
import { testContext } from '../../test/support/step-context';

// The serving benchmark, in one run on loopback, each server in its own process and autocannon in
// this one: the floor (a node:http JSON echo), Kiln's server one row per request (prediction log
// off, then on), Kiln's server with batches of 1,000 rows, and FastAPI + uvicorn + onnxruntime on
// the same exported ONNX graph (with --python; bench/serve/run.sh makes the venv).
//   bash bench/serve/run.sh [--duration 10] [--connections 10]

const { values } = parseArgs({
  options: {
    python: { type: 'string' },
    duration: { type: 'string', default: '10' },
    connections: { type: 'string', default: '10' },
  },
});
const duration = Number(values.duration);
const connections = Number(values.connections);

const freePort = () =>
  new Promise<number>((done, fail) => {
    const probe = createServer();
    probe.once('error', fail);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => done(port));
    });
  });

/** Starts a server process and waits until a request to `path` with `body` gets a 200. */
async function start(command: string, args: string[], url: string | undefined, path: string, body: string) {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  let printed = '';
  child.stdout!.on('data', (chunk: Buffer) => (printed += chunk.toString()));
  for (let i = 0; i < 600; i++) {
    if (child.exitCode !== null) throw new Error(`${command} ${args.join(' ')} exited with ${child.exitCode}`);
    const base = url ?? /ready (\S+)/.exec(printed)?.[1];
    if (base) {
      const ok = await fetch(`${base}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      })
        .then((r) => r.status === 200)
        .catch(() => false);
      if (ok) return { child, base };
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGTERM');
  throw new Error(`${command} ${args.join(' ')} did not answer within 60 s`);
}

const stop = (child: ChildProcess) =>
  new Promise<void>((done) => {
    if (child.exitCode !== null) return done();
    child.once('exit', () => done());
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 5000).unref();
  });

interface Result {
  name: string;
  rowsPerRequest: number;
  requestsPerSecond: number;
  p50: number;
  p99: number;
}

async function load(name: string, url: string, body: string, rowsPerRequest: number): Promise<Result> {
  const options = {
    url,
    method: 'POST' as const,
    headers: { 'content-type': 'application/json' },
    body,
    connections,
  };
  await autocannon({ ...options, duration: 2 }); // warm-up: JIT, pools, caches
  const result = await autocannon({ ...options, duration });
  if (result.non2xx > 0 || result.errors > 0 || result.timeouts > 0)
    throw new Error(`${name}: ${result.non2xx} non-2xx, ${result.errors} errors, ${result.timeouts} timeouts`);
  return {
    name,
    rowsPerRequest,
    requestsPerSecond: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
  };
}

const ctx = await testContext();
const work = await mkdtemp(join(tmpdir(), 'kiln-bench-serve-'));
const results: Result[] = [];
try {
  const credit = await trainCreditModel(ctx);
  const store = await openStore({ dir: join(work, 'db') });
  try {
    await register(ctx, store, credit.model, 'credit-risk', 'production');
  } finally {
    await store.close();
  }
  const { onnx, signature } = exportOnnx.output.parse(await exportOnnxImpl.run({ model: credit.model }, ctx));
  await writeFile(join(work, 'model.onnx'), await ctx.artifacts.read(onnx.uri));
  await writeFile(join(work, 'signature.json'), JSON.stringify(signature));

  const path = '/v1/models/credit-risk/predict';
  const rows = credit.holdout.map(features);
  const one = JSON.stringify(rows[0]);
  const thousand = JSON.stringify({ rows: Array.from({ length: 1000 }, (_, i) => rows[i % rows.length]) });
  const node = (script: string, ...args: string[]) => ['--import', 'tsx', script, ...args];

  const run = async (name: string, server: Awaited<ReturnType<typeof start>>, at: string, body: string, n: number) => {
    try {
      results.push(await load(name, `${server.base}${at}`, body, n));
      console.error(`done: ${name}`);
    } finally {
      await stop(server.child);
    }
  };
  await run(
    'node:http JSON echo (floor)',
    await start(process.execPath, node('bench/serve/echo-server.ts'), undefined, '/', one),
    '/',
    one,
    1,
  );
  const kiln = (log: string) =>
    start(process.execPath, node('bench/serve/kiln-server.ts', work, ctx.artifacts.root, log), undefined, path, one);
  await run('Kiln, 1 row/request', await kiln('no-log'), path, one, 1);
  await run('Kiln, 1 row/request, prediction log on', await kiln('log'), path, one, 1);
  await run('Kiln, 1,000 rows/request', await kiln('no-log'), path, thousand, 1000);
  if (values.python) {
    const fastapi = async () => {
      const port = await freePort();
      const url = `http://127.0.0.1:${port}`;
      return start(
        values.python!,
        ['bench/serve/fastapi_server.py', join(work, 'model.onnx'), join(work, 'signature.json'), String(port)],
        url,
        path,
        one,
      );
    };
    await run('FastAPI + uvicorn + onnxruntime, 1 row/request', await fastapi(), path, one, 1);
    await run('FastAPI + uvicorn + onnxruntime, 1,000 rows/request', await fastapi(), path, thousand, 1000);
  }
} finally {
  await ctx.dispose();
  await rm(work, { recursive: true, force: true });
}

const floor = results[0]!;
const fmt = (n: number, digits = 0) =>
  n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
console.log(
  `\n${new Date().toISOString().slice(0, 10)}, ${cpus().length} × ${cpus()[0]?.model.trim()}, Node ${process.version}; autocannon, ${connections} connections, ${duration} s (after 2 s warm-up) per row\n`,
);
console.log('| server | req/s | rows/s | p50 ms | p99 ms | req/s vs floor | p99 vs floor |');
console.log('|---|---:|---:|---:|---:|---:|---:|');
for (const r of results)
  console.log(
    `| ${r.name} | ${fmt(r.requestsPerSecond)} | ${fmt(r.requestsPerSecond * r.rowsPerRequest)} | ${fmt(r.p50, 2)} | ${fmt(r.p99, 2)} | ${fmt((100 * r.requestsPerSecond) / floor.requestsPerSecond)}% | ${fmt(r.p99 / floor.p99, 2)}x |`,
  );
const kilnOne = results.find((r) => r.name === 'Kiln, 1 row/request');
const logged = results.find((r) => r.name.includes('log on'));
const fastapiOne = results.find((r) => r.name.startsWith('FastAPI') && r.rowsPerRequest === 1);
if (kilnOne && logged)
  console.log(
    `\nLatency the prediction log adds: p50 ${fmt(logged.p50 - kilnOne.p50, 2)} ms, p99 ${fmt(logged.p99 - kilnOne.p99, 2)} ms`,
  );
if (kilnOne && fastapiOne) console.log(`FastAPI p99 / Kiln p99: ${fmt(fastapiOne.p99 / kilnOne.p99, 1)}x`);
