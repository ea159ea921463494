import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';

// Kiln as a user gets it: `npm pack` of this checkout, installed into a fresh project (from the
// local npm cache: the dependencies were installed here), with the project's own pipeline.

const run = promisify(execFile);
const repo = resolve(import.meta.dirname, '../..');
const dir = await mkdtemp(join(tmpdir(), 'kiln-pack-'));
const project = join(dir, 'my-pipelines');
const tsc = join(repo, 'node_modules/typescript/bin/tsc');
const npmEnv = { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip' };

const pipelineFile = `import { pipeline, readCsv, splitDataset, z } from 'kiln';

export default pipeline(
  { name: 'my-split', params: z.object({ data: z.string().default('data.csv') }) },
  (p, params) => {
    const raw = p.step(readCsv, { path: params.data });
    const split = p.step(splitDataset, { dataset: raw.dataset, testFraction: 0.25, seed: 1 });
    return { train: split.train, test: split.test };
  },
);
`;

// A user step wired wrongly: a step's summary where its dataset belongs.
const wrongFile = `import { datasetRef, defineStep, pipeline, readCsv, z } from 'kiln';

const count = defineStep({ name: 'my.count', version: '1', input: z.object({ dataset: datasetRef }), output: z.object({ rows: z.number() }) });

export default pipeline({ name: 'wrong' }, (p) => {
  const raw = p.step(readCsv, { path: 'data.csv' });
  p.step(count, { dataset: raw.summary });
});
`;

before(async () => {
  const { stdout } = await run('npm', ['pack', '--pack-destination', dir, '--json'], {
    cwd: repo,
    env: npmEnv,
    maxBuffer: 64 << 20,
  });
  const [packed] = JSON.parse(stdout.slice(stdout.indexOf('['))) as Array<{ filename: string }>;
  await run('mkdir', ['-p', project]);
  await writeFile(
    join(project, 'package.json'),
    JSON.stringify({ name: 'my-pipelines', private: true, type: 'module' }),
  );
  await writeFile(
    join(project, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        module: 'ESNext',
        moduleResolution: 'Bundler',
        strict: true,
        noEmit: true,
        skipLibCheck: true,
      },
    }),
  );
  await writeFile(join(project, 'pipeline.ts'), pipelineFile);
  // --prefer-offline: every package comes from the local cache when it is there.
  await run(
    'npm',
    [
      'install',
      '--prefer-offline',
      '--no-audit',
      '--no-fund',
      '--omit=dev',
      join(dir, packed!.filename),
      '@types/node@20',
    ],
    { cwd: project, env: npmEnv, maxBuffer: 64 << 20 },
  );
});

after(() => rm(dir, { recursive: true, force: true }));

describe('kiln installed from its packed tarball', { timeout: 900_000 }, () => {
  it('ships the sources, the bin and the type declarations, and no tests', async () => {
    const installed = join(project, 'node_modules/kiln');
    const top = await readdir(installed);
    for (const entry of ['cli', 'dsl', 'sdk', 'dist', 'package.json']) assert.ok(top.includes(entry), entry);
    for (const entry of ['test', 'bench', 'node_modules']) assert.ok(!top.includes(entry), entry);
    assert.ok((await readdir(join(installed, 'dist/types/sdk'))).includes('index.d.ts'));
  });

  it("runs `npx kiln plan` on the project's own pipeline, importing from 'kiln'", async () => {
    const { stdout } = await run('npx', ['--offline', 'kiln', 'plan', 'pipeline.ts'], { cwd: project, env: npmEnv });
    assert.match(stdout, /my-split v1 {2}plan [0-9a-f]{12}/);
    assert.match(stdout, /split {2}\[data\.split\] {2}<- readCsv/);
  });

  it("type-checks the pipeline against the package's declarations, and fails a wrongly wired user step", async () => {
    await run(process.execPath, [tsc, '-p', '.'], { cwd: project });
    await writeFile(join(project, 'wrong.ts'), wrongFile);
    const failed = await run(process.execPath, [tsc, '-p', '.'], { cwd: project }).then(
      () => undefined,
      (error: { stdout: string }) => error.stdout,
    );
    await rm(join(project, 'wrong.ts'));
    assert.ok(failed, 'tsc accepted a summary wired where a dataset belongs');
    assert.match(failed, /wrong\.ts\(7,\d+\): error TS2322/);
    assert.match(failed, /dataset/);
  });
});
