import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { storeContext } from '../../support/store-context';
import { linearModel } from '../../fixtures/models';
import { buildOnnx } from '../../../activities/model/onnx/build';
import { openOnnx } from '../../../activities/model/onnx/session';
import { importOnnxImpl } from '../../../activities/model/import-onnx';
import { importOnnx } from '../../../activities/model/steps';
import type { OnnxSignature } from '../../../activities/refs';
import { registerModel, registerModelImpl } from '../../../activities/registry/register';
import { loadModel } from '../../../activities/common/model/model';
import type { Store } from '../../../store';
import { SYSTEM } from '../../../store/access';

type Ctx = Awaited<ReturnType<typeof storeContext>>;

// A model trained elsewhere arrives as an .onnx file with a declared signature: model.importOnnx
// checks it against the graph, registry.register records it as a version with that signature.
describe('registry.register with an imported ONNX model', () => {
  let store: Store;
  let ctx: Ctx;
  let file: string;
  const declared: OnnxSignature = {
    inputs: [{ name: 'x', type: 'float32', shape: [null, 1] }],
    outputs: [
      { name: 'probabilities', type: 'float32', shape: [null, 2] },
      { name: 'label', type: 'string', shape: [null] },
    ],
    classes: ['no', 'yes'],
  };

  before(async () => {
    ctx = await storeContext();
    store = ctx.full;
    // Stands in for a graph from another framework: a logistic model on x, written to an .onnx file.
    const model = await loadModel(ctx.artifacts, (await linearModel(ctx.artifacts, { weight: 2, bias: -1 })).uri);
    file = join(ctx.artifacts.root, 'external.onnx');
    await writeFile(file, buildOnnx(model));
  });
  after(async () => {
    await ctx.dispose();
  });

  const imported = async () =>
    importOnnx.output.parse(await importOnnxImpl.run(importOnnx.input.parse({ path: file, signature: declared }), ctx));

  it('registers the graph as a version whose signature, read back from the store, is the declared one', async () => {
    const { onnx } = await imported();
    const input = registerModel.input.parse({
      name: 'external-risk',
      model: onnx,
      metrics: { rocAuc: 0.71 },
      signature: declared,
    });
    const out = await registerModelImpl.run(input, ctx);
    assert.deepEqual(out, { name: 'external-risk', version: 1 });
    const version = await store.registry.getModelVersion(SYSTEM, 'external-risk', 1);
    assert.equal(version.artifactSha256, onnx.sha256);
    assert.deepEqual(version.metrics, { rocAuc: 0.71 });
    assert.deepEqual(version.signature, { format: 'onnx', ...declared });
    assert.equal((await store.artifacts.getArtifact(SYSTEM, onnx.sha256))?.kind, 'onnx');
    // The registered bytes are the graph: it scores sigmoid(2x − 1).
    const scorer = await openOnnx(ctx.artifacts, onnx);
    try {
      const [p] = await scorer.predictProba([{ x: 0.5 }]);
      assert.ok(Math.abs(p![1]! - 0.5) < 1e-6);
    } finally {
      await scorer.close();
    }
  });

  it('records the signature stored with the graph when none is given', async () => {
    const { onnx, signature } = await imported();
    const out = await registerModelImpl.run(registerModel.input.parse({ name: 'external-plain', model: onnx }), ctx);
    const version = await store.registry.getModelVersion(SYSTEM, 'external-plain', out.version);
    assert.deepEqual(version.signature, { format: 'onnx', ...signature });
    assert.deepEqual((version.signature as OnnxSignature).classes, ['no', 'yes']);
  });

  it('refuses a given signature the graph does not have, naming the input, and registers nothing', async () => {
    const { onnx } = await imported();
    const wrong = { ...declared, inputs: [{ name: 'x', type: 'string' as const }] };
    await assert.rejects(
      registerModelImpl.run(registerModel.input.parse({ name: 'external-wrong', model: onnx, signature: wrong }), ctx),
      (error: unknown) => {
        assert.ok(error instanceof ApplicationFailure && error.type === 'InvalidData' && error.nonRetryable);
        assert.match(
          error.message,
          /registry\.register: the signature given does not match ONNX model .*input 'x': declared string, the model has float32/,
        );
        return true;
      },
    );
    const relabelled = { ...declared, classes: ['yes', 'no'] };
    await assert.rejects(
      registerModelImpl.run(
        registerModel.input.parse({ name: 'external-wrong', model: onnx, signature: relabelled }),
        ctx,
      ),
      /classes: declared yes, no, the graph was imported with no, yes/,
    );
    assert.equal(await store.registry.getModel(SYSTEM, 'external-wrong'), undefined);
  });
});
