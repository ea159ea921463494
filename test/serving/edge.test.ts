import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import sirv from 'sirv';
import { loadDataset, type Row } from '../../activities/common/dataset/dataset';
import { readCsvImpl } from '../../activities/data/read-csv';
import { splitImpl } from '../../activities/data/split';
import { fitFeaturesImpl } from '../../activities/features/fit';
import { exportOnnxImpl } from '../../activities/model/export-onnx';
import { openOnnx } from '../../activities/model/onnx/session';
import { exportOnnx } from '../../activities/model/steps';
import type { ModelRef } from '../../activities/refs';
import { registerModelImpl } from '../../activities/registry/register';
import { trainClassifierImpl } from '../../activities/train/classifier';
import { exportEdgeBundle, type EdgeBundle } from '../../serving/edge/export';
import { edgeStore } from '../../serving/edge/source';
import { storeContext } from '../support/store-context';
import { SYSTEM } from '../../store/access';

// The edge bundle in a real browser: Debian's chromium, driven by playwright-core, loads the bundle
// from a static server on loopback and must give onnxruntime-node's probabilities within 1e-5.

const TOLERANCE = 1e-5;
const CHROMIUM = '/usr/bin/chromium';
/** Where the demo page's screenshot is kept for a person to look at. */
const OUTPUT = resolve(process.env.KILN_TEST_OUTPUT ?? '.kiln/test-output', 'serving-edge');

type Ctx = Awaited<ReturnType<typeof storeContext>>;
type Prediction = { probabilities: number[]; label: string };

let ctx: Ctx;
let work: string;
let holdout: Row[];
let trained: ModelRef;
let bundle: EdgeBundle;
let server: Server;
let base: string;
let browser: BrowserContext;
let page: Page;

