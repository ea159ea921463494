import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { z } from 'zod';
import { builtinSteps } from '../../../activities';
import {
  evaluateClassifier,
  evaluateFairness,
  evaluateRobustness,
  fitFeatures,
  readCsv,
  registerModel,
  setAlias,
  splitDataset,
  trainClassifier,
  validateChampion,
} from '../../../activities/steps';
import { pipeline } from '../../../dsl';
import { testBackends } from '../../support/backends';
import { statusQuery } from '../../../workflows';
import { approveWhenWaiting, approverAndViewer } from '../../fixtures/gates';
import { recordingEngine } from '../../fixtures/recording-engine';
import { SYSTEM } from '../../../store/access';

// Train, validate (fairness by sex with the four-fifths rule, robustness, champion), register, ask a
// person, and move `production` as that person.
const release = pipeline(
  { name: 'credit-release', params: z.object({ epochs: z.number().int().default(100) }) },
  (p, params) => {
    const raw = p.step(readCsv, { path: 'examples/data/german-credit.csv', label: 'class' });
    const split = p.step(splitDataset, { dataset: raw.dataset, testFraction: 0.2, seed: 7, stratifyBy: 'class' });
    const features = p.step(fitFeatures, { dataset: split.train, label: 'class' });
    const trained = p.step(
      trainClassifier,
      {
        train: split.train,
        transform: features.transform,
        label: 'class',
        positiveClass: 'bad',
        architecture: 'logistic',
        epochs: params.epochs,
        learningRate: 0.05,
        batchSize: 1024,
        l2: 0.001,
        seed: 7,
      },
      { id: 'train' },
    );
    const heldOut = p.step(evaluateClassifier, { model: trained.model, dataset: split.test }, { id: 'evaluate' });
    const fairness = p.step(
      evaluateFairness,
      {
        model: trained.model,
        dataset: split.test,
        sensitive: {
          column: 'personal_status',
          match: [
            { pattern: '^female', group: 'female' },
            { pattern: '^male', group: 'male' },
          ],
        },
        gates: [{ metric: 'demographic_parity_ratio', min: 0.8 }],
      },
      { id: 'fairness' },
    );
    const robustness = p.step(
      evaluateRobustness,
      { model: trained.model, dataset: split.test, seed: 7, gates: [{ metric: 'noise_flip_rate', max: 0.05 }] },
      { id: 'robustness' },
    );
    const champion = p.step(
      validateChampion,
      { model: trained.model, dataset: split.test, registeredName: 'credit-release', margin: 0.05 },
      { id: 'champion' },
    );
    const registered = p.step(
      registerModel,
      { name: 'credit-release', model: trained.model, metrics: heldOut.metrics, report: heldOut.report },
      { id: 'register' },
    );
    const decision = p.approval('release', {
      show: {
        rocAuc: heldOut.metrics.rocAuc,
        parity: fairness.metrics.demographicParityRatio,
        flips: robustness.metrics.noiseFlipRate,
        champion: champion.message,
      },
      after: [registered.version],
    });
    const moved = p.step(
      setAlias,
      { name: 'credit-release', version: registered.version, alias: 'production', approval: decision },
      { id: 'promote' },
    );
    return {
      version: registered.version,
      alias: moved.alias,
      by: moved.by,
      champion: champion.message,
      parity: fairness.metrics.demographicParityRatio,
    };
  },
);

// On both backends: approvals and alias moves are what the store must get right on each.
for (const backend of testBackends())
  describe(`a release pipeline with an approval gate on ${backend.name}`, () => {
    const env = recordingEngine(backend, builtinSteps, approverAndViewer);

    it("validates, registers and, on an approver's word, promotes the model to production as that approver", async () => {
      const handle = await env.kiln.start(release);
      await approveWhenWaiting(handle, 'alice', { store: env.store, timeoutMs: 120_000 });
      const result = await handle.result();
      const output = result.output as { version: number; alias: string; by: string; champion: string; parity: number };
      assert.equal(output.version, 1);
      assert.equal(output.by, 'alice');
      assert.match(output.champion, /no version of 'credit-release' holds the alias 'production' yet/);
      assert.ok(output.parity >= 0.8);
      const production = await env.store.registry.getModelVersion(SYSTEM, 'credit-release', 'production');
      assert.equal(production.version, 1);
      assert.equal(production.runId, handle.workflowId);
      assert.deepEqual(
        (await env.store.registry.aliasHistory(SYSTEM, 'credit-release', 'production')).map((m) => m.actor),
        ['alice'],
      );
    });

    it("refuses an approval not on record (a viewer's, sent straight to the run): the gate waits on, production stays, audited", async () => {
      const handle = await env.kiln.start(release, { epochs: 60 });
      await approveWhenWaiting(handle, 'victor', { timeoutMs: 120_000 });
      const refused = async () =>
        (
          await env.store.audit.listAudit(SYSTEM, {
            action: 'access.denied',
            subject: `run:${handle.workflowId}#release`,
          })
        ).some((e) => e.actor === 'victor');
      for (let i = 0; i < 50 && !(await refused()); i++) await new Promise((r) => setTimeout(r, 100));
      assert.ok(await refused(), 'the refusal is audited');
      const status = await handle.query(statusQuery);
      assert.equal(status.nodes.find((n) => n.id === 'champion')?.status, 'succeeded');
      assert.equal(status.nodes.find((n) => n.id === 'release')?.status, 'waiting');
      assert.equal(status.nodes.find((n) => n.id === 'promote')?.status, 'pending');
      assert.equal((await env.store.registry.getModelVersion(SYSTEM, 'credit-release', 'production')).version, 1);
      await handle.cancel();
      await assert.rejects(handle.result(), WorkflowFailedError);
    });
  });
