import type { StepContext } from '../../activities/library';
import type { AddressInfo } from 'node:net';
import type { Row } from '../../activities/common/dataset/dataset';
import { loadDataset } from '../../activities/common/dataset/dataset';
import type { ModelSpec } from '../../activities/common/model/model';
import { loadModel } from '../../activities/common/model/model';
import type { ArtifactStore } from '../../activities/artifacts/store';
import { readCsvImpl } from '../../activities/data/read-csv';
import { splitImpl } from '../../activities/data/split';
import { fitFeaturesImpl } from '../../activities/features/fit';
import type { DatasetRef, ModelRef } from '../../activities/refs';
import { registerModelImpl } from '../../activities/registry/register';
import { trainClassifierImpl } from '../../activities/train/classifier';
import { createModelServer, storeSource, type ModelServer, type ModelServerOptions } from '../../serving';
import type { Store } from '../../store';
import type { testContext } from '../support/step-context';
import { SYSTEM } from '../../store/access';
import { stepStore } from '../../workers/step-store';

// The German credit model the serving tests serve: a logistic regression trained on the example's
// split (seed 7), its held-out rows, and variants of it registered as further versions.

type Ctx = Awaited<ReturnType<typeof testContext>>;

export interface CreditModel {
  model: ModelRef;
  spec: ModelSpec;
  test: DatasetRef;
  holdout: Row[];
}

/** Trains on the example's split; a logistic regression unless `network` asks for hidden layers. */
export async function trainCreditModel(
  ctx: StepContext,
  network: { architecture: 'logistic' | 'mlp'; hidden?: number[] } = { architecture: 'logistic' },
): Promise<CreditModel> {
  const raw = await readCsvImpl.run({ path: 'examples/data/german-credit.csv', label: 'class' }, ctx);
  const split = await splitImpl.run({ dataset: raw.dataset, testFraction: 0.2, seed: 7, stratifyBy: 'class' }, ctx);
  const { transform } = await fitFeaturesImpl.run({ dataset: split.train, label: 'class' }, ctx);
  const { model } = await trainClassifierImpl.run(
    {
      train: split.train,
      transform,
      label: 'class',
      positiveClass: 'bad',
      ...network,
      epochs: 30,
      learningRate: 0.05,
      batchSize: 64,
      l2: 0.001,
      seed: 7,
    },
    ctx,
  );
  return {
    model,
    spec: await loadModel(ctx.artifacts, model.uri),
    test: split.test,
    holdout: (await loadDataset(ctx.artifacts, split.test)).rows,
  };
}

/** The same model with its output bias moved by `shift`: another artifact, so another version, with other answers. */
export async function shiftedModel(artifacts: ArtifactStore, credit: CreditModel, shift: number): Promise<ModelRef> {
  const layers = credit.spec.layers.map((l, i) =>
    i === credit.spec.layers.length - 1 ? { ...l, bias: l.bias.map((b) => b + shift) } : l,
  );
  const stored = await artifacts.putJson({ ...credit.spec, layers });
  return { ...credit.model, ...stored };
}

/**
 * The same model with a row cut from its first layer's weights: it loads and registers, but every
 * forward pass throws (the layer expects one input fewer than the transform gives), so each request is a 500.
 */
export async function brokenModel(artifacts: ArtifactStore, credit: CreditModel): Promise<ModelRef> {
  const layers = credit.spec.layers.map((l, i) => (i === 0 ? { ...l, weights: l.weights.slice(0, -1) } : l));
  const stored = await artifacts.putJson({ ...credit.spec, layers });
  return { ...credit.model, ...stored };
}

/** Registers a model as the next version of `name` through the registry step; returns the version. */
export async function register(
  ctx: Ctx,
  store: Store,
  model: ModelRef,
  name = 'credit-risk',
  alias?: string,
): Promise<number> {
  const { version } = await registerModelImpl.run(
    { name, model, metrics: {} },
    { ...ctx, store: stepStore(store, ctx.run.workflowId) },
  );
  if (alias) await store.registry.promote(SYSTEM, name, version, alias);
  return version;
}

/** A model server over the store on a loopback port, loaded; `url` is its base. */
export async function startServer(
  ctx: Ctx,
  store: Store,
  options: Partial<ModelServerOptions> = {},
): Promise<{ server: ModelServer; url: string }> {
  const server = createModelServer({
    source: storeSource(store, ctx.artifacts, SYSTEM),
    models: [{ name: 'credit-risk', alias: 'production' }],
    pollMs: 50,
    ...options,
  });
  await server.app.listen({ port: 0, host: '127.0.0.1' });
  await server.load();
  const { port } = server.app.server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}` };
}

export async function post(url: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** A held-out row without its label, as a client would send it. */
export const features = (row: Row): Record<string, unknown> => {
  const { class: _label, ...rest } = row;
  return rest;
};