before(async () => {
  ctx = await storeContext();
  work = await mkdtemp(join(tmpdir(), 'kiln-edge-'));
  const raw = await readCsvImpl.run({ path: 'examples/data/german-credit.csv', label: 'class' }, ctx);
  const split = await splitImpl.run({ dataset: raw.dataset, testFraction: 0.2, seed: 7, stratifyBy: 'class' }, ctx);
  const { transform } = await fitFeaturesImpl.run({ dataset: split.train, label: 'class' }, ctx);
  holdout = (await loadDataset(ctx.artifacts, split.test)).rows;
  ({ model: trained } = await trainClassifierImpl.run(
    {
      train: split.train,
      transform,
      label: 'class',
      positiveClass: 'bad',
      architecture: 'mlp',
      hidden: [16, 8],
      epochs: 40,
      learningRate: 0.01,
      batchSize: 64,
      l2: 0.001,
      seed: 7,
    },
    ctx,
  ));
  const { version } = await registerModelImpl.run({ name: 'credit-risk', model: trained, metrics: {} }, ctx);
  await ctx.full.registry.promote(SYSTEM, 'credit-risk', version, 'production');

  bundle = await exportEdgeBundle({
    store: edgeStore(ctx.full, SYSTEM),
    artifacts: ctx.artifacts,
    model: 'credit-risk@production',
    out: join(work, 'bundle'),
  });
  const serve = sirv(bundle.dir, { dev: true });
  server = createServer((req, res) =>
    serve(req, res, () => {
      res.writeHead(404).end();
    }),
  );
  await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  browser = await chromium.launchPersistentContext(await mkdtemp(join(work, 'profile-')), {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-quic',
      '--no-first-run',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  page = await browser.newPage();
  // Only the bundle's own server may be reached: a CDN fetch would fail here, and must not be tried.
  await page.route(
    (url) => !url.href.startsWith(`${base}/`),
    (route) => route.abort(),
  );
});

after(async () => {
  await browser?.close();
  await new Promise((done) => (server ? server.close(done) : done(undefined)));
  await ctx?.dispose();
  if (work) await rm(work, { recursive: true, force: true });
});

/** Imports the bundle's module in the page and predicts `rows` there, one by one or as a batch. */
const predictInBrowser = (rows: unknown[], mode: 'batch' | 'single') =>
  page.evaluate(
    async ({ rows, mode, base }) => {
      const { load } = await import(`${base}/kiln-edge.js`);
      const model = await load('/');
      try {
        if (mode === 'batch') return (await model.predictBatch(rows)) as Prediction[];
        const out: Prediction[] = [];
        for (const row of rows) out.push(await model.predict(row));
        return out;
      } finally {
        await model.release();
      }
    },
    { rows, mode, base },
  );

/** The message of the error `predict` throws in the page, or undefined when it does not throw. */
const browserError = (row: unknown, batch = false) =>
  page.evaluate(
    async ({ row, batch, base }) => {
      const { load } = await import(`${base}/kiln-edge.js`);
      const model = await load('/');
      try {
        await (batch ? model.predictBatch([row, row]) : model.predict(row));
        return undefined;
      } catch (error) {
        return `${(error as Error).name}: ${(error as Error).message}`;
      } finally {
        await model.release();
      }
    },
    { row, batch, base },
  );

describe('kiln export edge', () => {
  it('writes the graph, its signature, the module, a demo page and onnxruntime-web, nothing fetched from elsewhere', async () => {
    assert.deepEqual(bundle.files.map((f) => f.path).sort(), [
      'index.html',
      'kiln-edge.js',
      'model.onnx',
      'ort/ort-wasm-simd-threaded.wasm',
      'ort/ort.wasm.bundle.min.mjs',
      'signature.json',
    ]);
    const signature = JSON.parse(await readFile(join(bundle.dir, 'signature.json'), 'utf8'));
    assert.deepEqual(signature.model, {
      name: 'credit-risk',
      version: 1,
      artifactSha256: signature.model.artifactSha256,
      ref: 'credit-risk@production',
    });
    assert.deepEqual(signature.classes, ['good', 'bad']);
    const duration = signature.inputs.find((i: { name: string }) => i.name === 'duration');
    assert.deepEqual(
      { field: duration.field, tensor: duration.tensor, width: duration.width },
      { field: 'number', tensor: 'float32', width: 1 },
    );
    const purpose = signature.inputs.find((i: { name: string }) => i.name === 'purpose');
    assert.equal(purpose.field, 'string');
    assert.ok(purpose.categories.includes('radio/tv'), purpose.categories.join(', '));
    assert.deepEqual(
      signature.inputs.map((i: { name: string }) => i.name),
      Object.keys(holdout[0]!).filter((k) => k !== 'class'),
    );
    const js = await readFile(join(bundle.dir, 'kiln-edge.js'), 'utf8');
    assert.doesNotMatch(js, /https?:\/\//, 'the module names no remote URL');
  });

  it("predicts every German credit test row in Chromium within 1e-5 of Kiln's onnxruntime-node predictions", async (t) => {
    const exported = exportOnnx.output.parse(await exportOnnxImpl.run({ model: trained }, ctx));
    assert.equal(exported.onnx.sha256, bundle.signature.graph.sha256, "the bundle's graph is Kiln's ONNX export");
    const scorer = await openOnnx(ctx.artifacts, exported.onnx);
    const expected = await scorer.predictProba(holdout);
    const labels = (await scorer.run(holdout)).label!.data as string[];
    await scorer.close();

    await page.goto(`${base}/index.html`);
    const started = performance.now();
    const batch = await predictInBrowser(holdout, 'batch');
    const batchMs = performance.now() - started;
    const single = await predictInBrowser(holdout, 'single');
    assert.equal(batch.length, holdout.length);
    assert.equal(holdout.length, 200);
    let worst = { diff: 0, row: -1 };
    for (const got of [batch, single]) {
      got.forEach((p, i) =>
        p.probabilities.forEach((v, k) => {
          const diff = Math.abs(v - expected[i]![k]!);
          if (diff > worst.diff) worst = { diff, row: i };
        }),
      );
      assert.deepEqual(
        got.map((p) => p.label),
        labels,
      );
    }
    t.diagnostic(
      `${holdout.length} rows, batch and one by one: max |Δp| browser vs onnxruntime-node ${worst.diff.toExponential(2)} at row ${worst.row}; batch (with load) ${batchMs.toFixed(0)} ms`,
    );
    assert.ok(worst.diff <= TOLERANCE, `the browser and onnxruntime-node differ by ${worst.diff} on row ${worst.row}`);
  });

  it('refuses, in the browser, an object with a missing or mistyped field, naming the field (and the row of a batch)', async () => {
    await page.goto(`${base}/index.html`);
    const { class: _label, ...row } = holdout[0]!;
    const { duration: _d, ...missing } = row;
    assert.match(
      (await browserError(missing)) ?? 'no error',
      /^EdgeInputError: field 'duration': missing \(send null for a missing value\)$/,
    );
    assert.match(
      (await browserError({ ...row, credit_amount: '1200' })) ?? 'no error',
      /^EdgeInputError: field 'credit_amount': expected a number, got "1200"$/,
    );
    assert.match(
      (await browserError({ ...row, purpose: 7 })) ?? 'no error',
      /^EdgeInputError: field 'purpose': expected a string, got 7$/,
    );
    assert.match(
      (await browserError({ ...row, age: Number.POSITIVE_INFINITY }, true)) ?? 'no error',
      /^EdgeInputError: row 0, field 'age': expected a number, got Infinity$/,
    );
    assert.equal(await browserError({ ...row, age: null, housing: null }), undefined, 'null is a missing value');
  });

  it('shows one prediction on the demo page', async () => {
    await page.goto(`${base}/index.html`);
    await page.waitForSelector('body[data-state="done"], body[data-state="error"]', { timeout: 60_000 });
    assert.equal(await page.getAttribute('body', 'data-state'), 'done', (await page.textContent('#result')) ?? '');
    assert.match((await page.textContent('#title')) ?? '', /^credit-risk v1$/);
    assert.match((await page.textContent('#result')) ?? '', /Predicted: (good|bad)good: 0\.\d{4}bad: 0\.\d{4}/);
    await mkdir(OUTPUT, { recursive: true });
    await page.setViewportSize({ width: 760, height: 900 });
    await page.screenshot({ path: join(OUTPUT, 'demo.png'), fullPage: true });
  });

  it('refuses an --out that is a non-empty directory, leaving it untouched', async () => {
    const out = join(work, 'taken');
    await mkdir(out);
    await writeFile(join(out, 'notes.txt'), 'mine');
    await assert.rejects(
      exportEdgeBundle({ store: edgeStore(ctx.full, SYSTEM), artifacts: ctx.artifacts, model: 'credit-risk@1', out }),
      {
        name: 'EdgeExportError',
        message: `export edge: --out ${out} is not empty (1 entries, e.g. notes.txt); a bundle goes into a new or empty directory, so remove it or choose another`,
      },
    );
    assert.deepEqual(await readdir(out), ['notes.txt']);
    assert.deepEqual(
      (await readdir(work)).filter((f) => f.includes('partial')),
      [],
      'no partial bundle is left',
    );
  });

  it('refuses an --out that is a symbolic link, or that a symbolic link leads out of the working directory', async () => {
    const elsewhere = await mkdtemp(join(tmpdir(), 'kiln-edge-elsewhere-'));
    try {
      const project = join(work, 'project');
      await mkdir(project);
      await symlink(elsewhere, join(project, 'exports'));
      await symlink(elsewhere, join(project, 'bundle'));
      const input = {
        store: edgeStore(ctx.full, SYSTEM),
        artifacts: ctx.artifacts,
        model: 'credit-risk@production',
        cwd: project,
      };
      await assert.rejects(exportEdgeBundle({ ...input, out: 'bundle' }), {
        name: 'EdgeExportError',
        message: `export edge: --out bundle is a symbolic link (to ${elsewhere}); give the path of a new or empty directory`,
      });
      await assert.rejects(exportEdgeBundle({ ...input, out: 'exports/credit' }), {
        name: 'EdgeExportError',
        message: `export edge: --out exports/credit leads out of the working directory through a symbolic link (exports is ${elsewhere}); give that real path if it is meant`,
      });
      assert.deepEqual(await readdir(elsewhere), [], 'nothing was written through the link');
    } finally {
      await rm(elsewhere, { recursive: true, force: true });
    }
  });

  it('names an unknown model or alias', async () => {
    const input = { store: edgeStore(ctx.full, SYSTEM), artifacts: ctx.artifacts, out: join(work, 'never') };
    await assert.rejects(exportEdgeBundle({ ...input, model: 'credit-riks@production' }), (error: Error) => {
      assert.equal(error.message, 'export edge: no registered model credit-riks@production');
      assert.equal((error.cause as Error).message, "model 'credit-riks' is not in the store");
      return true;
    });
    await assert.rejects(exportEdgeBundle({ ...input, model: 'credit-risk@staging' }), (error: Error) => {
      assert.equal(error.message, 'export edge: no registered model credit-risk@staging');
      assert.equal(
        (error.cause as Error).message,
        "model version 'credit-risk@staging' is not in the store; versions: 1; aliases: production",
      );
      return true;
    });
    await assert.rejects(exportEdgeBundle({ ...input, model: 'credit-risk' }), {
      name: 'EdgeExportError',
      message: "export edge: expected <model>@<alias or version>, e.g. credit-risk@production; got 'credit-risk'",
    });
    await assert.rejects(readdir(input.out), { code: 'ENOENT' });
  });
});
